"""Shared set-up for the journal tests: filling a journal, and tampering with it in raw SQL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text, update

from mindlinks.ledger import service
from mindlinks.platform.db import Database


def payload(i: int) -> dict[str, Any]:
    return {"amountMinor": 1000 + i, "currency": "USD", "n": i, "ref": f"pay-{i}"}


async def fill(database: Database, n: int, *, batch: int = 1000, entity: str = "payment") -> None:
    """Append n entries (seq 1..n), `batch` per transaction."""
    done = 0
    while done < n:
        size = min(batch, n - done)
        async with database.session() as session:
            await service.append_many(
                session,
                [
                    service.NewEntry(
                        "payment_event", entity, f"{entity}-{(done + i) % 7}", payload(done + i + 1)
                    )
                    for i in range(size)
                ],
            )
        done += size


async def tamper(database: Database, *statements: str, **params: Any) -> None:
    """Run raw SQL with the journal's immutability triggers out of the way.

    PostgreSQL: `session_replication_role = replica` for this transaction only (a superuser's
    move; the triggers stay installed for the next test). SQLite: the triggers are dropped
    (each test has its own database file).
    """
    async with database.engine.begin() as conn:
        if database.is_sqlite:
            for table in ("ledger_entries", "ledger_tiles"):
                await conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                await conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
        else:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            await conn.execute(text(statement), params)


async def tamper_row(database: Database, seq: int, **values: Any) -> None:
    """Change columns of one entry through the typed table (datetimes stored as the app would)."""
    from mindlinks.ledger.models import LedgerEntry

    t = LedgerEntry.__table__
    async with database.engine.begin() as conn:
        if database.is_sqlite:
            await conn.execute(text("DROP TRIGGER IF EXISTS ledger_entries_no_update"))
        else:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(update(t).where(t.c.seq == seq).values(**values))


async def verify(database: Database, against: service.Digest | None = None) -> service.ChainReport:
    async with database.session() as session:
        return await service.verify_chain(session, against=against)


async def digest(database: Database, seq: int | None = None) -> service.Digest:
    async with database.session() as session:
        return await service.digest(session, seq)


def new_id() -> str:
    return str(uuid.uuid4())
