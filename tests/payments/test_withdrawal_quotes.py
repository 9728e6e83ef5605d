"""Withdrawals under a fee and FX quote: `quoteId` is taken in the withdrawal's transaction, its
fee replaces the rule's, and a target currency is paid out in that currency through the FX
liquidity accounts - the book summing to zero per currency at every step.

The contractor is in Egypt (0.50 %, no flat part, 20.00 USD minimum, 3 business days) with
10,000.00 USD; the sandbox rates are 1.08 USD and 53.5 EGP per EUR, the spread 50 bps."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from mindlinks.countries.models import CountryRule
from mindlinks.payments.models import Account as BookAccount
from mindlinks.payments.models import Purpose, Transfer
from mindlinks.payments.quotes_models import WithdrawalQuote
from mindlinks.platform.db import utcnow
from tests.factories import Account
from tests.payments.quote_helpers import QUOTES, quote_row, quoted
from tests.payments.withdrawal_helpers import (
    Withdrawer,
    available,
    bank,
    get,
    ready,
    request,
    requested,
    sandbox,
    work,
)

# 1,000.00 USD -> EGP: fee 5.00 (0.5 %), net 995.00, spread 4.975 -> 4.98, 990.02 converted at
# 53.5 / 1.08 = 49.5370370370 -> 49,042.657... EGP, rounded down to 49,042.65.
TARGET = 4_904_265


async def _quote(client: httpx.AsyncClient, w: Withdrawer, **kw: Any) -> dict[str, Any]:
    return await quoted(client, w.who, w.method_id, **kw)


async def _book(app: Any) -> dict[tuple[str, str, str], int]:
    """Posted balance of every account by (owner type, purpose, currency); asserts that each
    currency sums to zero, pending amounts included."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    async with app.state.db.session() as s:
        for a in (await s.scalars(select(BookAccount))).all():
            totals[a.currency][0] += a.credits_posted - a.debits_posted
            totals[a.currency][1] += a.credits_pending - a.debits_pending
            out[(a.owner_type, a.purpose, a.currency)] += a.credits_posted - a.debits_posted
    assert all(t == [0, 0] for t in totals.values()), dict(totals)
    return out


async def test_a_quote_s_fee_replaces_the_rule_s_and_is_used_once(app, client, contractor):
    w = await ready(app, client, contractor)
    offer = await _quote(client, w, amount="5000.00")
    assert offer["fee"] == {"flat": 0.0, "percent": 25.0, "fx": 0.0}
    # The rule changes after the quote: the quote's fee still holds for its withdrawal.
    async with app.state.db.session() as s:
        await s.execute(update(CountryRule).where(CountryRule.country_code == "EG")
                        .values(withdrawal_fee_flat=1_000, withdrawal_fee_bps=100))
    body = await requested(client, w, amount="5000.00", quoteId=offer["quoteId"])
    assert (body["fee"], body["netAmount"], body["quoteId"]) == (25.0, 4975.0, offer["quoteId"])
    assert (body["targetAmount"], body["targetCurrency"]) == (4975.0, "USD")
    assert (await quote_row(app, offer["quoteId"])).withdrawal_id == uuid.UUID(body["id"])
    # Without a quote the current rule applies: 10.00 + 1 % of 1,000.00.
    plain = await requested(client, w, amount="1000.00")
    assert plain["fee"] == 20.0
    held = await available(app, w.contractor_id)
    again = await request(client, w, amount="5000.00", quoteId=offer["quoteId"])
    assert again.status_code == 409 and again.json()["code"] == "quote_used"
    assert await available(app, w.contractor_id) == held  # nothing changed


async def test_a_quote_paid_out_in_another_currency(app, client, contractor):
    w = await ready(app, client, contractor)
    offer = await _quote(client, w, amount="1000.00", target="EGP")
    assert offer["fee"] == {"flat": 0.0, "percent": 5.0, "fx": 4.98}
    assert (offer["targetAmount"], offer["targetCurrency"]) == (TARGET / 100, "EGP")
    body = await requested(client, w, amount="1000.00", quoteId=offer["quoteId"])
    assert (body["amount"], body["currency"], body["fee"], body["netAmount"]) == (
        1000.0, "USD", 9.98, 990.02)
    assert (body["targetAmount"], body["targetCurrency"]) == (TARGET / 100, "EGP")
    # The hold is in USD, for the whole amount; nothing is converted yet.
    assert await available(app, w.contractor_id) == 1_000_000 - 100_000
    before = await _book(app)
    assert before[("platform", Purpose.FX_LIQUIDITY, "USD")] == 0

    await work(app)
    [payout] = sandbox(app).all()
    assert (payout.amount, payout.currency) == (TARGET, "EGP")  # leaves in the target currency
    assert await bank(app, body["id"], "complete") == ["payout.paid: handled"]
    assert (await get(client, w, body["id"]))["status"] == "completed"
    after = await _book(app)
    assert after[("contractor", Purpose.CONTRACTOR_WALLET, "USD")] == 1_000_000 - 100_000
    assert after[("platform", Purpose.PLATFORM_FEE_REVENUE, "USD")] == 500 + 498
    assert after[("platform", Purpose.FX_LIQUIDITY, "USD")] == 99_002
    assert after[("platform", Purpose.FX_LIQUIDITY, "EGP")] == -TARGET
    assert after[("platform", Purpose.PROCESSOR_CLEARING, "EGP")] == TARGET
    async with app.state.db.session() as s:
        codes = sorted((await s.scalars(select(Transfer.code).where(
            Transfer.reference.like(f"withdrawal:{body['id']}%")))).all())
    assert codes == ["fx_conversion", "fx_conversion", "fx_spread", "withdrawal", "withdrawal",
                     "withdrawal_fee"]


