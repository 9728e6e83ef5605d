"""Admin balance adjustments: a correcting transfer plus a `balance_adjustment` journal entry
with the admin's id, the amounts before and after, and only a hash of the reason."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mindlinks.ledger.models import LedgerEntry
from mindlinks.payments.models import Account as BookAccount
from mindlinks.payments.models import Purpose
from tests.clients.conftest import Account
from tests.payments.conftest import key


async def test_an_admin_adjusts_an_escrow_and_the_journal_records_it(
        app: Any, client: httpx.AsyncClient, acme: Account, admin: dict[str, Any],
        pay: Any) -> None:
    deposit = await pay.deposited(acme, amount="100.00")
    await pay.webhook(pay.event(deposit))
    async with app.state.db.session() as s:
        escrow = await s.scalar(select(BookAccount).where(
            BookAccount.purpose == Purpose.CLIENT_ESCROW))
        assert escrow is not None
        escrow_id = escrow.id
    path = f"/api/admin/payments/accounts/{escrow_id}/adjustments"
    reason = "Refund of a duplicated bank fee, ticket 4711"
    # A money POST without its key, or with a short one: 400, nothing moves (RELIABILITY 14).
    for missing, code in (({}, "idempotency_key_required"),
                          ({"Idempotency-Key": "too-short"}, "idempotency_key_invalid")):
        refused = await client.post(path, json={"amount": "-30.00", "reason": reason},
                                    headers={**admin["headers"], **missing})
        assert (refused.status_code, refused.json()["code"]) == (400, code)
    assert await pay.available(acme) == 100.0
    headers = {**admin["headers"], "Idempotency-Key": key()}
    response = await client.post(path, json={"amount": "-30.00", "reason": reason},
                                 headers=headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["balanceBefore"], body["balanceAfter"], body["amount"]) == (100.0, 70.0, -30.0)
    assert await pay.available(acme) == 70.0
    again = await client.post(path, json={"amount": "-30.00", "reason": reason},
                              headers=headers)
    assert again.content == response.content and await pay.available(acme) == 70.0

    async with app.state.db.session() as s:
        entry = await s.scalar(select(LedgerEntry).where(
            LedgerEntry.entry_type == "balance_adjustment"))
    assert entry is not None
    payload = json.loads(entry.payload)
    assert payload["adminId"] and payload["amount"] == -3000
    assert (payload["balanceBefore"], payload["balanceAfter"]) == (10000, 7000)
    assert payload["reasonSha256"] == hashlib.sha256(reason.encode()).hexdigest()
    assert reason not in str(payload)

    # More than the escrow holds: refused, nothing changes.
    over = await client.post(path, json={"amount": "-70.01", "reason": "too much"},
                             headers={**admin["headers"], "Idempotency-Key": key()})
    assert over.status_code == 422 and over.json()["code"] == "insufficient_funds"
    # Clients cannot adjust, even their own escrow.
    denied = await client.post(path, json={"amount": "1000", "reason": "free money"},
                               headers={**acme.headers, "Idempotency-Key": key()})
    assert denied.status_code == 403
    assert await pay.available(acme) == 70.0


@pytest.mark.race
async def test_concurrent_adjustments_each_journal_a_true_before_and_after(
        app: Any, client: httpx.AsyncClient, acme: Account, admin: dict[str, Any],
        pay: Any) -> None:
    """Ten adjustments of one escrow at once: each journal entry's balanceBefore + amount is its
    balanceAfter, and the entries chain (one's after is the next one's before)."""
    deposit = await pay.deposited(acme, amount="100.00")
    await pay.webhook(pay.event(deposit))
    async with app.state.db.session() as s:
        escrow_id = await s.scalar(select(BookAccount.id).where(
            BookAccount.purpose == Purpose.CLIENT_ESCROW))
    path = f"/api/admin/payments/accounts/{escrow_id}/adjustments"
    answers = await asyncio.gather(*(client.post(
        path, json={"amount": "1.00", "reason": f"correction {i}"},
        headers={**admin["headers"], "Idempotency-Key": key()}) for i in range(10)))
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    async with app.state.db.session() as s:
        payloads = [json.loads(p) for p in (await s.scalars(
            select(LedgerEntry.payload).where(LedgerEntry.entry_type == "balance_adjustment")
            .order_by(LedgerEntry.seq))).all()]
    assert [(p["balanceBefore"], p["balanceAfter"]) for p in payloads] == [
        (10_000 + 100 * i, 10_100 + 100 * i) for i in range(10)]
