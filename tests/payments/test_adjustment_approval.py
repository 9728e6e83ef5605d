"""Maker-checker on admin balance adjustments (RELIABILITY 31): above the threshold an
adjustment waits for a second admin; approving it executes it exactly once, through the same
path as an immediate adjustment, with a journal entry naming both admins."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from mindlinks.auth import repository as auth_repository
from mindlinks.auth.sessions import start_login
from mindlinks.ledger.models import LedgerEntry
from mindlinks.payments.adjustments_models import AdjustmentRequest
from mindlinks.payments.models import Account as BookAccount
from mindlinks.payments.models import Purpose, Transfer
from mindlinks.platform.db import utcnow
from tests.clients.conftest import Account
from tests.factories import admin_tokens, bearer, register
from tests.payments.conftest import key

LIST = "/api/admin/payments/adjustments"


async def _escrow(app: Any, pay: Any, acme: Account, amount: str = "5000.00") -> str:
    deposit = await pay.deposited(acme, amount=amount)
    await pay.webhook(pay.event(deposit))
    async with app.state.db.session() as s:
        escrow = await s.scalar(select(BookAccount).where(
            BookAccount.purpose == Purpose.CLIENT_ESCROW))
        assert escrow is not None
        return str(escrow.id)


async def _second_admin(app: Any, client: httpx.AsyncClient) -> dict[str, str]:
    return bearer((await admin_tokens(app, client))["accessToken"])


async def _adjust(client: httpx.AsyncClient, headers: dict[str, str], account_id: str,
                  amount: str, reason: str = "Correction, ticket 4711") -> httpx.Response:
    return await client.post(f"/api/admin/payments/accounts/{account_id}/adjustments",
                             json={"amount": amount, "reason": reason},
                             headers={**headers, "Idempotency-Key": key()})


async def _decide(client: httpx.AsyncClient, headers: dict[str, str], request_id: str,
                  action: str = "approve", idempotency_key: str | None = None
                  ) -> httpx.Response:
    return await client.post(f"{LIST}/{request_id}/{action}",
                             headers={**headers, "Idempotency-Key": idempotency_key or key()})


async def _count(app: Any, model: Any, *where: Any) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _adjustment_transfers(app: Any) -> int:
    return await _count(app, Transfer, Transfer.code == "balance_adjustment")


async def test_at_the_threshold_it_executes_at_once_above_it_waits(
        app: Any, client: httpx.AsyncClient, acme: Account, admin: dict[str, Any],
        pay: Any) -> None:
    escrow_id = await _escrow(app, pay, acme)
    # 1,000.00 USD = 100000 minor units: the default threshold, still immediate.
    at = await _adjust(client, admin["headers"], escrow_id, "-1000.00")
    assert at.status_code == 201, at.text
    assert at.json()["balanceAfter"] == 4000.0 and await pay.available(acme) == 4000.0

    k = key()
    path = f"/api/admin/payments/accounts/{escrow_id}/adjustments"
    above = await client.post(path, json={"amount": "-1000.01", "reason": "Correction, 4711"},
                              headers={**admin["headers"], "Idempotency-Key": k})
    assert above.status_code == 202, above.text
    retried = await client.post(path, json={"amount": "-1000.01", "reason": "Correction, 4711"},
                                headers={**admin["headers"], "Idempotency-Key": k})
    assert (retried.status_code, retried.content) == (202, above.content)
    assert await _count(app, AdjustmentRequest) == 1  # a retry makes no second request
    body = above.json()
    assert body["status"] == "pending_approval" and body["amount"] == -1000.01
    assert body["transferId"] is None and body["accountId"] == escrow_id
    assert await pay.available(acme) == 4000.0  # nothing moved
    assert await _adjustment_transfers(app) == 1
    async with app.state.db.session() as s:
        requested = (await s.scalars(select(LedgerEntry).where(
            LedgerEntry.entry_type == "balance_adjustment_request"))).all()
    assert [json.loads(e.payload)["action"] for e in requested] == ["requested"]
    assert "Correction" not in requested[0].payload

    listed = await client.get(LIST, params={"status": "pending"}, headers=admin["headers"])
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()["data"]] == [body["id"]]
    assert listed.json()["meta"]["total"] == 1


async def test_a_second_admin_approves_once_and_the_journal_names_both(
        app: Any, client: httpx.AsyncClient, acme: Account, admin: dict[str, Any],
        pay: Any) -> None:
    escrow_id = await _escrow(app, pay, acme)
    checker = await _second_admin(app, client)
    pending = (await _adjust(client, admin["headers"], escrow_id, "2500.00")).json()

    same = await _decide(client, admin["headers"], pending["id"])
    assert same.status_code == 403 and same.json()["code"] == "same_admin"
    assert await pay.available(acme) == 5000.0

    k = key()
    approved = await _decide(client, checker, pending["id"], idempotency_key=k)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "approved" and body["transferId"]
    assert body["decidedBy"] and body["decidedBy"] != body["requestedBy"]
    assert await pay.available(acme) == 7500.0
    replay = await _decide(client, checker, pending["id"], idempotency_key=k)
    assert replay.content == approved.content

    again = await _decide(client, checker, pending["id"])
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    rejected_late = await _decide(client, checker, pending["id"], "reject")
    assert rejected_late.status_code == 409
    assert await pay.available(acme) == 7500.0
    assert await _adjustment_transfers(app) == 1

    async with app.state.db.session() as s:
        entries = (await s.scalars(select(LedgerEntry).where(
            LedgerEntry.entry_type == "balance_adjustment"))).all()
    assert len(entries) == 1
    payload = json.loads(entries[0].payload)
    assert payload["adminId"] == body["decidedBy"]
    assert payload["requestedBy"] == pending["requestedBy"] == body["requestedBy"]
    assert payload["requestId"] == pending["id"] and payload["transferId"] == body["transferId"]
    assert (payload["amount"], payload["balanceBefore"], payload["balanceAfter"]) == (
        250000, 500000, 750000)
    listed = await client.get(LIST, params={"status": "approved"}, headers=admin["headers"])
    assert [r["id"] for r in listed.json()["data"]] == [pending["id"]]


async def test_a_rejected_request_moves_nothing(
        app: Any, client: httpx.AsyncClient, acme: Account, admin: dict[str, Any],
        pay: Any) -> None:
    escrow_id = await _escrow(app, pay, acme)
    checker = await _second_admin(app, client)
    pending = (await _adjust(client, admin["headers"], escrow_id, "-4000.00")).json()
    rejected = await client.post(f"{LIST}/{pending['id']}/reject", headers=checker)
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["transferId"] is None
    approve = await _decide(client, checker, pending["id"])
    assert approve.status_code == 409 and approve.json()["code"] == "invalid_transition"
    assert await pay.available(acme) == 5000.0
    assert await _adjustment_transfers(app) == 0
    # An unknown id is 404.
    unknown = await _decide(client, checker, "00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "adjustment_request_not_found"


async def test_an_expired_request_cannot_be_approved(
        app: Any, client: httpx.AsyncClient, acme: Account, admin: dict[str, Any],
        pay: Any) -> None:
    escrow_id = await _escrow(app, pay, acme)
    checker = await _second_admin(app, client)
    pending = (await _adjust(client, admin["headers"], escrow_id, "1500.00")).json()
    async with app.state.db.session() as s:
        row = await s.get(AdjustmentRequest, uuid.UUID(pending["id"]))
        assert row is not None
        assert timedelta(days=7) - (row.expires_at - row.created_at) == timedelta(0)
        await s.execute(update(AdjustmentRequest).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    expired = await _decide(client, checker, pending["id"])
    assert expired.status_code == 409, expired.text
    assert expired.json()["code"] == "adjustment_request_expired"
    assert await pay.available(acme) == 5000.0 and await _adjustment_transfers(app) == 0
    shown = await client.get(LIST, params={"status": "expired"}, headers=admin["headers"])
    assert [(r["id"], r["status"]) for r in shown.json()["data"]] == [(pending["id"], "expired")]
    still = await client.get(LIST, params={"status": "pending"}, headers=admin["headers"])
    assert still.json()["data"] == []


async def test_a_refused_approval_leaves_the_request_pending(
        app: Any, client: httpx.AsyncClient, acme: Account, admin: dict[str, Any],
        pay: Any) -> None:
    escrow_id = await _escrow(app, pay, acme)
    checker = await _second_admin(app, client)
    pending = (await _adjust(client, admin["headers"], escrow_id, "-4500.00")).json()
    assert (await _adjust(client, admin["headers"], escrow_id, "-900.00")).status_code == 201
    short = await _decide(client, checker, pending["id"])
    assert short.status_code == 422 and short.json()["code"] == "insufficient_funds"
    assert await pay.available(acme) == 4100.0
    listed = await client.get(LIST, params={"status": "pending"}, headers=admin["headers"])
    assert [r["id"] for r in listed.json()["data"]] == [pending["id"]]


async def test_only_an_admin_with_mfa_requests_or_decides(
        app: Any, client: httpx.AsyncClient, acme: Account, admin: dict[str, Any],
        pay: Any) -> None:
    escrow_id = await _escrow(app, pay, acme)
    pending = (await _adjust(client, admin["headers"], escrow_id, "2000.00")).json()
    contractor = Account(await register(client, "contractor"))
    async with app.state.db.session() as session:
        user = await auth_repository.user_by_email(session, admin["email"])
        assert user is not None
        half = await start_login(session, app.state.runtime, user, ["pwd"])
    callers = {"client": (acme.headers, "forbidden_role"),
               "contractor": (contractor.headers, "forbidden_role"),
               "admin without MFA": (bearer(half.access_token), "mfa_required")}
    for who, (headers, code) in callers.items():
        for action in ("approve", "reject"):
            answer = await _decide(client, headers, pending["id"], action)
            assert (answer.status_code, answer.json()["code"]) == (403, code), (who, action)
        big = await _adjust(client, headers, escrow_id, "5000.00")
        assert (big.status_code, big.json()["code"]) == (403, code), who
        listed = await client.get(LIST, headers=headers)
        assert listed.status_code == 403, who
    assert await pay.available(acme) == 5000.0 and await _adjustment_transfers(app) == 0
    assert await _count(app, AdjustmentRequest) == 1


@pytest.mark.race
@pytest.mark.usefixtures("db_backend")
async def test_two_admins_approving_at_once_make_one_transfer(
        app: Any, client: httpx.AsyncClient, acme: Account, admin: dict[str, Any],
        pay: Any) -> None:
    escrow_id = await _escrow(app, pay, acme)
    checkers = [await _second_admin(app, client) for _ in range(2)]
    for round_ in range(5):
        pending = (await _adjust(client, admin["headers"], escrow_id, "1200.00")).json()
        answers = await asyncio.gather(*(_decide(client, checkers[i % 2], pending["id"])
                                         for i in range(10)))
        statuses = Counter(a.status_code for a in answers)
        assert statuses == {200: 1, 409: 9}, (round_, statuses, [a.text for a in answers])
        assert await _adjustment_transfers(app) == round_ + 1
    assert await pay.available(acme) == 5000.0 + 5 * 1200.0
    assert await _count(app, LedgerEntry, LedgerEntry.entry_type == "balance_adjustment") == 5