async def test_a_converted_payout_reversed_after_paid_comes_back_visibly(app, client,
                                                                         contractor):
    w = await ready(app, client, contractor)
    offer = await _quote(client, w, amount="1000.00", target="EGP")
    body = await requested(client, w, amount="1000.00", quoteId=offer["quoteId"])
    await work(app)
    assert await bank(app, body["id"], "fail-after-paid") == [
        "payout.paid: handled", "payout.failed: handled"]
    assert (await get(client, w, body["id"]))["status"] == "reversed"
    after = await _book(app)
    # The bank returned EGP: it is in the contractor's EGP wallet; every fee came back in USD.
    assert after[("contractor", Purpose.CONTRACTOR_WALLET, "EGP")] == TARGET
    assert after[("contractor", Purpose.CONTRACTOR_WALLET, "USD")] == 1_000_000 - 99_002
    assert after[("platform", Purpose.PLATFORM_FEE_REVENUE, "USD")] == 0
    assert after[("platform", Purpose.PROCESSOR_CLEARING, "EGP")] == 0


async def test_a_cancelled_or_failed_fx_withdrawal_returns_exactly_what_was_held(
        app, client, contractor):
    w = await ready(app, client, contractor)
    offer = await _quote(client, w, amount="1000.00", target="EGP")
    body = await requested(client, w, amount="1000.00", quoteId=offer["quoteId"])
    cancelled = await client.post(f"/api/payments/contractor/me/withdrawals/{body['id']}/cancel",
                                  headers=w.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert await available(app, w.contractor_id) == 1_000_000
    after = await _book(app)
    assert after[("platform", Purpose.FX_LIQUIDITY, "USD")] == 0
    assert ("platform", Purpose.FX_LIQUIDITY, "EGP") not in after or \
        after[("platform", Purpose.FX_LIQUIDITY, "EGP")] == 0
    # The quote was used by the cancelled withdrawal: a new one is needed.
    shown = await client.get(f"{QUOTES}/{offer['quoteId']}", headers=w.headers)
    assert shown.json()["used"] is True


async def test_quote_refusals_change_nothing(app, client, contractor, other):
    w = await ready(app, client, contractor)
    offer = await _quote(client, w, amount="1000.00", target="EGP")
    stranger = await ready(app, client, other)
    cases = [
        (w, {"amount": "999.00"}, 422, "quote_mismatch"),
        (w, {"currency": "EUR", "amount": "1000.00"}, 422, "currency_not_held"),
        (stranger, {"amount": "1000.00"}, 404, "quote_not_found"),
    ]
    for who, kw, status, code in cases:
        response = await request(client, who, quoteId=offer["quoteId"], **kw)
        assert (response.status_code, response.json()["code"]) == (status, code), kw
    async with app.state.db.session() as s:
        await s.execute(update(WithdrawalQuote).where(
            WithdrawalQuote.id == uuid.UUID(offer["quoteId"]))
            .values(expires_at=utcnow() - timedelta(seconds=1)))
    expired = await request(client, w, amount="1000.00", quoteId=offer["quoteId"])
    assert expired.status_code == 409 and expired.json()["code"] == "quote_expired"
    assert await available(app, w.contractor_id) == 1_000_000
    assert (await quote_row(app, offer["quoteId"])).used_at is None


async def test_a_withdrawal_the_wallet_cannot_pay_leaves_its_quote_unused(app, client,
                                                                           contractor):
    w = await ready(app, client, contractor, funds=50_000)  # 500.00 USD
    offer = await _quote(client, w, amount="1000.00", target="EGP")
    short = await request(client, w, amount="1000.00", quoteId=offer["quoteId"])
    assert short.status_code == 422 and short.json()["code"] == "insufficient_funds"
    assert (await quote_row(app, offer["quoteId"])).used_at is None  # rolled back with it


@pytest.mark.race
async def test_twenty_concurrent_withdrawals_on_one_quote_one_wins(app, client,
                                                                    contractor: Account):
    w = await ready(app, client, contractor)
    offer = await _quote(client, w, amount="100.00", target="EGP")
    responses = await asyncio.gather(*[
        request(client, w, amount="100.00", quoteId=offer["quoteId"]) for _ in range(20)])
    codes = sorted(r.json().get("code", "created") if r.status_code != 201 else "created"
                   for r in responses)
    assert codes == ["created"] + ["quote_used"] * 19, codes
    assert await available(app, w.contractor_id) == 1_000_000 - 10_000
