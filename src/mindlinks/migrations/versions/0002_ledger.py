"""Ledger: the append-only, hash-chained journal, its stored Merkle tiles, and the triggers
that keep both append-only.

Revision ID: 0002_ledger
Revises: 0001_foundation
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import mindlinks.platform.db

revision: str = "0002_ledger"
down_revision: str | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_entries_reject_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""

TABLES = ("ledger_entries", "ledger_tiles")

_PG_TRIGGERS = [_PG_FUNCTION] + [
    statement
    for table in TABLES
    for statement in (
        f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_entries_reject_change()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_reject_change()",
    )
]

_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op_name} refused'); END"
    for table in TABLES
    for op_name in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("entry_type", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("recorded_at", mindlinks.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_ledger_entries")),
    )
    op.create_index(
        "ix_ledger_entries_entity",
        "ledger_entries",
        ["entity_type", "entity_id", "seq"],
        unique=False,
    )
    op.create_table(
        "ledger_tiles",
        sa.Column("height", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("end_leaf", sa.BigInteger(), nullable=False),
        sa.Column("node_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", mindlinks.platform.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", mindlinks.platform.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("height", "position", name=op.f("pk_ledger_tiles")),
    )
    op.create_index(
        op.f("ix_ledger_tiles_end_leaf"), "ledger_tiles", ["end_leaf"], unique=False
    )
    dialect = op.get_bind().dialect.name
    statements = _PG_TRIGGERS if dialect == "postgresql" else _SQLITE_TRIGGERS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS ledger_entries_reject_change()")
    op.drop_index(op.f("ix_ledger_tiles_end_leaf"), table_name="ledger_tiles")
    op.drop_table("ledger_tiles")
    op.drop_index("ix_ledger_entries_entity", table_name="ledger_entries")
    op.drop_table("ledger_entries")
