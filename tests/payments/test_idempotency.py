"""`Idempotency-Key` on money-moving POSTs (deposits here), RELIABILITY 11-15."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update

from mindlinks.payments.models import Deposit
from mindlinks.platform.db import utcnow
from mindlinks.platform.idempotency import IdempotencyKey
from tests.clients.conftest import Account
from tests.payments.conftest import key

PATH = "/api/payments/client/me/deposits"
BODY = {"amount": "500.00", "currency": "USD", "method": "card"}


async def _deposits(app: Any) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Deposit)) or 0)


async def test_the_same_key_and_body_replays_the_first_response_byte_for_byte(
        app: Any, client: httpx.AsyncClient, acme: Account) -> None:
    headers = {**acme.headers, "Idempotency-Key": key()}
    first = await client.post(PATH, json=BODY, headers=headers)
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    for _ in range(2):
        again = await client.post(PATH, json=BODY, headers=headers)
        assert again.status_code == 201
        assert again.content == first.content
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.headers["content-type"] == first.headers["content-type"]
    assert await _deposits(app) == 1


async def test_the_same_key_with_another_body_is_422_and_changes_nothing(
        app: Any, client: httpx.AsyncClient, acme: Account) -> None:
    headers = {**acme.headers, "Idempotency-Key": key()}
    assert (await client.post(PATH, json=BODY, headers=headers)).status_code == 201
    other = await client.post(PATH, json={**BODY, "amount": "501.00"}, headers=headers)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert await _deposits(app) == 1


async def test_a_missing_or_bad_key_is_400(client: httpx.AsyncClient, acme: Account) -> None:
    for value, code in ((None, "idempotency_key_required"), ("", "idempotency_key_required"),
                        ("k" * 256, "idempotency_key_invalid"),
                        ("short-key", "idempotency_key_invalid"),
                        ("a" * 40, "idempotency_key_invalid")):
        headers = dict(acme.headers)
        if value is not None:
            headers["Idempotency-Key"] = value
        response = await client.post(PATH, json=BODY, headers=headers)
        assert response.status_code == 400, (value, response.text)
        assert response.json()["code"] == code


async def test_keys_are_scoped_per_user(
        app: Any, client: httpx.AsyncClient, acme: Account, globex: Account) -> None:
    shared = key()
    mine = await client.post(PATH, json=BODY, headers={**acme.headers, "Idempotency-Key": shared})
    theirs = await client.post(PATH, json=BODY,
                               headers={**globex.headers, "Idempotency-Key": shared})
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.json()["id"] != mine.json()["id"]
    assert await _deposits(app) == 2


async def test_an_error_is_not_memoised(
        app: Any, client: httpx.AsyncClient, acme: Account) -> None:
    headers = {**acme.headers, "Idempotency-Key": key()}
    bad = await client.post(PATH, json={**BODY, "method": "cheque"}, headers=headers)
    assert bad.status_code == 422
    too_precise = await client.post(PATH, json={**BODY, "amount": "1.001"}, headers=headers)
    assert too_precise.status_code == 422 and too_precise.json()["code"] == "too_many_decimals"
    good = await client.post(PATH, json=BODY, headers=headers)
    assert good.status_code == 201 and "Idempotent-Replayed" not in good.headers
    assert await _deposits(app) == 1


async def test_a_key_executes_again_after_24_hours(
        app: Any, client: httpx.AsyncClient, acme: Account) -> None:
    headers = {**acme.headers, "Idempotency-Key": key()}
    first = await client.post(PATH, json=BODY, headers=headers)
    async with app.state.db.session() as s:
        await s.execute(update(IdempotencyKey).values(
            expires_at=utcnow() - timedelta(seconds=1)))
    later = await client.post(PATH, json={**BODY, "amount": "7.00"}, headers=headers)
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in later.headers


async def test_concurrent_requests_with_one_key_execute_once(
        app: Any, client: httpx.AsyncClient, acme: Account) -> None:
    headers = {**acme.headers, "Idempotency-Key": key()}
    answers = await asyncio.gather(*(client.post(PATH, json=BODY, headers=headers)
                                     for _ in range(20)))
    statuses = [a.status_code for a in answers]
    assert set(statuses) <= {201, 409}, statuses
    executed = [a for a in answers if a.status_code == 201
                and "Idempotent-Replayed" not in a.headers]
    assert len(executed) == 1
    for a in answers:
        if a.status_code == 201:
            assert a.content == executed[0].content
        else:
            assert a.json()["code"] == "idempotency_key_in_flight"
    assert await _deposits(app) == 1
