"""Payout webhooks (issue 14 §4, RELIABILITY 16-18, 46): forged, tampered, stale, replayed, out of
order, paid then failed - each ends in the right state with the money moved at most once."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.payments import payouts
from mindlinks.payments.models import Transfer
from mindlinks.payments.providers import SIGNATURE_HEADER, get_provider, sign
from tests.factories import Account
from tests.payments.withdrawal_helpers import (
    available,
    get,
    ready,
    requested,
    row,
    sandbox,
    work,
)

pytestmark = pytest.mark.usefixtures("db_backend")
HOOK = "/api/payments/webhooks/sandbox"


async def _sent(app: Any, client: httpx.AsyncClient, who: Account) -> tuple[Any, dict[str, Any]]:
    w = await ready(app, client, who)
    body = await requested(client, w, amount="1000.00")
    await work(app)
    return w, body


def _event(app: Any, withdrawal: dict[str, Any], event_type: str, *, event_id: str,
           amount: int = 99_500, store: payouts.SandboxPayouts | None = None) -> bytes:
    [stored] = (store or sandbox(app)).all()
    status = "paid" if event_type == "payout.paid" else "failed"
    return payouts.payout_event(event_type, payouts.payout_object(
        payout_ref=stored.payout_ref, amount=amount, currency="USD", status=status,
        withdrawal_id=withdrawal["id"], failure_code="account_closed" if status == "failed"
        else None), event_id=event_id)


def _headers(app: Any, body: bytes, *, secret: str | None = None,
             timestamp: int | None = None) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(secret or get_provider(app.state).webhook_secret, body,
                                   timestamp), "Content-Type": "application/json"}


async def _transfers(app: Any, withdrawal_id: str) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Transfer).where(
            Transfer.reference.like(f"withdrawal:{withdrawal_id}%"))) or 0)


async def test_forged_tampered_and_stale_events_change_nothing(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w, body = await _sent(app, client, contractor)
    paid = _event(app, body, "payout.paid", event_id="evt_paid_1")
    tampered = paid.replace(b'"status":"paid"', b'"status":"paiD"')
    for content, headers in (
            (paid, _headers(app, paid, secret="whsec_not_ours")),  # forged
            (tampered, _headers(app, paid)),  # one byte changed after signing
            (paid, _headers(app, paid, timestamp=int(time.time()) - 301)),  # stale
            # from the future (well past the tolerance: the margin shrinks while the test runs)
            (paid, _headers(app, paid, timestamp=int(time.time()) + 600)),
            (paid, {"Content-Type": "application/json"})):  # unsigned
        response = await client.post(HOOK, content=content, headers=headers)
        assert (response.status_code, response.json()["code"]) == (400, "invalid_signature")
    assert (await get(client, w, body["id"]))["status"] == "processing"
    assert await _transfers(app, body["id"]) == 1  # the hold only
    # The genuine event still works afterwards.
    response = await client.post(HOOK, content=paid, headers=_headers(app, paid))
    assert response.status_code == 200 and response.json()["outcome"] == "handled"
    assert (await get(client, w, body["id"]))["status"] == "completed"


async def test_a_replayed_or_repeated_paid_event_moves_the_money_once(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w, body = await _sent(app, client, contractor)
    paid = _event(app, body, "payout.paid", event_id="evt_paid_1")
    first = await client.post(HOOK, content=paid, headers=_headers(app, paid))
    assert first.json() == {"received": True, "duplicate": False, "outcome": "handled"}
    again = await client.post(HOOK, content=paid, headers=_headers(app, paid))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    other = _event(app, body, "payout.paid", event_id="evt_paid_2")  # a second "paid"
    response = await client.post(HOOK, content=other, headers=_headers(app, other))
    assert response.json()["outcome"] == "ignored"
    assert await _transfers(app, body["id"]) == 4  # hold, post, payout, fee
    assert await available(app, w.contractor_id) == 1_000_000 - 100_000


async def test_failed_before_paid_stays_failed_and_the_money_is_back(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    """Out of order: the late `paid` of a payout already reported failed changes nothing."""
    w, body = await _sent(app, client, contractor)
    failed = _event(app, body, "payout.failed", event_id="evt_failed")
    paid = _event(app, body, "payout.paid", event_id="evt_paid")
    assert (await client.post(HOOK, content=failed, headers=_headers(app, failed))
            ).json()["outcome"] == "handled"
    assert (await client.post(HOOK, content=paid, headers=_headers(app, paid))
            ).json()["outcome"] == "ignored"
    assert (await get(client, w, body["id"]))["status"] == "failed"
    assert await available(app, w.contractor_id) == 1_000_000
    assert await _transfers(app, body["id"]) == 2  # the hold and its void


async def test_paid_then_failed_is_reversed_once(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w, body = await _sent(app, client, contractor)
    for event_type, event_id in (("payout.paid", "evt_p"), ("payout.failed", "evt_f"),
                                 ("payout.failed", "evt_f2"), ("payout.paid", "evt_p2")):
        event = _event(app, body, event_type, event_id=event_id)
        assert (await client.post(HOOK, content=event, headers=_headers(app, event))
                ).status_code == 200
    assert (await get(client, w, body["id"]))["status"] == "reversed"
    assert await available(app, w.contractor_id) == 1_000_000
    assert await _transfers(app, body["id"]) == 6


async def test_an_event_of_another_amount_or_an_unknown_withdrawal_is_parked(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w, body = await _sent(app, client, contractor)
    wrong = _event(app, body, "payout.paid", event_id="evt_wrong", amount=1)
    assert (await client.post(HOOK, content=wrong, headers=_headers(app, wrong))
            ).json()["outcome"] == "parked"
    unknown = _event(app, {"id": "00000000-0000-4000-8000-000000000000"}, "payout.paid",
                     event_id="evt_unknown")
    assert (await client.post(HOOK, content=unknown, headers=_headers(app, unknown))
            ).json()["outcome"] == "parked"
    assert (await get(client, w, body["id"]))["status"] == "processing"
    assert (await row(app, body["id"])).completed_at is None


async def test_paid_arriving_during_the_provider_call_is_not_undone(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    """The worker holds no transaction while it calls the provider: the provider's `paid` can
    land before the call returns, and the worker then only adds what it knows."""
    w = await ready(app, client, contractor)
    body = await requested(client, w, amount="1000.00")
    store = sandbox(app)

    class EagerBank:
        name, methods = store.name, store.methods

        async def create_payout(self, request: payouts.PayoutRequest) -> payouts.PayoutResult:
            result = await store.create_payout(request)
            paid = _event(app, body, "payout.paid", event_id="evt_early", store=store)
            answer = await client.post(HOOK, content=paid, headers=_headers(app, paid))
            assert answer.json()["outcome"] == "handled", answer.text
            return result

    payouts.install(app.state.db, EagerBank())
    await work(app)
    done = await row(app, body["id"])
    [payout] = store.all()
    assert (done.status, done.provider_payout_ref) == ("completed", payout.payout_ref)
    assert done.provider_transfer_ref == payout.transfer_ref
    assert await available(app, w.contractor_id) == 1_000_000 - 100_000
    assert await _transfers(app, body["id"]) == 4


async def test_a_fault_after_the_first_legs_of_a_payout_leaves_no_leg(
        app: Any, client: httpx.AsyncClient, contractor: Account,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """RELIABILITY 7: `payout.paid` posts the hold, then the payout and the fee legs. A fault
    injected at the fee leg (after the other two) leaves none of them and stores no event, so
    the provider's retry applies it once, whole."""
    from mindlinks.payments import book
    from mindlinks.platform import webhooks as inbox

    w, body = await _sent(app, client, contractor)
    paid = _event(app, body, "payout.paid", event_id="evt_paid_fault")
    real = book.transfer

    async def faulty(session: Any, **kw: Any) -> Any:
        if kw["code"] == "withdrawal_fee":
            raise RuntimeError("injected fault")
        return await real(session, **kw)

    monkeypatch.setattr(book, "transfer", faulty)
    failed = await client.post(HOOK, content=paid, headers=_headers(app, paid))
    assert failed.status_code == 500  # the provider retries a 5xx
    monkeypatch.setattr(book, "transfer", real)
    assert (await get(client, w, body["id"]))["status"] == "processing"
    assert await _transfers(app, body["id"]) == 1  # the hold only, still pending
    assert await available(app, w.contractor_id) == 1_000_000 - 100_000
    async with app.state.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(inbox.WebhookEvent)) == 0
    retried = await client.post(HOOK, content=paid, headers=_headers(app, paid))
    assert retried.json() == {"received": True, "duplicate": False, "outcome": "handled"}
    assert (await get(client, w, body["id"]))["status"] == "completed"
    assert await _transfers(app, body["id"]) == 4
    assert await available(app, w.contractor_id) == 1_000_000 - 100_000
