"""Client escrow and funding through the API: a deposit creates a payment intent and moves no
money; the provider's signed webhook credits the escrow exactly once."""

from __future__ import annotations

from typing import Any

import httpx

from tests.clients.conftest import Account


async def test_a_card_deposit_credits_escrow_only_when_the_webhook_says_succeeded(
        client: httpx.AsyncClient, acme: Account, pay: Any) -> None:
    deposit = await pay.deposited(acme, amount="500.00")
    assert deposit["status"] == "requires_payment" and deposit["method"] == "card"
    assert deposit["clientSecret"].startswith(deposit["paymentIntentId"] + "_secret_")
    assert deposit["amount"] == 500.0 and deposit["currency"] == "USD"
    assert await pay.available(acme) == 0  # an intent is not money

    response = await pay.webhook(pay.event(deposit))
    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "handled"
    escrow = await pay.escrow(acme)
    assert escrow["balances"] == [{"currency": "USD", "balance": 500.0,
                                   "pendingPayments": 0.0, "availableBalance": 500.0}]
    rows = escrow["transactions"]["data"]
    assert [(r["code"], r["direction"], r["amount"]) for r in rows] == [
        ("deposit", "credit", 500.0)]
    assert escrow["transactions"]["meta"]["total"] == 1
    got = await client.get(f"/api/payments/client/me/deposits/{deposit['id']}",
                           headers=acme.headers)
    assert got.json()["status"] == "succeeded"


async def test_a_bank_transfer_deposit_gives_a_reference_and_instructions(
        acme: Account, pay: Any) -> None:
    deposit = await pay.deposited(acme, amount="1200", currency="EUR", method="bank_transfer")
    assert deposit["bankReference"] and deposit["clientSecret"] is None
    assert deposit["bankInstructions"]["reference"] == deposit["bankReference"]
    assert deposit["bankInstructions"]["iban"]


async def test_the_sandbox_page_succeeds_fails_or_delays_a_payment(
        client: httpx.AsyncClient, acme: Account, pay: Any) -> None:
    deposit = await pay.deposited(acme, amount="80.00")
    url = deposit["hostedUrl"].split("testserver", 1)[-1]
    intent, token = deposit["paymentIntentId"], url.split("token=")[1]
    page = await client.get(url)
    assert page.status_code == 200 and "80.00 USD" in page.text
    assert (await client.get(f"/payments/sandbox/{intent}?token=wrong")).status_code == 404
    delayed = await client.post(f"/payments/sandbox/{intent}",
                                data={"token": token, "outcome": "delay"})
    assert "handled" in delayed.text
    assert (await client.get(f"/api/payments/client/me/deposits/{deposit['id']}",
                             headers=acme.headers)).json()["status"] == "processing"
    await client.post(f"/payments/sandbox/{intent}", data={"token": token, "outcome": "succeed"})
    assert await pay.available(acme) == 80.0
    # A failure after success changes nothing (final state).
    await client.post(f"/payments/sandbox/{intent}", data={"token": token, "outcome": "fail"})
    assert await pay.available(acme) == 80.0

    failing = await pay.deposited(acme, amount="10.00")
    ftoken = failing["hostedUrl"].split("token=")[1]
    response = await client.post(
        f"/api/payments/sandbox/intents/{failing['paymentIntentId']}/fail",
        params={"token": ftoken})
    assert response.json()["outcome"] == "handled"
    assert (await client.get(f"/api/payments/client/me/deposits/{failing['id']}",
                             headers=acme.headers)).json()["status"] == "failed"
    assert await pay.available(acme) == 80.0


async def test_bad_deposits_are_refused_and_change_nothing(
        client: httpx.AsyncClient, acme: Account, pay: Any) -> None:
    cases = [("0", "USD", "card", 422), ("-5", "USD", "card", 422),
             ("1.005", "USD", "card", 422), ("10", "USD", "cheque", 422),
             ("10", "XXQ", "card", 422), ("10000000000", "USD", "card", 422)]
    for amount, currency, method, expected in cases:
        response = await pay.deposit(acme, amount=amount, currency=currency, method=method)
        assert response.status_code == expected, (amount, currency, method, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await pay.escrow(acme))["balances"] == []


async def test_another_clients_escrow_deposit_and_transaction_are_404(
        client: httpx.AsyncClient, acme: Account, globex: Account, pay: Any) -> None:
    deposit = await pay.deposited(acme)
    await pay.webhook(pay.event(deposit))
    transfer_id = (await pay.escrow(acme))["transactions"]["data"][0]["id"]
    assert (await pay.escrow(globex))["balances"] == []
    for path in (f"/api/payments/client/me/deposits/{deposit['id']}",
                 f"/api/payments/client/me/escrow/transactions/{transfer_id}"):
        mine = await client.get(path, headers=acme.headers)
        theirs = await client.get(path, headers=globex.headers)
        assert mine.status_code == 200, mine.text
        assert theirs.status_code == 404, theirs.text


async def test_contractors_and_anonymous_callers_cannot_use_client_routes(
        client: httpx.AsyncClient, pay: Any) -> None:
    from tests.factories import register

    worker = Account(await register(client, "contractor"))
    assert (await client.get("/api/payments/client/me/escrow",
                             headers=worker.headers)).status_code == 403
    assert (await client.get("/api/payments/client/me/escrow")).status_code == 401
    assert (await pay.deposit(worker)).status_code == 403
