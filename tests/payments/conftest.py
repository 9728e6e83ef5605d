"""Fixtures of the payments API tests: two client companies (registered through the API),
an admin, and helpers to deposit and to deliver provider webhooks signed as Stripe signs."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from mindlinks.payments.providers import SandboxProvider, get_provider, intent_event
from tests.clients.conftest import VERIFIED_COMPANY, Account
from tests.factories import admin_tokens, bearer, register


async def _company(client: httpx.AsyncClient, legal_name: str) -> Account:
    owner = Account(await register(client, "client", name="Grace Hopper"))
    response = await client.post("/api/clients/companies",
                                 json={**VERIFIED_COMPANY, "legalName": legal_name},
                                 headers=owner.headers)
    assert response.status_code == 201, response.text
    return owner


@pytest.fixture
async def acme(client: httpx.AsyncClient) -> Account:
    return await _company(client, "Acme Widgets Ltd")


@pytest.fixture
async def globex(client: httpx.AsyncClient) -> Account:
    return await _company(client, "Globex Corporation")


@pytest.fixture
async def admin(app: Any, client: httpx.AsyncClient) -> dict[str, Any]:
    tokens = await admin_tokens(app, client)
    return {**tokens, "headers": bearer(tokens["accessToken"])}


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def pay(app: Any, client: httpx.AsyncClient) -> Any:
    class Pay:
        @property
        def sandbox(self) -> SandboxProvider:
            provider = get_provider(app.state)
            assert isinstance(provider, SandboxProvider)
            return provider

        async def deposit(self, who: Account, amount: Any = "500.00", currency: str = "USD",
                          method: str = "card", idempotency_key: str | None = None
                          ) -> httpx.Response:
            return await client.post(
                "/api/payments/client/me/deposits",
                json={"amount": amount, "currency": currency, "method": method},
                headers={**who.headers, "Idempotency-Key": idempotency_key or key()})

        async def deposited(self, who: Account, **kw: Any) -> dict[str, Any]:
            response = await self.deposit(who, **kw)
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        def event(self, deposit: dict[str, Any], event_type: str = "payment_intent.succeeded",
                  event_id: str | None = None, amount_minor: int | None = None) -> bytes:
            minor = amount_minor if amount_minor is not None else round(
                float(deposit["amount"]) * 100)
            intent = {"id": deposit["paymentIntentId"], "object": "payment_intent",
                      "amount": minor, "amount_received": minor,
                      "currency": deposit["currency"].lower(), "status": "succeeded"}
            return intent_event(event_type, intent, event_id=event_id)

        async def webhook(self, body: bytes, headers: dict[str, str] | None = None,
                          provider: str = "sandbox") -> httpx.Response:
            return await client.post(f"/api/payments/webhooks/{provider}", content=body,
                                     headers=headers if headers is not None
                                     else self.sandbox.signed_headers(body))

        async def escrow(self, who: Account, **params: Any) -> dict[str, Any]:
            response = await client.get("/api/payments/client/me/escrow", headers=who.headers,
                                        params=params)
            assert response.status_code == 200, response.text
            return response.json()  # type: ignore[no-any-return]

        async def available(self, who: Account, currency: str = "USD") -> float:
            rows = (await self.escrow(who))["balances"]
            return next((r["availableBalance"] for r in rows if r["currency"] == currency), 0)

    return Pay()


def stale(seconds: int) -> int:
    return int(time.time()) - seconds


def loads(body: bytes) -> Any:
    return json.loads(body)


@pytest.fixture
def settings(settings: Any) -> Any:
    """The payments tests make many withdrawals for one contractor in a day (races, random
    sequences): the velocity limit is lifted here and tested on its own (it sets it low)."""
    return settings.model_copy(update={"withdrawals_per_day": 10_000})
