"""`quotes.take_quote`: once, before expiry, by its owner, for exactly what was quoted; and on
PostgreSQL 50 concurrent takes of one quote -> exactly one wins."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest

from mindlinks.payments import quotes
from mindlinks.platform.errors import DomainError
from tests.payments.quote_helpers import QUOTES, contractor_id, payee, quote_row, quoted


async def _take(app: Any, cid: uuid.UUID, quote_id: str, method: str, *, amount: int = 100_000,
                currency: str = "USD", now: Any = None) -> Any:
    row = await quote_row(app, quote_id)
    async with app.state.db.session() as session:
        return await quotes.take_quote(
            session, contractor_id=cid, quote_id=uuid.UUID(quote_id), amount=amount,
            currency=currency, method_id=uuid.UUID(method),
            now=now or row.expires_at - timedelta(minutes=29))


async def _refused(coro: Any) -> tuple[int, str]:
    with pytest.raises(DomainError) as refused:
        await coro
    return refused.value.status, refused.value.code


@pytest.fixture
async def offer(client: Any, app: Any, contractor: Any) -> tuple[uuid.UUID, str, str]:
    method = await payee(client, app, contractor)
    body = await quoted(client, contractor, method, amount="1000.00")
    return await contractor_id(client, contractor), method, body["quoteId"]


async def test_a_quote_is_taken_once(app, client, contractor, offer):
    cid, method, quote_id = offer
    taken = await _take(app, cid, quote_id, method)
    assert taken.used_at is not None
    assert await _refused(_take(app, cid, quote_id, method)) == (409, "quote_used")
    shown = await client.get(f"{QUOTES}/{quote_id}", headers=contractor.headers)
    assert shown.json()["used"] is True


async def test_an_expired_quote_is_refused(app, offer):
    cid, method, quote_id = offer
    expires = (await quote_row(app, quote_id)).expires_at
    assert await _refused(_take(app, cid, quote_id, method, now=expires)) == (
        409, "quote_expired")
    assert (await quote_row(app, quote_id)).used_at is None
    taken = await _take(app, cid, quote_id, method, now=expires - timedelta(seconds=1))
    assert taken.used_at == expires - timedelta(seconds=1)


async def test_a_withdrawal_that_is_not_what_was_quoted_is_refused(app, client, offer,
                                                                   contractor):
    cid, method, quote_id = offer
    second = await payee(client, app, contractor, accountNumber="000555444333")
    for kw in ({"amount": 100_001}, {"currency": "EUR"}):
        assert await _refused(_take(app, cid, quote_id, method, **kw)) == (422, "quote_mismatch")
    assert await _refused(_take(app, cid, quote_id, second)) == (422, "quote_mismatch")
    assert (await quote_row(app, quote_id)).used_at is None  # still usable
    assert (await _take(app, cid, quote_id, method)).used_at is not None


async def test_another_contractor_cannot_take_a_quote(app, client, offer, other):
    _, method, quote_id = offer
    theirs = await contractor_id(client, other)
    assert await _refused(_take(app, theirs, quote_id, method)) == (404, "quote_not_found")
    assert (await quote_row(app, quote_id)).used_at is None


@pytest.mark.race
async def test_fifty_concurrent_takes_one_wins(app, offer):
    cid, _, quote_id = offer
    row = await quote_row(app, quote_id)
    start = asyncio.Event()

    async def one() -> str:
        await start.wait()
        async with app.state.db.session() as session:
            try:
                await quotes.take_quote(session, contractor_id=cid, quote_id=row.id,
                                        amount=row.amount, currency=row.currency,
                                        method_id=row.withdrawal_method_id,
                                        now=row.expires_at - timedelta(minutes=1))
            except DomainError as refused:
                return refused.code
            return "taken"

    tasks = [asyncio.create_task(one()) for _ in range(50)]
    start.set()
    outcomes = await asyncio.gather(*tasks)
    assert sorted(outcomes) == ["quote_used"] * 49 + ["taken"]
