"""The Stripe adapter against Stripe's HTTP API shapes (a recorded PaymentIntent answer served
by an httpx transport: Stripe itself cannot run here). What matters to us: the amount in minor
units and the currency go out as Stripe expects, the request's idempotency key is forwarded,
and the client secret comes back; a Stripe failure is a 503 problem, not a crash."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import stripe

from mindlinks.payments.providers import ProviderUnavailable, StripeProvider

INTENT = {"id": "pi_3QabcDEF", "object": "payment_intent", "amount": 50000,
          "currency": "usd", "status": "requires_payment_method",
          "client_secret": "pi_3QabcDEF_secret_xyz", "metadata": {"clientId": "c1"}}


def _provider(handler: Any) -> StripeProvider:
    http = stripe.HTTPXClient()
    # The package builds its own AsyncClient; ours serves the recorded answers.
    http._client_async = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = stripe.StripeClient("sk_test_123", http_client=http, max_network_retries=0)
    return StripeProvider(api_key="sk_test_123", webhook_secret="whsec_x", client=client)


async def test_a_card_deposit_creates_a_payment_intent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=INTENT)

    intent = await _provider(handler).create_deposit(
        amount=50000, currency="USD", method="card", idempotency_key="deposit:u:k1",
        metadata={"clientId": "c1"})
    assert intent.provider_ref == "pi_3QabcDEF"
    assert intent.client_secret == "pi_3QabcDEF_secret_xyz"
    (request,) = seen
    assert request.url.path == "/v1/payment_intents"
    assert request.headers["Idempotency-Key"] == "deposit:u:k1"
    form = parse_qs(request.content.decode())
    assert form["amount"] == ["50000"] and form["currency"] == ["usd"]
    assert form["payment_method_types[0]"] == ["card"]


async def test_a_stripe_error_is_a_503_problem() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(402, content=json.dumps({"error": {
            "type": "invalid_request_error", "message": "Amount too small"}}))

    with pytest.raises(ProviderUnavailable) as caught:
        await _provider(handler).create_deposit(
            amount=1, currency="USD", method="card", idempotency_key="k",
            metadata={})
    assert caught.value.status == 503
