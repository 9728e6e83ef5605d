"""Reconciliation of the book with the provider's records: quiet when they agree, one alert per
difference of each kind, nothing new on a re-run, tolerant of midnight; the daily job and the
CLI; Stripe's balance transactions read through the `stripe` package (respx serves recorded
shapes)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
import stripe
from sqlalchemy import func, select
from typer.testing import CliRunner

from mindlinks.cli import app as cli_app
from mindlinks.payments import reconciliation, sandbox
from mindlinks.payments.reconciliation import (
    BookRecord,
    FutureDay,
    ProviderRecord,
    SandboxRecords,
    StripeRecords,
    compare,
)
from mindlinks.platform.alerts import SystemAlert
from mindlinks.platform.db import utcnow
from mindlinks.scheduler import collect_jobs
from tests.factories import Account


def today() -> date:
    return utcnow().date()


async def settle(client: httpx.AsyncClient, pay: Any, who: Account, amount: str = "120.00",
                 currency: str = "USD") -> dict[str, Any]:
    """A deposit paid on the sandbox's page: the sandbox records it, then its webhook credits
    the escrow - both sides have it."""
    deposit = await pay.deposited(who, amount=amount, currency=currency)
    intent = deposit["paymentIntentId"]
    response = await client.post(f"/api/payments/sandbox/intents/{intent}/succeed",
                                 params={"token": pay.sandbox.page_token(intent)})
    assert response.status_code == 200 and response.json()["outcome"] == "handled"
    return deposit


async def book_only(pay: Any, who: Account, amount: str = "80.00") -> dict[str, Any]:
    """A deposit credited by a (validly signed) webhook the sandbox never settled."""
    deposit = await pay.deposited(who, amount=amount)
    assert (await pay.webhook(pay.event(deposit))).status_code == 200
    return deposit


async def record(app: Any, *, kind: str = "deposit", amount: int = 5000, currency: str = "USD",
                 reference: str, source_ref: str | None = None,
                 at: datetime | None = None) -> None:
    async with app.state.db.session() as s:
        await sandbox.record_settlement(s, kind=kind, amount=amount, currency=currency,
                                        reference=reference, source_ref=source_ref or reference,
                                        occurred_at=at)


async def run(app: Any, day: date | None = None) -> reconciliation.Report:
    async with app.state.db.session() as s:
        return await reconciliation.reconcile(s, SandboxRecords(), day or today())


async def alerts(app: Any) -> list[SystemAlert]:
    async with app.state.db.session() as s:
        return list((await s.scalars(select(SystemAlert).order_by(SystemAlert.kind))).all())


def ref(deposit: dict[str, Any]) -> str:
    return f"deposit:sandbox:{deposit['paymentIntentId']}"


async def test_books_that_agree_raise_nothing(app: Any, client: httpx.AsyncClient,
                                              acme: Account, pay: Any) -> None:
    await settle(client, pay, acme)
    await settle(client, pay, acme, amount="0.50", currency="EUR")
    report = await run(app)
    assert (report.book_movements, report.provider_movements) == (2, 2)
    assert report.differences == [] and report.alerts_raised == 0
    assert await alerts(app) == []


async def test_each_kind_of_difference_raises_one_alert(app: Any, client: httpx.AsyncClient,
                                                        acme: Account, pay: Any) -> None:
    await settle(client, pay, acme)  # agrees: no alert
    missing_at_provider = await book_only(pay, acme, "10.00")
    await record(app, reference="deposit:sandbox:pi_never_credited", amount=777)
    amount = await book_only(pay, acme, "20.00")
    await record(app, reference=ref(amount), amount=1999)
    currency = await book_only(pay, acme, "30.00")
    await record(app, reference=ref(currency), amount=3000, currency="EUR")
    direction = await book_only(pay, acme, "40.00")
    await record(app, reference=ref(direction), amount=4000, kind="payout")
    duplicate = await settle(client, pay, acme, amount="50.00")
    await record(app, reference=ref(duplicate), amount=5000, source_ref="pi_charged_twice")

    report = await run(app)
    found = {(d.kind, d.reference.split("#")[0]) for d in report.differences}
    assert found == {
        ("missing_at_provider", ref(missing_at_provider)),
        ("missing_in_book", "deposit:sandbox:pi_never_credited"),
        ("amount_mismatch", ref(amount)),
        ("currency_mismatch", ref(currency)),
        ("direction_mismatch", ref(direction)),
        ("duplicate_at_provider", ref(duplicate)),
    }
    raised = await alerts(app)
    assert report.alerts_raised == len(raised) == 6
    assert {a.source for a in raised} == {"payments.reconciliation"}
    by_kind = {a.kind: a for a in raised}
    mismatch = by_kind["amount_mismatch"].details
    assert (mismatch["book"]["amountMinor"], mismatch["provider"]["amountMinor"]) == (2000, 1999)
    assert "provider" not in by_kind["missing_at_provider"].details

    again = await run(app)  # idempotent per day: the same differences, no new alert
    assert len(again.differences) == 6 and again.alerts_raised == 0
    assert len(await alerts(app)) == 6


async def test_a_movement_across_midnight_is_not_a_difference(app: Any) -> None:
    day = date(2026, 10, 14)
    late = datetime(2026, 10, 14, 23, 59, 58, tzinfo=UTC)
    book = [BookRecord(uuid.uuid4(), "deposit:sandbox:pi_late", "deposit", "in",
                       900, "USD", late)]
    provider = [ProviderRecord("txn_1", "deposit", 900, "USD", "deposit:sandbox:pi_late",
                               late + timedelta(seconds=5))]
    for d in (day, day + timedelta(days=1)):
        start = datetime(d.year, d.month, d.day, tzinfo=UTC)
        assert compare(book, provider, start, start + timedelta(days=1)) == []
    # ... but a movement the provider never reports is a difference on its own day only.
    start = datetime(2026, 10, 14, tzinfo=UTC)
    assert [d.kind for d in compare(book, [], start, start + timedelta(days=1))] == [
        "missing_at_provider"]
    assert compare(book, [], start + timedelta(days=1), start + timedelta(days=2)) == []


async def test_a_day_that_has_not_begun_is_refused(app: Any) -> None:
    with pytest.raises(FutureDay):
        await run(app, today() + timedelta(days=2))


async def test_the_daily_job_and_the_command(app: Any, client: httpx.AsyncClient,
                                             acme: Account, pay: Any,
                                             database_url: str) -> None:
    assert "payments.reconcile" in collect_jobs()
    assert await collect_jobs()["payments.reconcile"](app.state.db) == {
        "day": (today() - timedelta(days=1)).isoformat(), "differences": 0, "alertsRaised": 0}
    await book_only(pay, acme)
    runner = CliRunner()
    args = ["payments", "reconcile", "--date", today().isoformat()]
    env = {"MINDLINKS_DATABASE_URL": database_url}
    result = await asyncio.to_thread(runner.invoke, cli_app, args, env=env)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert [d["kind"] for d in report["differences"]] == ["missing_at_provider"]
    assert report["alertsRaised"] == 1
    result = await asyncio.to_thread(runner.invoke, cli_app, args, env=env)
    assert (result.exit_code, json.loads(result.stdout)["alertsRaised"]) == (1, 0)
    bad = await asyncio.to_thread(runner.invoke, cli_app,
                                  ["payments", "reconcile", "--date", "2026-13-01"], env=env)
    assert bad.exit_code == 2
    async with app.state.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(SystemAlert)) == 1


# --- Stripe -----------------------------------------------------------------------------------

# Recorded shapes of GET /v1/balance_transactions?expand[]=data.source (trimmed to what we read)
CHARGE_TXN = {
    "id": "txn_3QchargeAAA", "object": "balance_transaction", "amount": 12000, "currency": "usd",
    "created": 1792065600, "fee": 378, "net": 11622, "type": "charge",
    "reporting_category": "charge", "status": "available",
    "source": {"id": "ch_3QchargeAAA", "object": "charge", "amount": 12000,
               "payment_intent": "pi_3QintentAAA", "metadata": {}}}
FEE_TXN = {"id": "txn_fee", "object": "balance_transaction", "amount": -200, "currency": "usd",
           "created": 1792065700, "fee": 0, "net": -200, "type": "stripe_fee",
           "source": None}
REVERSAL_TXN = {
    "id": "txn_3QrevCCC", "object": "balance_transaction", "amount": 2500, "currency": "usd",
    "created": 1792072800, "fee": 0, "net": 2500, "type": "transfer_refund",
    "source": {"id": "trr_3QrevCCC", "object": "transfer_reversal", "amount": 2500,
               "metadata": {"withdrawalId": "5b0c"}}}
CONNECT_TXN = {
    "id": "txn_3QconnDDD", "object": "balance_transaction", "amount": -2500, "currency": "usd",
    "created": 1792070000, "fee": 0, "net": -2500, "type": "transfer",
    "source": {"id": "tr_3QconnDDD", "object": "transfer", "amount": 2500,
               "metadata": {"withdrawalId": "5b0c"}}}
PAYOUT_TXN = {
    "id": "txn_3QpayoutBBB", "object": "balance_transaction", "amount": -5000,
    "currency": "eur", "created": 1792069200, "fee": 0, "net": -5000, "type": "transfer",
    "source": {"id": "tr_3QpayoutBBB", "object": "transfer", "amount": 5000,
               "metadata": {"reference": "withdrawal:8d7e:payout"}}}


def _page(data: list[dict[str, Any]], more: bool) -> dict[str, Any]:
    return {"object": "list", "url": "/v1/balance_transactions", "has_more": more, "data": data}


async def test_stripe_balance_transactions_become_provider_records() -> None:
    start = datetime(2026, 10, 14, tzinfo=UTC)
    with respx.mock(base_url="https://api.stripe.com") as mock:
        route = mock.get("/v1/balance_transactions").mock(side_effect=[
            httpx.Response(200, json=_page([CHARGE_TXN, FEE_TXN], True)),
            httpx.Response(200, json=_page([PAYOUT_TXN, CONNECT_TXN, REVERSAL_TXN], False))])
        client = stripe.StripeClient("sk_test_123", http_client=stripe.HTTPXClient(),
                                     max_network_retries=0)
        rows = await StripeRecords(client).records(None, start,  # type: ignore[arg-type]
                                                   start + timedelta(days=1))
    assert rows == [
        ProviderRecord("txn_3QchargeAAA", "deposit", 12000, "USD",
                       "deposit:stripe:pi_3QintentAAA", datetime.fromtimestamp(1792065600, UTC)),
        ProviderRecord("txn_3QpayoutBBB", "payout", 5000, "EUR", "withdrawal:8d7e:payout",
                       datetime.fromtimestamp(1792069200, UTC)),
        ProviderRecord("txn_3QconnDDD", "payout", 2500, "USD", "withdrawal:5b0c:payout",
                       datetime.fromtimestamp(1792070000, UTC)),
        ProviderRecord("txn_3QrevCCC", "payout_reversal", 2500, "USD",
                       "withdrawal:5b0c:reversal", datetime.fromtimestamp(1792072800, UTC)),
    ]
    first, second = (call.request.url.params for call in route.calls)
    assert first["created[gte]"] == str(int(start.timestamp()))
    assert first["created[lt]"] == str(int(start.timestamp()) + 86400)
    assert first["expand[0]"] == "data.source" and first["limit"] == "100"
    assert second["starting_after"] == "txn_fee"


async def test_stripe_unreachable_is_a_503() -> None:
    start = datetime(2026, 10, 14, tzinfo=UTC)
    with respx.mock(base_url="https://api.stripe.com") as mock:
        mock.get("/v1/balance_transactions").mock(return_value=httpx.Response(
            401, json={"error": {"type": "invalid_request_error", "message": "bad key"}}))
        client = stripe.StripeClient("sk_test_bad", http_client=stripe.HTTPXClient(),
                                     max_network_retries=0)
        with pytest.raises(reconciliation.ProviderUnavailable):
            await StripeRecords(client).records(None, start,  # type: ignore[arg-type]
                                                start + timedelta(days=1))


async def test_admins_read_the_alerts(app: Any, client: httpx.AsyncClient, acme: Account,
                                      pay: Any, admin: dict[str, Any]) -> None:
    await book_only(pay, acme)
    await run(app)
    response = await client.get("/api/admin/alerts", headers=admin["headers"],
                                params={"source": "payments.reconciliation"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["meta"]["total"] == 1
    (alert,) = body["data"]
    assert alert["kind"] == "missing_at_provider" and alert["resolvedAt"] is None
    assert alert["details"]["book"]["amountMinor"] == 8000
    refused = await client.get("/api/admin/alerts", headers=acme.headers)
    assert refused.status_code == 403


async def test_concurrent_runs_raise_each_alert_once(app: Any, acme: Account, pay: Any,
                                                     db_backend: str) -> None:
    if db_backend != "postgresql":
        pytest.skip("SQLite serialises writers: a race cannot happen there")
    for amount in ("1.00", "2.00", "3.00"):
        await book_only(pay, acme, amount)
    reports = await asyncio.gather(*[run(app) for _ in range(10)])
    assert all(len(r.differences) == 3 for r in reports)
    assert sum(r.alerts_raised for r in reports) == 3
    assert len(await alerts(app)) == 3


# --- payouts (withdrawals) --------------------------------------------------------------------


async def test_payouts_are_reconciled_with_the_sandbox_payout_store(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    from tests.payments import withdrawal_helpers as wh

    w = await wh.ready(app, client, contractor)
    outcomes = {}
    for amount, outcome in (("100.00", "complete"), ("50.00", "fail-after-paid"),
                            ("20.00", "fail")):
        row = await wh.requested(client, w, amount=amount)
        await wh.work(app)
        await wh.bank(app, row["id"], outcome)  # type: ignore[arg-type]
        outcomes[outcome] = row
    report = await run(app)
    # Paid (out), paid then failed (out and back), failed before paid (nothing moved).
    assert (report.book_movements, report.provider_movements) == (3, 3)
    assert report.differences == []

    paid = outcomes["complete"]["id"]
    store = wh.sandbox(app)
    record = store.by_key(f"withdrawal:{paid}")
    assert record is not None and record.status == "paid"
    store._path(record.idempotency_key).unlink()  # the provider has no such payout
    report = await run(app)
    assert [(d.kind, d.reference) for d in report.differences] == [
        ("missing_at_provider", f"withdrawal:{paid}:payout")]
