"""Payroll and earnings benchmark (issue 13 §4).

- Payroll: `payments.payroll.run` over N contractors, each with one issued invoice whose hold
  is placed (rows inserted directly: users, profiles, invoices, holds, the book's accounts and
  pending transfers). Each item: lock, checks, `invoices.mark_paid` (journal, event), the post
  (journal), `payment.received`. Two floors, in the same run:
  * the item+transfer floor (before the run): a bulk INSERT (executemany, 5,000 a statement)
    of one payroll item and one transfer per contractor, rolled back - 2 rows per item;
  * the same-rows floor (PostgreSQL only, after the run, `bench/row_floor.py`): the rows the
    run actually wrote, found per table by comparing primary keys and `xmin` with a snapshot
    taken before it (inserted rows, and the final version of updated ones: ~11 per item),
    COPYed (asyncpg `copy_records_to_table`) into empty `LIKE ... INCLUDING ALL` copies of
    their tables (same columns, defaults, checks, keys and indexes; no foreign keys or
    triggers - cheaper, so still a lower bound), only the COPYs timed, rolled back. It is
    measured after the run because the rows exist only then; it loads other tables, so the
    run gained nothing from it. Both ratios and the rows per table are printed.
  Every id, seeded or of the floors, comes from `platform.db.new_id` (UUIDv7), as the
  platform mints them. Issue goal: 100,000 contractors in <= 10 s, ratio floor/ours >= 0.25
  against "a bulk INSERT floor of the same rows": the same-rows floor.
- Earnings: `payments.earnings.earnings(period="all")` over M posted transfers into one wallet
  (spread over 24 months and 50 contracts) against a bare `GROUP BY month` over the same
  transfers in the same run (both group by `earnings._month`), alternated, medians.
  Issue goal: 1,000,000 transfers, ratio bare/ours >= 0.5.

Environment:
  MINDLINKS_BENCH_PAYROLL_N       contractors (default 200)
  MINDLINKS_BENCH_EARNINGS_M      transfers (default 100,000)
  MINDLINKS_BENCH_RUNS            earnings: runs of each side, alternated (default 3)
  MINDLINKS_BENCH_DATABASE_URL    a PostgreSQL URL (its `public` schema is DROPPED and
                                  recreated); default: a temporary SQLite file
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from mindlinks.platform.db import new_id

PAYROLL_N = int(os.environ.get("MINDLINKS_BENCH_PAYROLL_N", "200"))
EARNINGS_M = int(os.environ.get("MINDLINKS_BENCH_EARNINGS_M", "100000"))
RUNS = int(os.environ.get("MINDLINKS_BENCH_RUNS", "3"))
CHUNK = 5000
AMOUNT = 500_000


async def _chunks(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    for i in range(0, len(rows), CHUNK):
        await conn.execute(insert(table), rows[i:i + CHUNK])


async def _fresh(url: str) -> Any:
    from sqlalchemy import text

    from mindlinks.app import freeze_startup_objects, load_subscribers
    from mindlinks.migrations import runner
    from mindlinks.models import load_all
    from mindlinks.platform.db import create_engine

    load_all()
    # The domains' event subscribers, as a serving process has them: each event the payroll
    # emits is written with one delivery row per subscriber, in the run's transaction.
    load_subscribers()
    # As the worker that runs the payroll job ends its start-up (`mindlinks worker`, `jobs
    # run`): without it every full collection during the run scans the >200k objects the
    # imports built (~35 % of the run's client CPU at 10k-20k items).
    freeze_startup_objects()
    engine = create_engine(url, pool=False)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await runner.upgrade(engine, "heads")
    return engine


def _account(owner_type: str, owner: uuid.UUID, purpose: str, now: datetime,
             **sums: int) -> dict[str, Any]:
    return {"id": new_id(), "owner_type": owner_type, "owner_id": owner, "purpose": purpose,
            "currency": "USD", "may_go_negative": purpose == "processor_clearing",
            "debits_pending": 0, "debits_posted": 0, "credits_pending": 0, "credits_posted": 0,
            "created_at": now, "updated_at": now, **sums}


async def _seed_payroll(engine: Any, n: int, today: date) -> uuid.UUID:
    from mindlinks.auth.models import User
    from mindlinks.contractors.models import ContractorProfile
    from mindlinks.invoices.models import Invoice
    from mindlinks.payments.models import PLATFORM_OWNER, Account, Transfer
    from mindlinks.payments.payroll_models import InvoiceHold

    now = datetime.now(UTC)
    client_id, client_user = new_id(), new_id()
    total = n * AMOUNT
    world = _account("platform", PLATFORM_OWNER, "processor_clearing", now, debits_posted=total)
    escrow = _account("client", client_id, "client_escrow", now, credits_posted=total,
                      debits_pending=total)
    users, profiles, invoices, holds, wallets, transfers = [], [], [], [], [], []
    for i in range(n):
        user, contractor, invoice = new_id(), new_id(), new_id()
        users.append({"id": user, "email": f"c{i}@bench.example", "password_hash": "x",
                      "role": "contractor", "status": "active", "email_verified": True,
                      "mfa_enabled": False, "created_at": now, "updated_at": now})
        profiles.append({"id": contractor, "user_id": user, "email": f"c{i}@bench.example",
                         "kyc_status": "verified", "status": "active", "created_at": now,
                         "updated_at": now})
        invoices.append({
            "id": invoice, "source_key": f"bench:{i}", "contract_id": contractor,
            "contractor_id": contractor, "contractor_user_id": user, "client_id": client_id,
            "client_user_id": client_user, "client_name": "Acme", "contractor_name": "Ada",
            "contract_title": "Work", "invoice_number": f"INV-2026-{i:06d}",
            "amount_minor": AMOUNT, "currency": "USD", "status": "sent", "net_terms_days": 14,
            "issue_date": today - timedelta(days=14), "due_date": today, "issued_at": now,
            "created_at": now, "updated_at": now})
        wallet = _account("contractor", contractor, "contractor_wallet", now,
                          credits_pending=AMOUNT)
        wallets.append(wallet)
        reference = f"hold:invoice:{invoice}"
        transfers.append({
            "id": new_id(), "reference": reference, "code": "invoice_hold",
            "kind": "pending", "debit_account_id": escrow["id"],
            "credit_account_id": wallet["id"], "amount": AMOUNT, "currency": "USD",
            "pending_id": None, "status": "pending", "expires_at": None, "created_at": now,
            "updated_at": now})
        holds.append({
            "id": new_id(), "invoice_id": invoice, "invoice_number": f"INV-2026-{i:06d}",
            "client_id": client_id, "client_user_id": client_user, "client_name": "Acme",
            "contract_id": contractor, "contractor_id": contractor, "contractor_user_id": user,
            "amount": AMOUNT, "currency": "USD", "issue_date": today - timedelta(days=14),
            "due_date": today, "period_end": None, "issued_at": now, "status": "held",
            "reference": reference, "created_at": now, "updated_at": now})
    users.append({"id": client_user, "email": "client@bench.example", "password_hash": "x",
                  "role": "client", "status": "active", "email_verified": True,
                  "mfa_enabled": False, "created_at": now, "updated_at": now})
    async with engine.begin() as conn:
        for table, rows in ((User, users), (ContractorProfile, profiles), (Invoice, invoices),
                            (Account, [world, escrow, *wallets]), (Transfer, transfers),
                            (InvoiceHold, holds)):
            await _chunks(conn, table, rows)
    return client_id


async def _item_transfer_floor(engine: Any, n: int) -> float:
    """The item+transfer floor: an item and a transfer per contractor, bulk inserted (the first
    floor; kept so its ratio stays comparable with the earlier passes)."""
    from sqlalchemy import select

    from mindlinks.payments.models import Account, Transfer
    from mindlinks.payments.payroll_models import PayrollItem

    now = datetime.now(UTC)
    async with engine.connect() as conn:
        ids = (await conn.execute(select(Account.id).limit(2))).scalars().all()
        await conn.rollback()
        payroll = new_id()
        items = [{"id": new_id(), "payroll_id": payroll, "contractor_id": new_id(),
                  "contract_id": new_id(), "invoice_id": new_id(), "amount": AMOUNT,
                  "currency": "USD", "status": "paid", "created_at": now, "updated_at": now}
                 for _ in range(n)]
        transfers = [{"id": new_id(), "reference": f"floor:{i}", "code": "invoice_hold",
                      "kind": "single", "debit_account_id": ids[0], "credit_account_id": ids[1],
                      "amount": AMOUNT, "currency": "USD", "pending_id": None,
                      "status": "posted", "expires_at": None, "created_at": now,
                      "updated_at": now} for i in range(n)]
        started = time.perf_counter()
        async with conn.begin() as tx:
            await _chunks(conn, PayrollItem, items)
            await _chunks(conn, Transfer, transfers)
            elapsed = time.perf_counter() - started
            await tx.rollback()
    return elapsed


async def _payroll(url: str) -> None:
    from sqlalchemy import func, select

    from bench import row_floor
    from mindlinks.payments import payroll
    from mindlinks.payments.payroll_models import PayrollItem
    from mindlinks.platform.db import Database

    engine = await _fresh(url)
    today = date(2026, 6, 1)
    await _seed_payroll(engine, PAYROLL_N, today)
    two_rows = await _item_transfer_floor(engine, PAYROLL_N)
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        await row_floor.snapshot(engine)
    db = Database(url)
    started, cpu = time.perf_counter(), time.process_time()
    report = await payroll.run(db, today)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    if postgres:  # before the replay below, which must write nothing anyway
        written = await row_floor.changes(engine)
        same_rows, copy_cpu, copied = await row_floor.copy_floor(engine, sorted(written))
        await row_floor.drop(engine)
    again = await payroll.run(db, today)
    async with db.session() as s:
        paid = await s.scalar(select(func.count()).select_from(PayrollItem)
                              .where(PayrollItem.status == "paid"))
    await db.dispose()
    await engine.dispose()
    assert report["paid"] == PAYROLL_N == paid and again["paid"] == 0, (report, again, paid)
    print(f"payroll ({engine.dialect.name}): {PAYROLL_N} contractors paid in {elapsed:.2f} s "
          f"= {PAYROLL_N / elapsed:,.0f} items/s (goal: 100k in <= 10 s); client CPU {cpu:.2f} s")
    print(f"  item+transfer floor (executemany, {CHUNK:,} rows a statement, "
          f"{2 * PAYROLL_N:,} rows): {two_rows:.2f} s; ratio floor/ours "
          f"{two_rows / elapsed:.3f}")
    if not postgres:
        print("  same-rows floor: PostgreSQL only (it finds the rows written by their xmin)")
        return
    inserted = sum(c.inserted for c in written.values())
    updated = sum(c.updated for c in written.values())
    assert copied == inserted + updated, (copied, inserted, updated)
    print(f"  same-rows floor (COPY, asyncpg copy_records_to_table, {inserted:,} inserted + "
          f"{updated:,} updated = {inserted + updated:,} rows, "
          f"{(inserted + updated) / PAYROLL_N:.1f} per item): {same_rows:.2f} s "
          f"(client CPU {copy_cpu:.2f} s); "
          f"ratio floor/ours {same_rows / elapsed:.3f} (goal >= 0.25)")
    for table, c in sorted(written.items(), key=lambda kv: -kv[1].written):
        deleted = f", {c.deleted:,} deleted (not in the floor)" if c.deleted else ""
        print(f"    {table:<34} {c.inserted:>9,} inserted {c.updated:>9,} updated{deleted}")


async def _earnings(url: str) -> None:
    from sqlalchemy import func, select

    from mindlinks.auth.models import User
    from mindlinks.contractors.models import ContractorProfile
    from mindlinks.payments import earnings
    from mindlinks.payments.models import PLATFORM_OWNER, Account, Transfer
    from mindlinks.payments.payroll_models import InvoiceHold, PayrollItem
    from mindlinks.platform.db import Database
    from mindlinks.platform.security import Actor, Role

    engine = await _fresh(url)
    now = datetime.now(UTC)
    user, contractor = new_id(), new_id()
    escrow = _account("client", PLATFORM_OWNER, "client_escrow", now)
    wallet = _account("contractor", contractor, "contractor_wallet", now)
    contracts = [(new_id(), new_id()) for _ in range(50)]  # (contract, invoice)
    holds = [{"id": new_id(), "invoice_id": inv, "invoice_number": None,
              "client_id": PLATFORM_OWNER, "client_user_id": None, "client_name": f"C{k}",
              "contract_id": c, "contractor_id": contractor, "contractor_user_id": user,
              "amount": 1, "currency": "USD", "issue_date": now.date(), "due_date": now.date(),
              "period_end": None, "issued_at": now, "status": "released", "reference": f"h{k}",
              "created_at": now, "updated_at": now} for k, (c, inv) in enumerate(contracts)]
    async with engine.begin() as conn:
        await _chunks(conn, User, [{"id": user, "email": "e@bench.example", "password_hash": "x",
                                    "role": "contractor", "status": "active",
                                    "email_verified": True, "mfa_enabled": False,
                                    "created_at": now, "updated_at": now}])
        await _chunks(conn, ContractorProfile, [{"id": contractor, "user_id": user,
                                                 "email": "e@bench.example",
                                                 "kyc_status": "verified", "status": "active",
                                                 "created_at": now, "updated_at": now}])
        await _chunks(conn, Account, [escrow, wallet])
        await _chunks(conn, InvoiceHold, holds)
        for start in range(0, EARNINGS_M, CHUNK):
            transfers, items = [], []
            for i in range(start, min(start + CHUNK, EARNINGS_M)):
                contract, invoice = contracts[i % 50]
                at = now - timedelta(days=(i * 7) % 730)
                tid = new_id()
                transfers.append({"id": tid, "reference": f"e{i}", "code": "invoice_hold",
                                  "kind": "post", "debit_account_id": escrow["id"],
                                  "credit_account_id": wallet["id"], "amount": 100 + i % 900,
                                  "currency": "USD", "pending_id": None, "status": "posted",
                                  "expires_at": None, "created_at": at, "updated_at": at})
                items.append({"id": new_id(), "payroll_id": new_id(),
                              "contractor_id": contractor, "contract_id": contract,
                              "invoice_id": invoice, "amount": 1, "currency": "USD",
                              "status": "paid", "transfer_id": tid, "paid_at": at,
                              "created_at": at, "updated_at": at})
            await _chunks(conn, Transfer, transfers)
            await _chunks(conn, PayrollItem, items)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            from sqlalchemy import text

            await conn.execute(text("ANALYZE"))
    db = Database(url)
    actor = Actor(user_id=user, email="e@bench.example", role=Role.CONTRACTOR)
    # Alternated, RUNS times each, medians: on a shared machine one sample of each side
    # says more about the neighbours than about the code.
    ours_runs, floor_runs = [], []
    async with db.session() as s:
        await earnings.earnings(s, actor, "all")  # warm
        month = earnings._month(s, Transfer.created_at)
        for _ in range(RUNS):
            started = time.perf_counter()
            result = await earnings.earnings(s, actor, "all")
            ours_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            bare = (await s.execute(select(month, func.sum(Transfer.amount))
                                    .where(Transfer.credit_account_id == wallet["id"])
                                    .group_by(month))).all()
            floor_runs.append(time.perf_counter() - started)
    ours, floor = statistics.median(ours_runs), statistics.median(floor_runs)
    await db.dispose()
    await engine.dispose()
    assert len(result.earnings_by_month) == len(bare) and len(result.earnings_by_contract) == 50
    print(f"earnings ({engine.dialect.name}): {EARNINGS_M} transfers in {ours:.3f} s; bare "
          f"GROUP BY {floor:.3f} s; ratio bare/ours {floor / ours:.3f} "
          f"(medians of {RUNS} alternated runs; goal: 1M transfers, ratio >= 0.5)")


def main() -> None:
    url = os.environ.get("MINDLINKS_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_payroll(url or f"sqlite+aiosqlite:///{tmp}/payroll.db"))
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_earnings(url or f"sqlite+aiosqlite:///{tmp}/earnings.db"))


if __name__ == "__main__":
    main()
