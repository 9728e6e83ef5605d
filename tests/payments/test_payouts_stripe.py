"""The Stripe Connect payout adapter against Stripe's HTTP API (respx serves recorded answers of
the API version 2024-06-20: Stripe itself cannot run here). What matters: a connected account
is made once per bank account, the money goes as a Transfer to it and then a Payout from it
(`Stripe-Account` header), every call carries the withdrawal's idempotency key, the worker
keeps `stripeTransferId` / `stripePayoutId`; a refusal fails the withdrawal, an outage is
retried."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
import stripe
from sqlalchemy import select

from mindlinks.payments import payouts
from mindlinks.payments.payouts import PayoutRefused, PayoutRequest
from mindlinks.payments.payouts_stripe import StripePayouts
from mindlinks.payments.providers import ProviderUnavailable, StripeProvider, sign
from mindlinks.payments.withdrawals_models import PayoutDestination
from tests.factories import Account
from tests.payments.withdrawal_helpers import available, get, ready, requested, row, work

API = "https://api.stripe.com"
ACCOUNT = {"id": "acct_1QwErTyUiOpAsDfG", "object": "account", "type": "custom",
           "country": "US", "default_currency": "usd", "charges_enabled": False,
           "payouts_enabled": True, "capabilities": {"transfers": "active"},
           "metadata": {}, "external_accounts": {"object": "list", "data": [], "url": "/v1/x"}}
TRANSFER = {"id": "tr_1QwErTyUiOpAsDfGhJkL", "object": "transfer", "amount": 99500,
            "currency": "usd", "destination": "acct_1QwErTyUiOpAsDfG",
            "destination_payment": "py_1QwErTyUiOpAsDfG", "livemode": False,
            "metadata": {}, "reversed": False, "transfer_group": "withdrawal_x"}
PAYOUT = {"id": "po_1QwErTyUiOpAsDfGzXcV", "object": "payout", "amount": 99500,
          "currency": "usd", "arrival_date": 1733097600, "automatic": False,
          "method": "standard", "status": "pending", "type": "bank_account",
          "failure_code": None, "failure_message": None, "metadata": {}}
REQUEST = PayoutRequest(
    withdrawal_id=uuid.UUID("8b9f2c1e-0000-4000-8000-000000000004"),
    idempotency_key="withdrawal:8b9f2c1e-0000-4000-8000-000000000004", amount=99500,
    currency="USD", contractor_id=uuid.uuid4(), bank_account_id=uuid.uuid4(),
    account_holder_name="Ada Lovelace", country="US", bank_currency="USD",
    account_number="000123456789", routing_number="011000015")


def _adapter() -> StripePayouts:
    client = stripe.StripeClient("sk_test_123", http_client=stripe.HTTPXClient(),
                                 max_network_retries=0)
    return StripePayouts(api_key="sk_test_123", client=client)


def _form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


@respx.mock(base_url=API, assert_all_called=True)
async def test_first_payout_makes_the_account_then_transfers_then_pays_out(
        respx_mock: respx.MockRouter) -> None:
    accounts = respx_mock.post("/v1/accounts").respond(200, json=ACCOUNT)
    transfers = respx_mock.post("/v1/transfers").respond(200, json=TRANSFER)
    payouts_route = respx_mock.post("/v1/payouts").respond(200, json=PAYOUT)
    result = await _adapter().create_payout(REQUEST)
    assert (result.payout_ref, result.transfer_ref, result.connected_account, result.status) == (
        PAYOUT["id"], TRANSFER["id"], ACCOUNT["id"], "pending")

    made = accounts.calls.last.request
    assert made.headers["Idempotency-Key"] == f"connect:{REQUEST.bank_account_id}"
    form = _form(made)
    assert form["type"] == ["custom"] and form["external_account[routing_number]"] == [
        "011000015"]
    sent = transfers.calls.last.request
    assert sent.headers["Idempotency-Key"] == f"{REQUEST.idempotency_key}:transfer"
    assert _form(sent)["destination"] == [ACCOUNT["id"]]
    assert (_form(sent)["amount"], _form(sent)["currency"]) == (["99500"], ["usd"])
    paid = payouts_route.calls.last.request
    assert paid.headers["Idempotency-Key"] == f"{REQUEST.idempotency_key}:payout"
    assert paid.headers["Stripe-Account"] == ACCOUNT["id"]
    assert _form(paid)["metadata[withdrawalId]"] == [str(REQUEST.withdrawal_id)]


@respx.mock(base_url=API, assert_all_called=False)
async def test_a_known_connected_account_is_reused(respx_mock: respx.MockRouter) -> None:
    accounts = respx_mock.post("/v1/accounts").respond(200, json=ACCOUNT)
    respx_mock.post("/v1/transfers").respond(200, json=TRANSFER)
    respx_mock.post("/v1/payouts").respond(200, json=PAYOUT)
    result = await _adapter().create_payout(replace(REQUEST, connected_account="acct_known"))
    assert result.connected_account == "acct_known" and not accounts.called


@respx.mock(base_url=API)
async def test_a_refusal_is_definitive_and_an_outage_is_retryable(
        respx_mock: respx.MockRouter) -> None:
    respx_mock.post("/v1/accounts").respond(200, json=ACCOUNT)
    route = respx_mock.post("/v1/transfers")
    route.respond(400, json={"error": {
        "type": "invalid_request_error", "code": "balance_insufficient",
        "message": "Your destination account needs to have at least one of the following "
                   "capabilities enabled: transfers"}})
    with pytest.raises(PayoutRefused):
        await _adapter().create_payout(REQUEST)
    route.respond(500, json={"error": {"type": "api_error", "message": "Internal error"}})
    with pytest.raises(ProviderUnavailable):
        await _adapter().create_payout(REQUEST)
    route.side_effect = httpx.ConnectError("connection refused")
    with pytest.raises(ProviderUnavailable):
        await _adapter().create_payout(REQUEST)


def _answer(recorded: dict[str, Any]) -> Any:
    """The recorded object, with an id per idempotency key (as Stripe makes one per call)."""
    def respond(request: httpx.Request) -> httpx.Response:
        suffix = uuid.uuid5(uuid.NAMESPACE_URL, request.headers["Idempotency-Key"]).hex[:16]
        prefix = recorded["id"].split("_")[0]
        return httpx.Response(200, json={**recorded, "id": f"{prefix}_{suffix}"})
    return respond


@pytest.mark.usefixtures("db_backend")
async def test_the_worker_keeps_the_stripe_ids_and_the_connected_account(
        app: Any, client: httpx.AsyncClient, contractor: Account, monkeypatch: Any,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    payouts.install(app.state.db, _adapter())
    app.state.payments_provider = StripeProvider(api_key="sk_test_123",
                                                 webhook_secret="whsec_platform")
    monkeypatch.setenv("MINDLINKS_STRIPE_CONNECT_WEBHOOK_SECRET", "whsec_connect")
    w = await ready(app, client, contractor)
    with respx.mock(base_url=API, assert_all_called=False) as mock:
        accounts = mock.post("/v1/accounts").respond(200, json=ACCOUNT)
        mock.post("/v1/transfers").mock(side_effect=_answer(TRANSFER))
        mock.post("/v1/payouts").mock(side_effect=_answer(PAYOUT))
        first = await requested(client, w, amount="1000.00")
        await work(app)
        second = await requested(client, w, amount="1000.00")
        await work(app)
    assert accounts.call_count == 1  # the second payout reused the connected account
    for body in (first, second):
        stored = await row(app, body["id"])
        assert stored.provider == "stripe" and stored.status == "processing"
        assert stored.provider_transfer_ref.startswith("tr_")  # type: ignore[union-attr]
        assert stored.provider_payout_ref.startswith("po_")  # type: ignore[union-attr]
    async with app.state.db.session() as s:
        dest = (await s.scalars(select(PayoutDestination))).all()
    assert [(d.provider, d.external_ref) for d in dest] == [("stripe", ACCOUNT["id"])]

    with respx.mock(base_url=API) as mock:
        mock.post("/v1/transfers").respond(400, json={"error": {
            "type": "invalid_request_error", "message": "No such destination"}})
        refused = await requested(client, w, amount="1000.00")
        await work(app)
    assert (await get(client, w, refused["id"]))["status"] == "failed"
    assert await available(app, w.contractor_id) == 1_000_000 - 2 * 100_000

    # Stripe's `payout.paid` for the first one, from the Connect endpoint (its own secret).
    stored = await row(app, first["id"])
    paid = payouts.payout_event("payout.paid", payouts.payout_object(
        payout_ref=str(stored.provider_payout_ref), amount=99_500, currency="USD",
        status="paid", withdrawal_id=first["id"]), account=ACCOUNT["id"])
    signatures = []
    for secret, status in (("whsec_someone_else", 400), ("whsec_connect", 200)):
        signatures.append(sign(secret, paid))
        response = await client.post("/api/payments/webhooks/stripe", content=paid, headers={
            "Stripe-Signature": signatures[-1], "Content-Type": "application/json"})
        assert response.status_code == status, response.text
    assert (await get(client, w, first["id"]))["status"] == "completed"

    # RELIABILITY 39: the API key, both webhook secrets and a signature header never reach a
    # log line, the app's (stderr) nor any library's (caplog, DEBUG included).
    logged = capsys.readouterr().err + "\n".join(
        f"{r.name} {r.getMessage()}" for r in caplog.records)
    assert "payout" in logged  # the capture is real: the worker's lines are in it
    sent = [header.split("v1=")[1] for header in signatures]
    for secret in ("sk_test_123", "whsec_platform", "whsec_connect", *sent):
        assert secret not in logged
