"""`Idempotency-Key` on the withdrawal POST (RELIABILITY 11-15): required, replayed byte for
byte, another body under the same key refused, a refusal not memoised, scoped per user."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.payments.models import Transfer
from mindlinks.payments.withdrawals_models import Withdrawal
from tests.factories import Account
from tests.payments.withdrawal_helpers import PATH, available, fund, key, ready, request

pytestmark = pytest.mark.usefixtures("db_backend")


async def _counts(app: Any) -> tuple[int, int]:
    async with app.state.db.session() as s:
        withdrawals = await s.scalar(select(func.count()).select_from(Withdrawal))
        holds = await s.scalar(select(func.count()).select_from(Transfer).where(
            Transfer.code == "withdrawal"))
        return int(withdrawals or 0), int(holds or 0)


async def test_the_key_is_required(app: Any, client: httpx.AsyncClient,
                                   contractor: Account) -> None:
    w = await ready(app, client, contractor)
    body = {"amount": "100.00", "withdrawalMethodId": w.method_id, "currency": "USD"}
    response = await client.post(PATH, json=body, headers=w.headers)
    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")
    short = await client.post(PATH, json=body, headers={**w.headers, "Idempotency-Key": "abc"})
    assert (short.status_code, short.json()["code"]) == (400, "idempotency_key_invalid")
    assert await _counts(app) == (0, 0)


async def test_a_replay_is_byte_identical_and_moves_nothing_more(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w = await ready(app, client, contractor)
    k = key()
    first = await request(client, w, amount="100.00", idempotency_key=k)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    for _ in range(2):
        again = await request(client, w, amount="100.00", idempotency_key=k)
        assert again.status_code == 201 and again.content == first.content
        assert again.headers["Idempotent-Replayed"] == "true"
    other = await request(client, w, amount="101.00", idempotency_key=k)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert await _counts(app) == (1, 1)
    assert await available(app, w.contractor_id) == 1_000_000 - 10_000


async def test_a_refusal_is_not_memoised(app: Any, client: httpx.AsyncClient,
                                         contractor: Account) -> None:
    w = await ready(app, client, contractor, funds=5_000)
    k = key()
    refused = await request(client, w, amount="100.00", idempotency_key=k)
    assert (refused.status_code, refused.json()["code"]) == (422, "insufficient_funds")
    await fund(app, w.contractor_id, 10_000)
    retried = await request(client, w, amount="100.00", idempotency_key=k)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert await _counts(app) == (1, 1)


async def test_keys_are_scoped_per_user(app: Any, client: httpx.AsyncClient,
                                        contractor: Account, other: Account) -> None:
    a = await ready(app, client, contractor)
    b = await ready(app, client, other)
    k = key()
    mine = await request(client, a, amount="100.00", idempotency_key=k)
    theirs = await request(client, b, amount="100.00", idempotency_key=k)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert await _counts(app) == (2, 2)
