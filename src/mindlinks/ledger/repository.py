"""Every query of the journal. Reads stream; the only write is INSERT."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import DateTime, Table, and_, func, insert, or_, select, text, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.ledger.models import LedgerEntry, LedgerTile
from mindlinks.platform.bulk import insert_columns, is_postgres
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import Conflict

# Rows fetched per round trip when streaming the chain: large enough that the driver and the
# ORM layer cost little per row, small enough that memory stays flat (~a few MB).
STREAM_CHUNK = 10_000

# pg_advisory_xact_lock key of the chain head: the first 8 bytes of SHA-256("mindlinks.ledger")
# as a signed 64-bit integer, so it cannot collide with another domain's small integer keys.
CHAIN_LOCK_KEY = -189059367601570645

_table = cast(Table, LedgerEntry.__table__)
_t = _table.c
_tiles = cast(Table, LedgerTile.__table__)
_tt = _tiles.c


class JournalBroken(Conflict):
    """The journal was tampered with (a missing, edited or re-chained entry): nothing read
    from it is served. 409 `ledger_broken` (docs/ledger.md §4)."""

    code, title = "ledger_broken", "The journal is broken"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or "The journal is broken; run `mindlinks ledger verify`")


class JournalGap(JournalBroken):
    """An entry is missing where the journal must be complete."""

    def __init__(self) -> None:
        super().__init__("The journal has a gap; run `mindlinks ledger verify`")


async def lock_chain(session: AsyncSession) -> None:
    """Serialise appenders until the end of the caller's transaction.

    PostgreSQL: a transaction-scoped advisory lock; the head is read after it is granted, and
    under READ COMMITTED that read sees the previous appender's committed row. SQLite: our
    engine opens every transaction with BEGIN IMMEDIATE, so the connection already holds the
    database's single write lock and nothing else can append.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK_KEY)))


async def head(session: AsyncSession) -> tuple[int, bytes] | None:
    """(seq, entry_hash) of the last entry, or None for an empty journal."""
    row = (
        await session.execute(select(_t.seq, _t.entry_hash).order_by(_t.seq.desc()).limit(1))
    ).first()
    return (int(row[0]), bytes(row[1])) if row else None


# Column order of the tuples `insert_rows` takes.
INSERT_COLUMNS = (
    "seq",
    "entry_type",
    "entity_type",
    "entity_id",
    "payload",
    "payload_hash",
    "prev_hash",
    "entry_hash",
    "recorded_at",
)


@lru_cache(maxsize=8)
def _insert_sql(paramstyle: str) -> str:
    n = len(INSERT_COLUMNS)
    if paramstyle == "numeric_dollar":  # asyncpg
        marks = [f"${i}" for i in range(1, n + 1)]
    elif paramstyle in ("qmark", "format"):  # sqlite3/aiosqlite; psycopg
        marks = ["?" if paramstyle == "qmark" else "%s"] * n
    else:
        raise NotImplementedError(f"journal insert: paramstyle {paramstyle!r}")
    # Built from constants only (column names and placeholders): nothing user-supplied.
    columns = ", ".join(INSERT_COLUMNS)
    return f"INSERT INTO ledger_entries ({columns}) VALUES ({', '.join(marks)})"  # noqa: S608


async def insert_rows(
    session: AsyncSession, rows: Sequence[tuple[Any, ...]], recorded_at: datetime
) -> None:
    """INSERT entries (tuples in INSERT_COLUMNS order, all stamped `recorded_at`) in one
    executemany straight to the driver.

    This is the journal's hot path: SQLAlchemy's per-row parameter processing cost more than
    the insert itself. The one typed value, `recorded_at`, is converted once per batch by the
    column type's own bind processor, so what is stored is exactly what the ORM would store.
    """
    if is_postgres(session):
        # One unnest statement, not one execution per entry (the payroll journals 2 a row).
        columns = [list(values) for values in zip(*rows, strict=True)]
        await insert_columns(session, _table, INSERT_COLUMNS,
                             [*columns, [recorded_at] * len(rows)])
        return
    conn = await session.connection()
    dialect = conn.dialect
    column_type = _table.c.recorded_at.type
    # dialect_impl: the dialect's own DATETIME (SQLite stores a string) under UTCDateTime.
    to_db = column_type.dialect_impl(dialect).bind_processor(dialect)
    stamp = to_db(recorded_at) if to_db else recorded_at
    await conn.exec_driver_sql(
        _insert_sql(str(dialect.paramstyle)), [(*row, stamp) for row in rows]
    )


async def get(session: AsyncSession, seq: int) -> LedgerEntry | None:
    return await session.get(LedgerEntry, seq)


async def entry_at(session: AsyncSession, seq: int) -> tuple[bytes, datetime] | None:
    """(entry_hash, recorded_at) of entry `seq`."""
    row = (
        await session.execute(select(_t.entry_hash, _t.recorded_at).where(_t.seq == seq))
    ).first()
    return (bytes(row[0]), row[1]) if row else None


