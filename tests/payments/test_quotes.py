"""Fee and FX quotes through the API: every cost itemised, the rate locked, the contractor's own
verified payout account only, another contractor's quote invisible; the admin's FX rates.

The profile country is GB, whose rule is 2.00 USD flat + 0.50 % with a 20.00 USD minimum and
2 business days (migration 0005); the sandbox rates are 1.08 USD and 53.5 EGP per EUR unless
a test sets others; the spread is 50 bps (settings default)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from mindlinks.payments.fees import add_business_days
from mindlinks.platform.audit import AuditLog
from tests.factories import Account, register
from tests.payments.quote_helpers import QUOTES, RATES, payee, quote, quote_row, quoted

SHAPE = {"quoteId", "amount", "currency", "fee", "rate", "targetAmount", "targetCurrency",
         "estimatedArrival", "expiresAt", "spreadBps", "rateSource", "ratesAsOf", "used"}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_a_quote_itemises_every_cost_without_conversion(client, app, contractor):
    method = await payee(client, app, contractor)
    before = datetime.now().astimezone()
    body = await quoted(client, contractor, method, amount="1000.00")
    assert set(body) == SHAPE
    assert body["fee"] == {"flat": 2.0, "percent": 5.0, "fx": 0.0}
    assert (body["amount"], body["currency"], body["rate"]) == (1000.0, "USD", 1.0)
    assert (body["targetAmount"], body["targetCurrency"]) == (993.0, "USD")
    assert body["spreadBps"] == 0 and body["used"] is False
    # Locked for 30 minutes from when it was made.
    lock = _at(body["expiresAt"]) - before
    assert timedelta(minutes=29) < lock <= timedelta(minutes=31)
    assert date.fromisoformat(body["estimatedArrival"]) in {
        add_business_days(before.date(), 2), add_business_days(before.date(), 3)}
    row = await quote_row(app, body["quoteId"])
    assert (row.amount, row.fee_flat, row.fee_percent, row.fee_fx, row.target_amount) == (
        100_000, 200, 500, 0, 99_300)


async def test_a_conversion_shows_the_spread_as_its_own_fee(client, app, contractor, admin):
    set_rates = await client.put(RATES, json={"rates": {"EGP": "52"}}, headers=admin["headers"])
    assert set_rates.status_code == 200, set_rates.text
    method = await payee(client, app, contractor)
    body = await quoted(client, contractor, method, amount="1000.00", target="EGP")
    # net 993.00; spread 0.5 % of it = 4.965 -> 4.97 (half-up); 988.03 converted at mid
    # 52 / 1.08 = 48.1481481481 -> 47571.8148... EGP, rounded down to 47571.81.
    assert body["fee"] == {"flat": 2.0, "percent": 5.0, "fx": 4.97}
    assert Decimal(str(body["rate"])) == Decimal("48.1481481481")
    assert (body["targetAmount"], body["targetCurrency"]) == (47571.81, "EGP")
    assert body["spreadBps"] == 50 and body["rateSource"] == "sandbox"
    row = await quote_row(app, body["quoteId"])
    assert (row.fee_fx, row.rate_scaled, row.target_amount) == (497, 481_481_481_481,
                                                                4_757_181)


async def test_the_flat_fee_and_minimum_convert_from_the_rule_s_currency(client, app,
                                                                         contractor):
    method = await payee(client, app, contractor)
    # Withdrawing EUR: the rule's 2.00 USD flat fee is 1.85 EUR (185.185 cents half-up), its
    # 20.00 USD minimum 18.52 EUR.
    body = await quoted(client, contractor, method, amount="100.00", currency="EUR")
    assert body["fee"] == {"flat": 1.85, "percent": 0.5, "fx": 0.0}
    assert body["targetAmount"] == 97.65
    low = await quote(client, contractor, method, amount="18.51", currency="EUR")
    assert low.status_code == 422 and low.json()["code"] == "amount_below_minimum"
    assert (await quote(client, contractor, method, amount="18.52",
                        currency="EUR")).status_code == 201


async def test_refusals_have_stable_codes_and_store_nothing(client, app, contractor, other):
    method = await payee(client, app, contractor)
    cases = [
        ({"amount": "19.99"}, 422, "amount_below_minimum"),
        ({"amount": "100.001"}, 422, "too_many_decimals"),
        ({"target": "XAU"}, 422, "fx_pair_unsupported"),
    ]
    for kw, code_status, code in cases:
        response = await quote(client, contractor, method, **kw)
        assert (response.status_code, response.json()["code"]) == (code_status, code), kw
    # Another contractor's account is not theirs to quote for: 404, never 403.
    theirs = await quote(client, other, method)
    assert theirs.status_code == 404 and theirs.json()["code"] == "bank_account_not_found"
    # An account not verified yet cannot be paid.
    from tests.contractors.conftest import add_us_account

    pending = await add_us_account(client, contractor, accountNumber="000999888777")
    unverified = await quote(client, contractor, pending["id"])
    assert unverified.status_code == 409
    assert unverified.json()["code"] == "bank_account_not_verified"
    # A client (no contractor role) is refused.
    buyer = Account(await register(client, "client"))
    assert (await quote(client, buyer, method)).status_code == 403
    async with app.state.db.session() as session:
        from mindlinks.payments.quotes_models import WithdrawalQuote

        assert (await session.scalars(select(WithdrawalQuote))).all() == []


async def test_another_contractor_s_quote_is_invisible(client, app, contractor, other):
    method = await payee(client, app, contractor)
    body = await quoted(client, contractor, method)
    mine = await client.get(f"{QUOTES}/{body['quoteId']}", headers=contractor.headers)
    assert mine.status_code == 200 and mine.json() == body
    theirs = await client.get(f"{QUOTES}/{body['quoteId']}", headers=other.headers)
    assert theirs.status_code == 404 and theirs.json()["code"] == "quote_not_found"
    nobody = await client.get(f"{QUOTES}/00000000-0000-4000-8000-000000000000",
                              headers=contractor.headers)
    assert nobody.status_code == 404


async def test_open_quotes_per_contractor_are_capped(client, app, contractor):
    app.state.settings.fx_max_open_quotes = 2
    method = await payee(client, app, contractor)
    for _ in range(2):
        await quoted(client, contractor, method)
    third = await quote(client, contractor, method)
    assert third.status_code == 429 and third.json()["code"] == "too_many_open_quotes"


async def test_admin_sets_sandbox_rates_all_or_nothing_and_audited(client, app, admin,
                                                                   contractor):
    refused = await client.put(RATES, json={"rates": {"EGP": "50"}}, headers=contractor.headers)
    assert refused.status_code == 403
    ok = await client.put(RATES, json={"rates": {"EGP": "50.5", "USD": "1.1"}},
                          headers=admin["headers"])
    assert ok.status_code == 200, ok.text
    rates = {r["currency"]: r for r in ok.json()["rates"]}
    assert (rates["EGP"]["perEur"], rates["USD"]["perEur"], rates["EUR"]["perEur"]) == (
        50.5, 1.1, 1.0)
    assert ok.json()["provider"] == "sandbox" and ok.json()["base"] == "EUR"
    for body, code in [({"EGP": "60", "EUR": "2"}, "fx_rate_not_settable"),
                       ({"EGP": "60", "ZZZ": "2"}, "invalid_fx_rate"),
                       ({"EGP": "0.00000000001"}, "validation_error"),
                       ({"EGP": "-3"}, "validation_error")]:
        bad = await client.put(RATES, json={"rates": body}, headers=admin["headers"])
        assert (bad.status_code, bad.json()["code"]) == (422, code), body
    listed = await client.get(RATES, headers=admin["headers"])
    assert {r["currency"]: r["perEur"] for r in listed.json()["rates"]}["EGP"] == 50.5
    async with app.state.db.session() as session:
        lines = (await session.scalars(select(AuditLog).where(
            AuditLog.action == "payments.fx_rates_set"))).all()
    assert len(lines) == 1
    assert lines[0].details["rates"]["EGP"] == {"before": None, "after": "50.5"}


async def test_under_the_ecb_only_unpublished_currencies_can_be_set(client, app, admin):
    import respx

    from tests.payments.test_fx_rates import DOCUMENT, URL

    app.state.settings.fx_provider = "ecb"
    app.state.settings.ecb_rates_url = URL
    with respx.mock(assert_all_called=False) as mock:
        mock.get(URL).mock(return_value=httpx.Response(200, content=DOCUMENT))
        mock.route(host="test").pass_through()
        published = await client.put(RATES, json={"rates": {"USD": "1.2"}},
                                     headers=admin["headers"])
        assert published.status_code == 422
        assert published.json()["code"] == "fx_rate_not_settable"
        egp = await client.put(RATES, json={"rates": {"EGP": "51.2"}}, headers=admin["headers"])
    assert egp.status_code == 200, egp.text
    rates: dict[str, Any] = {r["currency"]: r for r in egp.json()["rates"]}
    assert (rates["EGP"]["source"], rates["USD"]["source"], rates["AED"]["source"]) == (
        "manual", "ecb", "ecb_peg")


async def test_stale_rates_refuse_a_conversion_quote_with_503(client, app, contractor):
    import respx

    from tests.payments.test_fx_rates import DOCUMENT, URL

    method = await payee(client, app, contractor)
    app.state.settings.fx_provider = "ecb"
    app.state.settings.ecb_rates_url = URL
    with respx.mock(assert_all_called=False) as mock:
        mock.get(URL).mock(return_value=httpx.Response(200, content=DOCUMENT))
        mock.route(host="test").pass_through()
        # The recorded document is from 2024-06-28: far older than 100 hours today.
        stale = await quote(client, contractor, method, target="GBP")
        same = await quote(client, contractor, method)  # no conversion: no rate needed
    assert stale.status_code == 503, stale.text
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert stale.json()["code"] == "fx_rates_stale"
    assert same.status_code == 201


async def test_a_contractor_without_a_profile_country_is_told_to_set_it(client, app,
                                                                         contractor):
    from tests.contractors.conftest import add_us_account, statement_amounts

    created = await add_us_account(client, contractor)
    await client.post(f"/api/contractors/me/bank-accounts/{created['id']}/verify",
                      headers=contractor.headers,
                      json={"amounts": statement_amounts(app, created["id"])})
    response = await quote(client, contractor, created["id"])
    assert response.status_code == 422 and response.json()["code"] == "payout_country_required"
