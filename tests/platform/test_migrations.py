"""The migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from mindlinks.migrations import runner
from mindlinks.models import load_all


async def test_migrations_match_models(database):
    metadata = load_all().metadata

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)

    async with database.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_every_head_is_applied(database):
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(runner.alembic_config()).get_heads())

    def applied(connection):
        return set(MigrationContext.configure(connection).get_current_heads())

    async with database.engine.connect() as conn:
        assert await conn.run_sync(applied) == heads


# Append-only tables are never updated: `recorded_at` is their only timestamp.
APPEND_ONLY = {"ledger_entries"}


async def test_every_table_has_timestamps():
    for table in load_all().metadata.sorted_tables:
        if table.name in APPEND_ONLY:
            assert "recorded_at" in table.columns, table.name
            continue
        assert {"created_at", "updated_at"} <= set(table.columns.keys()), table.name
