"""Helpers of the quote tests: a contractor of a given country with a verified payout account,
and shortcuts to ask for a quote and to read the quote row."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from mindlinks.payments.quotes_models import WithdrawalQuote
from tests.contractors.conftest import add_us_account, complete_profile, statement_amounts

BANK = "/api/contractors/me/bank-accounts"
QUOTE = "/api/payments/contractor/me/withdrawals/quote"
QUOTES = "/api/payments/contractor/me/withdrawals/quotes"
RATES = "/api/admin/payments/fx-rates"


async def payee(client: httpx.AsyncClient, app: Any, who: Any, country: str = "GB",
                **account: Any) -> str:
    """Profile in `country` (its rule prices the withdrawal) and a verified US bank account;
    the account's id."""
    await complete_profile(client, who, country=country)
    created = await add_us_account(client, who, **account)
    verified = await client.post(f"{BANK}/{created['id']}/verify", headers=who.headers,
                                 json={"amounts": statement_amounts(app, created["id"])})
    assert verified.json()["status"] == "verified", verified.text
    return str(created["id"])


async def quote(client: httpx.AsyncClient, who: Any, method: str, amount: Any = "1000.00",
                currency: str = "USD", target: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"amount": amount, "currency": currency,
                            "withdrawalMethodId": method}
    if target:
        body["targetCurrency"] = target
    return await client.post(QUOTE, json=body, headers=who.headers)


async def quoted(client: httpx.AsyncClient, who: Any, method: str, **kw: Any) -> dict[str, Any]:
    response = await quote(client, who, method, **kw)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def contractor_id(client: httpx.AsyncClient, who: Any) -> uuid.UUID:
    response = await client.get("/api/contractors/me", headers=who.headers)
    return uuid.UUID(response.json()["id"])


async def quote_row(app: Any, quote_id: str) -> WithdrawalQuote:
    async with app.state.db.session() as session:
        row = await session.get(WithdrawalQuote, uuid.UUID(quote_id))
        assert row is not None
        return row
