"""Withdrawals (issue 14 §1): the seed's shapes and example, every refusal with its code and
nothing changed, the hold and the flow pending -> processing -> completed | failed | reversed,
cancel, the list and its filters, another contractor's withdrawal (404), the wallet."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from mindlinks.contractors.models import ContractorProfile
from mindlinks.countries.models import CountryRule
from mindlinks.payments import payouts
from mindlinks.payments.fees import add_business_days
from mindlinks.payments.jobs import JOBS
from mindlinks.payments.models import Account as BookAccount
from mindlinks.payments.models import Purpose, Transfer
from mindlinks.payments.providers import ProviderUnavailable
from mindlinks.payments.withdrawals_models import Withdrawal
from mindlinks.platform.audit import AuditLog
from mindlinks.platform.db import utcnow
from mindlinks.platform.events import OutboxEvent
from tests.contractors.conftest import add_us_account, statement_amounts
from tests.factories import Account, register
from tests.payments.withdrawal_helpers import (
    KEYS,
    PATH,
    available,
    bank,
    get,
    ready,
    request,
    requested,
    row,
    sandbox,
    work,
)

pytestmark = pytest.mark.usefixtures("db_backend")


async def _count(app: Any) -> int:
    async with app.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Withdrawal)) or 0)


async def _platform(app: Any, purpose: str, currency: str = "USD") -> int:
    """Posted balance (credits - debits) of a platform account."""
    async with app.state.db.session() as s:
        a = await s.scalar(select(BookAccount).where(
            BookAccount.owner_type == "platform", BookAccount.purpose == purpose,
            BookAccount.currency == currency))
        return 0 if a is None else a.credits_posted - a.debits_posted


async def _types(app: Any, client: httpx.AsyncClient, who: Account) -> list[str]:
    await app.state.dispatcher.drain()
    await app.state.notifier.drain()
    body = (await client.get("/api/notifications/me", headers=who.headers)).json()
    return [n["type"] for n in body["data"]]


async def test_the_seed_example_reproduces_and_pays_out_once(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w = await ready(app, client, contractor)  # Egypt, 10,000.00 USD in the wallet
    before = utcnow()
    body = await requested(client, w, amount=5000.00)
    assert set(body) == KEYS
    assert (body["amount"], body["currency"], body["fee"], body["netAmount"]) == (
        5000.0, "USD", 25.0, 4975.0)
    assert body["status"] == "pending"
    assert body["estimatedArrival"] == str(add_business_days(before.date(), 3))
    assert body["withdrawalMethod"] == {"type": "bank_transfer",
                                        "bankName": "National Bank of Egypt",
                                        "accountNumber": "****6789"}
    # The hold: the money left the available balance at once.
    assert await available(app, w.contractor_id) == 1_000_000 - 500_000
    assert await get(client, w, body["id"]) == body

    await work(app)  # the worker hands it to the provider
    assert (await get(client, w, body["id"]))["status"] == "processing"
    [payout] = sandbox(app).all()
    assert (payout.amount, payout.currency, payout.withdrawal_id) == (497_500, "USD", body["id"])
    stored = await row(app, body["id"])
    assert stored.provider_payout_ref == payout.payout_ref
    assert stored.provider_transfer_ref == payout.transfer_ref
    await work(app)  # a redelivery pays nothing more
    assert len(sandbox(app).all()) == 1 and sandbox(app).all()[0].requests == 1

    assert await bank(app, body["id"], "complete") == ["payout.paid: handled"]
    done = await get(client, w, body["id"])
    assert done["status"] == "completed" and done["completedAt"]
    assert await available(app, w.contractor_id) == 500_000
    assert await _platform(app, Purpose.PLATFORM_FEE_REVENUE) == 2_500
    assert await _platform(app, Purpose.PROCESSOR_CLEARING) == 497_500
    async with app.state.db.session() as s:  # the in-flight account is empty again
        flight = await s.scalar(select(BookAccount).where(
            BookAccount.owner_id == w.contractor_id,
            BookAccount.purpose == Purpose.WITHDRAWALS_IN_FLIGHT))
        assert flight is not None and flight.credits_posted == flight.debits_posted == 500_000
        assert flight.credits_pending == 0
    types = await _types(app, client, contractor)
    # The first payout to this account is a security notice, then the completion.
    assert "payout_new_account" in types and "withdrawal_completed" in types
    wallet = (await client.get("/api/payments/contractor/me/wallet", headers=w.headers)).json()
    assert wallet["lastWithdrawal"] == {"amount": 5000.0, "date": str(utcnow().date()),
                                        "status": "completed"}


async def test_each_refusal_has_its_code_and_changes_nothing(
        app: Any, client: httpx.AsyncClient, contractor: Account, other: Account) -> None:
    w = await ready(app, client, contractor)
    stranger = await ready(app, client, other, kyc=False)
    cases = [
        ({"amount": "10.001"}, 422, "too_many_decimals"),
        ({"amount": "10.00"}, 422, "amount_below_minimum"),  # EG minimum: 20.00 USD
        ({"amount": "10000.01"}, 422, "insufficient_funds"),
        ({"currency": "EUR"}, 422, "currency_not_held"),
        ({"currency": "XYZ"}, 422, "unsupported_currency"),
        ({"methodType": "paypal"}, 422, "method_unavailable"),
        ({"methodType": "wise"}, 422, "method_unavailable"),
        ({"withdrawalMethodId": stranger.method_id}, 404, "bank_account_not_found"),
        ({"withdrawalMethodId": str(uuid.uuid4())}, 404, "bank_account_not_found"),
        ({"amount": "-5.00"}, 422, "validation_error"),
        ({"quoteId": str(uuid.uuid4())}, 404, "quote_not_found"),  # no such quote
    ]
    for extra, status, code in cases:
        response = await request(client, w, **extra)
        assert (response.status_code, response.json()["code"]) == (status, code), extra
    # Not KYC-verified: 403; an account whose micro-deposits are not confirmed: 409.
    response = await request(client, stranger)
    assert (response.status_code, response.json()["code"]) == (403, "kyc_required")
    unverified = await ready(app, client, Account(await register(client, "contractor")),
                             verify=False)
    response = await request(client, unverified)
    assert (response.status_code, response.json()["code"]) == (409, "bank_account_not_verified")
    # No country on the profile: nothing prices the fee.
    async with app.state.db.session() as s:
        country = await s.scalar(select(ContractorProfile.country)
                                 .where(ContractorProfile.id == w.contractor_id))
        await s.execute(update(ContractorProfile).where(ContractorProfile.id == w.contractor_id)
                        .values(country=None))
    response = await request(client, w)
    assert (response.status_code, response.json()["code"]) == (422, "payout_country_required")
    # The profile's country no longer served (its rule deactivated since it was chosen).
    async with app.state.db.session() as s:
        await s.execute(update(ContractorProfile).where(ContractorProfile.id == w.contractor_id)
                        .values(country=country))
        await s.execute(update(CountryRule).where(CountryRule.country_code == country)
                        .values(is_active=False))
    response = await request(client, w)
    assert (response.status_code, response.json()["code"]) == (422, "country_not_supported")
    assert await _count(app) == 0
    assert await available(app, w.contractor_id) == 1_000_000
    assert sandbox(app).all() == []


async def test_the_whole_available_balance_can_be_withdrawn_and_not_a_cent_more(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w = await ready(app, client, contractor, funds=10_000)  # 100.00
    first = await requested(client, w, amount="60.00")
    # The first withdrawal, still in flight, counts against the balance.
    response = await request(client, w, amount="40.01")
    assert (response.status_code, response.json()["code"]) == (422, "insufficient_funds")
    second = await requested(client, w, amount="40.00")
    assert await available(app, w.contractor_id) == 0
    assert {first["status"], second["status"]} == {"pending"}


async def test_cancel_only_while_pending_releases_the_hold(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w = await ready(app, client, contractor)
    body = await requested(client, w, amount="100.00")
    cancelled = await client.post(f"{PATH}/{body['id']}/cancel", headers=w.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert await available(app, w.contractor_id) == 1_000_000
    again = await client.post(f"{PATH}/{body['id']}/cancel", headers=w.headers)
    assert again.status_code == 200 and again.json() == cancelled.json()
    await work(app)  # the worker skips a cancelled withdrawal: nothing is paid out
    assert sandbox(app).all() == []

    sent = await requested(client, w, amount="100.00")
    await work(app)
    late = await client.post(f"{PATH}/{sent['id']}/cancel", headers=w.headers)
    assert (late.status_code, late.json()["code"]) == (409, "invalid_transition")
    assert (await get(client, w, sent["id"]))["status"] == "processing"


async def test_a_failed_payout_voids_the_hold_at_once(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w = await ready(app, client, contractor)
    body = await requested(client, w, amount="1000.00")
    await work(app)
    assert await bank(app, body["id"], "fail") == ["payout.failed: handled"]
    failed = await get(client, w, body["id"])
    assert failed["status"] == "failed" and "closed" in failed["failureReason"]
    assert await available(app, w.contractor_id) == 1_000_000
    assert await _platform(app, Purpose.PLATFORM_FEE_REVENUE) == 0
    assert "withdrawal_failed" in await _types(app, client, contractor)


async def test_paid_then_failed_is_reversed_with_visible_transfers(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w = await ready(app, client, contractor)
    body = await requested(client, w, amount="1000.00")
    await work(app)
    assert await bank(app, body["id"], "fail-after-paid") == [
        "payout.paid: handled", "payout.failed: handled"]
    assert (await get(client, w, body["id"]))["status"] == "reversed"
    assert await available(app, w.contractor_id) == 1_000_000  # money available again
    assert await _platform(app, Purpose.PLATFORM_FEE_REVENUE) == 0  # fee refunded
    assert await _platform(app, Purpose.PROCESSOR_CLEARING) == 0
    async with app.state.db.session() as s:
        codes = sorted((await s.scalars(select(Transfer.code).where(
            Transfer.reference.like(f"withdrawal:{body['id']}%")))).all())
    # Nothing edited: the hold, its post, the payout and fee, then the two corrections.
    assert codes == ["withdrawal", "withdrawal", "withdrawal_fee", "withdrawal_fee_refund",
                     "withdrawal_payout", "withdrawal_reversal"]
    assert "withdrawal_reversed" in await _types(app, client, contractor)


async def test_list_filters_and_pages(app: Any, client: httpx.AsyncClient,
                                      contractor: Account) -> None:
    w = await ready(app, client, contractor)
    ids = [(await requested(client, w, amount="100.00"))["id"] for _ in range(3)]
    await work(app)
    await bank(app, ids[0], "complete")
    await bank(app, ids[1], "fail")

    async def listed(**params: Any) -> dict[str, Any]:
        response = await client.get(PATH, headers=w.headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    assert [r["id"] for r in (await listed(status="completed"))["data"]] == [ids[0]]
    assert [r["id"] for r in (await listed(status="failed"))["data"]] == [ids[1]]
    assert [r["id"] for r in (await listed(status="processing"))["data"]] == [ids[2]]
    page = await listed(limit=2, page=2)
    assert page["meta"] == {"total": 3, "page": 2, "limit": 2, "totalPages": 2}
    assert len(page["data"]) == 1
    bad = await client.get(PATH, headers=w.headers, params={"status": "lost"})
    assert bad.status_code == 422


async def test_another_contractors_withdrawal_is_not_found(
        app: Any, client: httpx.AsyncClient, contractor: Account, other: Account) -> None:
    w = await ready(app, client, contractor)
    body = await requested(client, w, amount="100.00")
    for method, path in (("GET", f"{PATH}/{body['id']}"),
                         ("POST", f"{PATH}/{body['id']}/cancel")):
        response = await client.request(method, path, headers=other.headers)
        assert (response.status_code, response.json()["code"]) == (404, "withdrawal_not_found")
    listed = (await client.get(PATH, headers=other.headers)).json()
    assert listed["data"] == [] and listed["meta"]["total"] == 0
    assert (await get(client, w, body["id"]))["status"] == "pending"


async def test_an_account_in_another_name_is_refused(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w = await ready(app, client, contractor)
    theirs = await add_us_account(client, contractor, accountHolderName="John Smith")
    assert theirs["nameMismatch"] is True
    verified = await client.post(f"/api/contractors/me/bank-accounts/{theirs['id']}/verify",
                                 headers=w.headers,
                                 json={"amounts": statement_amounts(app, theirs["id"])})
    assert verified.status_code == 200, verified.text
    response = await request(client, w, withdrawalMethodId=theirs["id"])
    assert (response.status_code, response.json()["code"]) == (409, "bank_account_name_mismatch")
    assert await _count(app) == 0 and await available(app, w.contractor_id) == 1_000_000


async def test_a_payout_the_worker_gave_up_on_is_sent_by_the_daily_job(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    w = await ready(app, client, contractor)
    body = await requested(client, w, amount="100.00")
    store = sandbox(app)

    class Down:
        name, methods = store.name, store.methods

        async def create_payout(self, request: Any) -> Any:
            raise ProviderUnavailable("the provider is down")

    payouts.install(app.state.db, Down())
    await work(app)  # the delivery fails (retried later, parked in the end)
    assert (await row(app, body["id"])).status == "processing" and store.all() == []
    payouts.install(app.state.db, store)
    job = JOBS["payments.resend_stuck_payouts"]
    assert await job(app.state.db) == 0  # not an hour old yet
    assert await job(app.state.db, utcnow() + timedelta(hours=2)) == 1
    assert await job(app.state.db, utcnow() + timedelta(hours=2)) == 0  # sent: nothing stuck
    [payout] = store.all()
    assert (await row(app, body["id"])).provider_payout_ref == payout.payout_ref
    assert await bank(app, body["id"], "complete") == ["payout.paid: handled"]


async def test_the_velocity_limit_counts_every_withdrawal_of_the_last_24_hours(
        app: Any, client: httpx.AsyncClient, contractor: Account,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app.state.settings, "withdrawals_per_day", 2)
    w = await ready(app, client, contractor)
    first = await requested(client, w, amount="100.00")
    cancelled = await client.post(f"{PATH}/{first['id']}/cancel", headers=w.headers)
    assert cancelled.status_code == 200  # a cancelled withdrawal still counts
    await requested(client, w, amount="100.00")
    balance = await available(app, w.contractor_id)

    refused = await request(client, w, amount="100.00")
    assert (refused.status_code, refused.json()["code"]) == (429, "withdrawal_limit_exceeded")
    assert 0 < int(refused.headers["Retry-After"]) <= 24 * 3600 + 1
    assert await _count(app) == 2 and await available(app, w.contractor_id) == balance

    # A day after the first, one more fits.
    async with app.state.db.session() as s:
        old = await s.get(Withdrawal, uuid.UUID(first["id"]))
        assert old is not None
        old.created_at = utcnow() - timedelta(hours=25)
    await requested(client, w, amount="100.00")
    assert await _count(app) == 3


async def test_the_request_flags_a_new_payout_account_and_is_audited(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    """`withdrawal.requested` says whether money already went (or is going) to this bank
    account - the security mail's trigger - and each request leaves one audit line; both
    are written by the request's one write statement."""
    w = await ready(app, client, contractor)
    first = await requested(client, w, amount="100.00")
    await client.post(f"{PATH}/{first['id']}/cancel", headers=w.headers)
    second = await requested(client, w, amount="100.00")  # the first never paid: still new
    third = await requested(client, w, amount="100.00")
    async with app.state.db.session() as s:
        flags = {e.payload["withdrawalId"]: e.payload["newPayoutAccount"]
                 for e in (await s.scalars(select(OutboxEvent).where(
                     OutboxEvent.name == "withdrawal.requested"))).all()}
        audited = (await s.scalars(select(AuditLog.entity_id).where(
            AuditLog.action == "payments.withdrawal.requested"))).all()
    assert flags == {first["id"]: True, second["id"]: True, third["id"]: False}
    assert sorted(audited) == sorted([first["id"], second["id"], third["id"]])