async def links(session: AsyncSession, seqs: Sequence[int]) -> dict[int, tuple[bytes, bytes]]:
    """(prev_hash, entry_hash) of the entries among `seqs` that exist, by seq."""
    if not seqs:
        return {}
    rows = await session.execute(
        select(_t.seq, _t.prev_hash, _t.entry_hash).where(_t.seq.in_(sorted(set(seqs))))
    )
    return {int(s): (bytes(p), bytes(e)) for s, p, e in rows.all()}


async def entity_entries(
    session: AsyncSession, entity_type: str, entity_id: str, *, limit: int
) -> list[LedgerEntry]:
    """The first `limit` entries of one entity, in journal order."""
    stmt = (
        select(LedgerEntry)
        .where(_t.entity_type == entity_type, _t.entity_id == entity_id)
        .order_by(_t.seq)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def entities_entries(
    session: AsyncSession, entity_type: str, entity_ids: Sequence[str], *, entry_type: str
) -> list[LedgerEntry]:
    """Entries of type `entry_type` about any of `entity_ids`, in journal order."""
    if not entity_ids:
        return []
    stmt = (
        select(LedgerEntry)
        .where(
            _t.entity_type == entity_type,
            _t.entity_id.in_(sorted(set(entity_ids))),
            _t.entry_type == entry_type,
        )
        .order_by(_t.seq)
    )
    return list((await session.execute(stmt)).scalars())


async def entity_history(
    session: AsyncSession, entity_type: str, entity_id: str, *, offset: int, limit: int
) -> tuple[list[LedgerEntry], int]:
    where = (_t.entity_type == entity_type, _t.entity_id == entity_id)
    total = (
        await session.execute(select(func.count()).select_from(LedgerEntry).where(*where))
    ).scalar_one()
    rows = (
        await session.execute(
            select(LedgerEntry).where(*where).order_by(_t.seq).offset(offset).limit(limit)
        )
    ).scalars()
    return list(rows), int(total)


async def entry_hashes(session: AsyncSession, first_seq: int, last_seq: int) -> list[bytes]:
    """Entry hashes for seq in [first_seq, last_seq], in order, in one plain read (a short
    range such as one tile: no server-side cursor, so no transaction is needed)."""
    rows = await session.execute(
        select(_t.entry_hash).where(_t.seq >= first_seq, _t.seq <= last_seq).order_by(_t.seq)
    )
    return [bytes(h) for (h,) in rows.all()]


async def stream_entry_hashes(
    session: AsyncSession, first_seq: int, last_seq: int
) -> AsyncIterator[Sequence[Any]]:
    """Chunks of `(entry_hash,)` rows for seq in [first_seq, last_seq], in order."""
    stmt = (
        select(_t.entry_hash)
        .where(_t.seq >= first_seq, _t.seq <= last_seq)
        .order_by(_t.seq)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    result = await session.stream(stmt)
    async for chunk in result.partitions():
        yield chunk


async def stream_chain(session: AsyncSession) -> AsyncIterator[Sequence[Any]]:
    """Chunks of every entry's hashed fields, in seq order, through a server-side cursor."""
    stmt = (
        select(
            _t.seq,
            _t.entry_type,
            _t.payload,
            _t.payload_hash,
            _t.prev_hash,
            _t.entry_hash,
            # Plain DateTime: skips UTCDateTime's per-row tz handling in this hot path; the
            # verifier treats a naive value (SQLite) as UTC, which is what was stored.
            type_coerce(_t.recorded_at, DateTime()).label("recorded_at"),
        )
        .order_by(_t.seq)
        .execution_options(yield_per=STREAM_CHUNK)
    )
    result = await session.stream(stmt)
    async for chunk in result.partitions():
        yield chunk


async def count(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT count(*) FROM ledger_entries"))).scalar_one())


# --- tiles (stored Merkle nodes) -----------------------------------------------------------


async def tiles(
    session: AsyncSession, keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """Stored tiles among `keys` ((height, position) pairs), by key."""
    if not keys:
        return {}
    stmt = select(_tt.height, _tt.position, _tt.node_hash).where(
        or_(*(and_(_tt.height == h, _tt.position == p) for h, p in keys))
    )
    return {(int(h), int(p)): bytes(x) for h, p, x in (await session.execute(stmt)).all()}


async def tiles_ending_in(
    session: AsyncSession, first_leaf: int, last_leaf: int
) -> dict[tuple[int, int], bytes]:
    """Tiles whose subtree completes at a leaf count in [first_leaf, last_leaf]."""
    stmt = select(_tt.height, _tt.position, _tt.node_hash).where(
        _tt.end_leaf >= first_leaf, _tt.end_leaf <= last_leaf
    )
    return {(int(h), int(p)): bytes(x) for h, p, x in (await session.execute(stmt)).all()}


async def insert_tiles(session: AsyncSession, rows: Sequence[tuple[int, int, int, bytes]]) -> None:
    now = utcnow()
    await session.execute(
        insert(_tiles),
        [
            {
                "height": h,
                "position": p,
                "end_leaf": e,
                "node_hash": x,
                "created_at": now,
                "updated_at": now,
            }
            for h, p, e, x in rows
        ],
    )
