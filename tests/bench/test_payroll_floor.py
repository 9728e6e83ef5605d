"""The payroll bench's floors (`bench/payroll_bench.py`, `bench/row_floor.py`).

The "same rows" floor is only as honest as its count of the rows a run writes: these tests
pin that count, table by table, for a small payroll, and check that a locked but unchanged
row is not counted while an UPDATE that keeps the same values is (it writes a row version).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text

from bench import payroll_bench, row_floor
from mindlinks.app import load_subscribers
from mindlinks.payments import payroll
from mindlinks.payments.payroll_models import PayrollItem
from mindlinks.platform import events
from mindlinks.platform.db import Database, create_engine

pytestmark = pytest.mark.usefixtures("db_backend")

N, TODAY = 4, date(2026, 6, 1)


async def test_bench_payroll_pays_every_seeded_contractor_once(database_url: str):
    engine = create_engine(database_url, pool=False)
    db = Database(database_url)
    try:
        await payroll_bench._seed_payroll(engine, N, TODAY)
        assert await payroll_bench._item_transfer_floor(engine, N) > 0
        async with db.session() as s:  # the item+transfer floor was rolled back
            assert await s.scalar(select(func.count()).select_from(PayrollItem)) == 0
        assert (await payroll.run(db, TODAY))["paid"] == N
        assert (await payroll.run(db, TODAY))["paid"] == 0
    finally:
        await db.dispose()
        await engine.dispose()


async def test_same_rows_floor_counts_exactly_the_rows_a_payroll_writes(
        database_url: str, db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("the same-rows floor finds written rows by their xmin: PostgreSQL only")
    load_subscribers()  # as `payroll_bench._fresh` does
    engine = create_engine(database_url, pool=False)
    db = Database(database_url)
    try:
        await payroll_bench._seed_payroll(engine, N, TODAY)
        await row_floor.snapshot(engine)
        assert await row_floor.changes(engine) == {}
        await payroll.run(db, TODAY)
        written = await row_floor.changes(engine)
        counts = {t: (c.inserted, c.updated, c.deleted) for t, c in written.items()}
        # The journal's Merkle tiles: one per full tile, none yet for a few entries.
        assert counts.pop("ledger_tiles", (0, 0, 0))[1:] == (0, 0)
        # One delivery per subscriber of each event, written in the run's transaction (the
        # bench, like the app, loads every domain's subscribers).
        per_item = sum(len(events.subscribers_of(name))
                       for name in ("invoice.paid", "payment.received"))
        assert per_item > 0
        assert counts.pop("platform_event_deliveries") == (N * per_item, 0, 0)
        assert counts == {
            "payment_payrolls": (1, 0, 0),
            "payment_payroll_items": (N, 0, 0),  # inserted, then updated: one final row each
            "payment_transfers": (N, N, 0),  # the posts; the pending holds they settle
            "payment_accounts": (0, N + 1, 0),  # the wallets and the client's escrow
            "payment_invoice_holds": (0, N, 0),
            "payment_invoices": (0, N, 0),
            "ledger_entries": (2 * N, 0, 0),
            "platform_outbox_events": (2 * N, 0, 0),
            "audit_logs": (N, 0, 0),
        }
        elapsed, _, copied = await row_floor.copy_floor(engine, sorted(written))
        assert elapsed > 0 and copied == sum(c.written for c in written.values())

        # A row locked but not changed is not written; an UPDATE to the same values is.
        await row_floor.snapshot(engine)
        async with engine.begin() as conn:
            ids: list[Any] = (await conn.execute(text(
                "SELECT id FROM payment_invoices ORDER BY id LIMIT 2 FOR UPDATE"))).scalars().all()
            await conn.execute(text("UPDATE payment_invoices SET status = status WHERE id = :i"),
                               {"i": ids[1]})
        assert {t: (c.inserted, c.updated) for t, c in (await row_floor.changes(engine)).items()
                } == {"payment_invoices": (0, 1)}
    finally:
        await row_floor.drop(engine)
        await db.dispose()
        await engine.dispose()
