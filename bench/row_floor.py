"""A bulk-load floor of the very rows a measured run wrote (PostgreSQL only).

`snapshot` records every table's primary keys and row versions (`xmin`) before the run;
after it, `changes` tells per table which rows the run inserted (a key the snapshot lacks),
which it updated (same key, another `xmin`: an UPDATE writes a new row version; a
`SELECT ... FOR UPDATE` does not) and which it deleted. `copy_floor` then loads those rows -
same values, same ids, the final version of an updated row - with `COPY` (asyncpg
`copy_records_to_table`) into empty copies of their tables in a scratch schema, made by
`CREATE TABLE ... (LIKE ... INCLUDING ALL)`: the same columns, defaults, CHECK/NOT NULL
constraints, primary keys, unique and other indexes. Not copied: foreign keys and triggers
(the real tables' are update/delete guards), so the floor skips their checks - cheaper, which
is conservative for a lower bound. Only the COPYs are timed; the load is rolled back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

SNAP, FLOOR = "bench_snap", "bench_floor"


@dataclass
class Change:
    inserted: int
    updated: int
    deleted: int

    @property
    def written(self) -> int:
        return self.inserted + self.updated


async def _connect(engine: Any) -> Any:
    import asyncpg

    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    return await asyncpg.connect(url)


async def _tables(conn: Any) -> dict[str, list[str]]:
    """Every table of `public` with its primary key's columns (every table here has one)."""
    rows = await conn.fetch("""
        SELECT c.relname, array_agg(a.attname ORDER BY k.ord) AS pk
        FROM pg_constraint p
        JOIN pg_class c ON c.oid = p.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
        WHERE n.nspname = 'public' AND p.contype = 'p' AND c.relname <> 'alembic_version'
        GROUP BY c.relname ORDER BY c.relname""")
    return {r["relname"]: list(r["pk"]) for r in rows}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def snapshot(engine: Any) -> None:
    """Keys and row versions of every table, kept in the scratch schema `bench_snap`."""
    conn = await _connect(engine)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SNAP} CASCADE; CREATE SCHEMA {SNAP}")
        for table, pk in (await _tables(conn)).items():
            keys = ", ".join(_q(c) for c in pk)
            await conn.execute(f"CREATE TABLE {SNAP}.{_q(table)} AS SELECT {keys}, "
                               f"xmin::text::bigint AS row_xmin FROM public.{_q(table)}")
    finally:
        await conn.close()


def _written_sql(table: str, pk: list[str]) -> str:
    """The rows of `table` the run inserted or updated, as they are now."""
    on = " AND ".join(f"s.{_q(c)} = t.{_q(c)}" for c in pk)
    return (f"SELECT t.* FROM public.{_q(table)} t LEFT JOIN {SNAP}.{_q(table)} s ON {on} "
            f"WHERE s.row_xmin IS NULL OR s.row_xmin <> t.xmin::text::bigint")


async def changes(engine: Any) -> dict[str, Change]:
    """Per table, the rows inserted, updated and deleted since `snapshot` (changed tables only)."""
    conn = await _connect(engine)
    try:
        found = {}
        for table, pk in (await _tables(conn)).items():
            on = " AND ".join(f"s.{_q(c)} = t.{_q(c)}" for c in pk)
            row = await conn.fetchrow(f"""
                SELECT count(*) FILTER (WHERE s.row_xmin IS NULL) AS inserted,
                       count(*) FILTER (WHERE t.{_q(pk[0])} IS NULL) AS deleted,
                       count(*) FILTER (WHERE s.row_xmin <> t.x) AS updated
                FROM (SELECT *, xmin::text::bigint AS x FROM public.{_q(table)}) t
                FULL JOIN {SNAP}.{_q(table)} s ON {on}
                WHERE s.row_xmin IS NULL OR t.{_q(pk[0])} IS NULL
                   OR s.row_xmin <> t.x""")
            change = Change(row["inserted"], row["updated"], row["deleted"])
            if change.written or change.deleted:
                found[table] = change
        return found
    finally:
        await conn.close()


async def copy_floor(engine: Any, tables: list[str]) -> tuple[float, float, int]:
    """Seconds to COPY the rows written since `snapshot` into empty copies of `tables`, the
    part of them this process spent on its CPU (asyncpg encoding the records), rows copied."""
    conn = await _connect(engine)
    try:
        keys = await _tables(conn)
        await conn.execute(f"DROP SCHEMA IF EXISTS {FLOOR} CASCADE; CREATE SCHEMA {FLOOR}")
        for table in tables:
            await conn.execute(f"CREATE TABLE {FLOOR}.{_q(table)} "
                               f"(LIKE public.{_q(table)} INCLUDING ALL)")
        elapsed = cpu = 0.0
        copied = 0
        tx = conn.transaction()
        await tx.start()
        try:
            for table in tables:
                rows = await conn.fetch(_written_sql(table, keys[table]))
                if not rows:
                    continue
                started, cpu_started = time.perf_counter(), time.process_time()
                status = await conn.copy_records_to_table(
                    table, schema_name=FLOOR, columns=list(rows[0].keys()), records=rows)
                elapsed += time.perf_counter() - started
                cpu += time.process_time() - cpu_started
                assert status == f"COPY {len(rows)}", (table, status, len(rows))
                copied += len(rows)
                del rows
        finally:
            await tx.rollback()
        return elapsed, cpu, copied
    finally:
        await conn.close()


async def drop(engine: Any) -> None:
    conn = await _connect(engine)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SNAP} CASCADE; "
                           f"DROP SCHEMA IF EXISTS {FLOOR} CASCADE")
    finally:
        await conn.close()
