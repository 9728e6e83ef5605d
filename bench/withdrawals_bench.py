"""Withdrawals benchmark (issue 14 §4).

Withdrawals per second through the service (`payments.withdrawals.request_withdrawal`, one
transaction each: KYC and bank-account checks, the decrypted payout account, the rule and fee,
the hold on the wallet under its row lock, the row, `withdrawal.requested` in the outbox and an
audit line), C at a time over K contractors, against a floor measured in the same run: the same
number of single-row INSERT + COMMIT transactions at the same concurrency. Prints both rates,
the ratio ours/floor (goal >= 0.25) and the p99 latency of a withdrawal.

Setup goes through the real API (registration, profile, bank account verified by its
micro-deposits) and the book (each wallet funded once).

Environment:
  MINDLINKS_BENCH_WITHDRAWALS_N    withdrawals (default 2,000)
  MINDLINKS_BENCH_CONCURRENCY      concurrent transactions (default 8)
  MINDLINKS_BENCH_CONTRACTORS      contractors sharing them (default 16)
  MINDLINKS_BENCH_DATABASE_URL     a PostgreSQL URL (its `public` schema is DROPPED and
                                   recreated); default: a temporary SQLite file
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

N = int(os.environ.get("MINDLINKS_BENCH_WITHDRAWALS_N", "2000"))
CONCURRENCY = int(os.environ.get("MINDLINKS_BENCH_CONCURRENCY", "8"))
CONTRACTORS = int(os.environ.get("MINDLINKS_BENCH_CONTRACTORS", "16"))


async def _fresh(url: str) -> None:
    from sqlalchemy import text

    from mindlinks.migrations import runner
    from mindlinks.models import load_all
    from mindlinks.platform.db import create_engine

    load_all()
    engine = create_engine(url, pool=False)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await runner.upgrade(engine, "heads")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE bench_floor (id VARCHAR(36) PRIMARY KEY, "
                                "payload VARCHAR(200) NOT NULL)"))
    await engine.dispose()


async def _contractors(app: Any) -> list[tuple[Any, str]]:
    """(actor, bank account id) of each contractor, ready to withdraw."""
    import httpx

    from mindlinks.contractors import service as contractors
    from mindlinks.payments import book
    from mindlinks.payments.models import Purpose
    from mindlinks.platform.security import Actor, Role

    ready = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for k in range(CONTRACTORS):
            email = f"bench-{k}-{uuid.uuid4().hex[:6]}@example.com"
            user = (await client.post("/api/auth/register", json={
                "email": email, "password": "correct horse battery staple",
                "role": "contractor", "name": "Ada Lovelace"})).json()
            headers = {"Authorization": f"Bearer {user['accessToken']}"}
            await client.put("/api/contractors/me", headers=headers, json={
                "phone": "+14155552671", "country": "US", "timezone": "America/New_York",
                "legalName": "Ada Lovelace"})
            bank = (await client.post("/api/contractors/me/bank-accounts", headers=headers,
                                      json={"accountHolderName": "Ada Lovelace",
                                            "bankName": "First Bank", "currency": "USD",
                                            "country": "US", "accountNumber": "000123456789",
                                            "routingNumber": "011000015"})).json()
            amounts = app.state.micro_deposit_sender.latest_amounts(uuid.UUID(bank["id"]))
            verified = await client.post(f"/api/contractors/me/bank-accounts/{bank['id']}/verify",
                                         headers=headers, json={"amounts": list(amounts)})
            assert verified.status_code == 200, verified.text
            user_id = uuid.UUID(user["user"]["id"])
            async with app.state.db.session() as s:
                profile = await contractors.profile_by_user(s, user_id)
                assert profile is not None
                await contractors.set_kyc_status(s, profile.id, "verified")
                source = await book.account(s, "platform", None, Purpose.ADJUSTMENTS, "USD")
                wallet = await book.account(s, "contractor", profile.id,
                                            Purpose.CONTRACTOR_WALLET, "USD")
                await book.transfer(s, debit=source, credit=wallet, amount=10**12,
                                    code="bench_funding", reference=f"bench:{profile.id}")
            ready.append((Actor(user_id=user_id, email=email, role=Role.CONTRACTOR,
                                contractor_id=profile.id), bank["id"]))
    return ready


async def _timed(work: Any, total: int) -> tuple[float, list[float]]:
    """Run `work(i)` for i < total, CONCURRENCY at a time: (elapsed, latencies)."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(i)

    async def runner() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            started = time.perf_counter()
            await work(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(runner() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started, latencies


def _p99(latencies: list[float]) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _run(url: str, data_dir: Path) -> None:
    from decimal import Decimal

    from sqlalchemy import func, select, text

    from mindlinks.app import create_app
    from mindlinks.payments import withdrawals
    from mindlinks.payments.withdrawals_models import Withdrawal
    from mindlinks.payments.withdrawals_schemas import WithdrawalCreate
    from mindlinks.settings import Settings

    await _fresh(url)
    settings = Settings(env="test", data_dir=data_dir, database_url=url, redis_url=None,
                        dispatcher_in_process=False, log_level="WARNING",
                        withdrawals_per_day=10_000,  # one contractor withdraws N / K times
                        _env_file=None)  # type: ignore[call-arg]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        people = await _contractors(app)
        db = app.state.db
        dialect = db.engine.dialect.name

        async def withdraw(i: int) -> None:
            actor, method = people[i % len(people)]
            body = WithdrawalCreate(amount=Decimal("10.00"), withdrawal_method_id=method,
                                    currency="USD")
            async with db.session() as s:
                await withdrawals.request_withdrawal(s, actor, body,
                                                     per_day=settings.withdrawals_per_day)

        async def floor_row(i: int) -> None:
            async with db.session() as s:
                await s.execute(text("INSERT INTO bench_floor (id, payload) VALUES (:i, :p)"),
                                {"i": str(uuid.uuid4()), "p": f"row {i}"})

        await _timed(withdraw, min(50, N))  # warm the pool and caches
        await _timed(floor_row, min(50, N))
        floor_s, _ = await _timed(floor_row, N)
        ours_s, latencies = await _timed(withdraw, N)
        async with db.session() as s:
            made = await s.scalar(select(func.count()).select_from(Withdrawal))
        assert made == N + min(50, N), made
    ours, floor = N / ours_s, N / floor_s
    print(f"withdrawals ({dialect}): {N} at concurrency {CONCURRENCY} over {len(people)} "
          f"contractors: {ours:,.0f}/s, p99 {_p99(latencies) * 1000:.1f} ms; single-row "
          f"commit floor {floor:,.0f}/s; ratio ours/floor {ours / floor:.3f} (goal >= 0.25)")


def main() -> None:
    url = os.environ.get("MINDLINKS_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_run(url or f"sqlite+aiosqlite:///{tmp}/withdrawals.db", Path(tmp) / "var"))


if __name__ == "__main__":
    main()
