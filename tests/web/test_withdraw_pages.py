"""The withdraw flow in the wallet: form → the itemised fee/FX quote (payments' own quote, the
same as `POST …/withdrawals/quote`; no money moves) → the final POST, which takes that quote,
once per form key (a double submit replays the same withdrawal, another body under the key is
refused); an expired or used quote says so and offers a fresh one; the withdrawals list and
detail, cancel; CSRF on each POST; another contractor's withdrawal or quote is the 404 page;
domain errors in Arabic on an Arabic page."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from mindlinks.payments.quotes_models import WithdrawalQuote
from mindlinks.payments.withdrawals_models import Withdrawal
from mindlinks.platform.db import utcnow
from tests.payments.quote_helpers import QUOTES
from tests.payments.withdrawal_helpers import PATH, ready
from tests.web.conftest import csrf_of
from tests.web.money import signed_in

pytestmark = pytest.mark.usefixtures("db_backend")


async def _count(app: Any, model: Any = Withdrawal) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _field(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="')[1].split('"')[0]


def _form(page: httpx.Response) -> dict[str, str]:
    """The hidden fields of the page's (last) form, as the browser would post them."""
    names = ("csrf_token", "idempotency_key", "quote_id", "amount", "currency",
             "target_currency", "method_id")
    return {n: _field(page.text, n) for n in names if f'name="{n}" value="' in page.text}


async def test_quote_confirm_once_list_and_cancel(
    app: Any, client: httpx.AsyncClient, party: Any, make_party: Any,
):
    w = await ready(app, client, party.contractor)
    async with signed_in(app, party.contractor.email) as c:
        wallet = await c.get("/wallet")
        assert wallet.status_code == 200 and "Get a quote" in wallet.text
        assert 'name="target_currency"' in wallet.text
        key = _field(wallet.text, "idempotency_key")
        form = {"csrf_token": csrf_of(wallet), "idempotency_key": key, "amount": "5000.00",
                "currency": "USD", "target_currency": "", "method_id": w.method_id}
        for url in ("/wallet/withdraw", "/wallet/withdrawals"):
            refused = await c.post(url, data={k: v for k, v in form.items()
                                              if k != "csrf_token"})
            assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"

        low = await c.post("/wallet/withdraw", data={**form, "amount": "0.50"})
        assert low.status_code == 422 and "minimum" in low.text.lower()
        broke = await c.post("/wallet/withdraw", data={**form, "amount": "20000.00"})
        assert broke.status_code == 422 and "available" in broke.text
        assert await _count(app, WithdrawalQuote) == 0

        confirm = await c.post("/wallet/withdraw", data=form)
        assert confirm.status_code == 200, confirm.text
        for label in ("Flat fee", "Percentage fee", "Total fees", "You receive",
                      "Estimated arrival", "Quote valid until"):
            assert label in confirm.text, label
        assert "Exchange rate" not in confirm.text  # no conversion, no rate line
        assert _field(confirm.text, "idempotency_key") == key
        quote_id = _field(confirm.text, "quote_id")
        assert await _count(app) == 0  # the quote moves no money
        shown = (await client.get(f"{QUOTES}/{quote_id}", headers=w.headers)).json()
        assert shown["used"] is False
        for figure in (shown["fee"]["flat"], shown["fee"]["percent"], shown["targetAmount"]):
            assert f"${figure:,.2f}" in confirm.text, figure

        final = _form(confirm)
        first = await c.post("/wallet/withdrawals", data=final)
        second = await c.post("/wallet/withdrawals", data=final)  # a double click
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert await _count(app) == 1
        other_body = await c.post("/wallet/withdrawals", data={**final, "amount": "10.00"})
        assert other_body.status_code == 422 and await _count(app) == 1

        withdrawal_id = first.headers["location"].split("/")[-1].split("?")[0]
        made = (await client.get(f"{PATH}/{withdrawal_id}", headers=w.headers)).json()
        assert made["quoteId"] == quote_id  # the withdrawal took the quote shown
        assert made["fee"] == shown["fee"]["flat"] + shown["fee"]["percent"]
        assert (await client.get(f"{QUOTES}/{quote_id}", headers=w.headers)).json()["used"]

        detail = await c.get(first.headers["location"])
        assert detail.status_code == 200 and "Withdrawal requested." in detail.text
        listing = await c.get("/wallet/withdrawals")
        assert withdrawal_id in listing.text and "$5,000.00" in listing.text

    stranger = await make_party(legal_name="Other Co", contractor_name="Eve")
    async with signed_in(app, stranger.contractor.email) as other:
        assert (await other.get(f"/wallet/withdrawals/{withdrawal_id}")).status_code == 404
        page = await other.get("/wallet")
        cancel = await other.post(f"/wallet/withdrawals/{withdrawal_id}/cancel",
                                  data={"csrf_token": csrf_of(page)})
        assert cancel.status_code == 404
        assert withdrawal_id not in (await other.get("/wallet/withdrawals")).text

    async with signed_in(app, party.contractor.email) as c:
        page = await c.get(f"/wallet/withdrawals/{withdrawal_id}")
        cancelled = await c.post(f"/wallet/withdrawals/{withdrawal_id}/cancel",
                                 data={"csrf_token": csrf_of(page)})
        assert cancelled.status_code == 303
        assert "badge-cancelled" in (await c.get(f"/wallet/withdrawals/{withdrawal_id}")).text


async def test_fx_quote_itemises_the_conversion_and_the_withdrawal_pays_its_target(
    app: Any, client: httpx.AsyncClient, party: Any,
):
    w = await ready(app, client, party.contractor)
    async with signed_in(app, party.contractor.email) as c:
        wallet = await c.get("/wallet")
        confirm = await c.post("/wallet/withdraw", data={
            "csrf_token": csrf_of(wallet), "idempotency_key": _field(wallet.text,
                                                                      "idempotency_key"),
            "amount": "1000.00", "currency": "USD", "target_currency": "EGP",
            "method_id": w.method_id})
        assert confirm.status_code == 200, confirm.text
        shown = (await client.get(f"{QUOTES}/{_field(confirm.text, 'quote_id')}",
                                  headers=w.headers)).json()
        assert shown["targetCurrency"] == "EGP" and shown["fee"]["fx"] > 0
        assert "Conversion fee" in confirm.text and "Exchange rate" in confirm.text
        assert f"${shown['fee']['fx']:,.2f}" in confirm.text
        assert f"EGP{shown['targetAmount']:,.2f}" in confirm.text
        assert f"1 USD = {shown['rate']:.6f}".rstrip("0") in confirm.text

        done = await c.post("/wallet/withdrawals", data=_form(confirm))
        assert done.status_code == 303
        made = (await client.get(f"{PATH}/{done.headers['location'].split('/')[-1][:36]}",
                                 headers=w.headers)).json()
        assert (made["targetCurrency"], made["targetAmount"]) == ("EGP", shown["targetAmount"])


async def test_an_expired_or_used_quote_offers_a_fresh_one(
    app: Any, client: httpx.AsyncClient, party: Any,
):
    w = await ready(app, client, party.contractor)
    async with signed_in(app, party.contractor.email) as c:
        wallet = await c.get("/wallet")
        form = {"csrf_token": csrf_of(wallet), "idempotency_key": _field(wallet.text,
                                                                          "idempotency_key"),
                "amount": "100.00", "currency": "USD", "target_currency": "",
                "method_id": w.method_id}
        confirm = await c.post("/wallet/withdraw", data=form)
        quote_id = _field(confirm.text, "quote_id")
        async with app.state.db.session() as session:  # the 30 minutes have passed
            await session.execute(update(WithdrawalQuote).where(
                WithdrawalQuote.id == uuid.UUID(quote_id)).values(
                expires_at=utcnow() - timedelta(seconds=1)))
        expired = await c.post("/wallet/withdrawals", data=_form(confirm))
        assert expired.status_code == 409 and "This quote has expired" in expired.text
        assert await _count(app) == 0
        fresh_form = _form(expired)
        assert fresh_form["idempotency_key"] != form["idempotency_key"]
        assert "quote_id" not in fresh_form and fresh_form["amount"] == "100.00"
        again = await c.post("/wallet/withdraw", data=fresh_form)  # "Get a fresh quote"
        assert again.status_code == 200 and _field(again.text, "quote_id") != quote_id
        assert (await c.post("/wallet/withdrawals", data=_form(again))).status_code == 303
        assert await _count(app) == 1

        # The same quote under another form key (e.g. a second tab): used, nothing more.
        reused = await c.post("/wallet/withdrawals", data={
            **_form(again), "idempotency_key": str(uuid.uuid4())})
        assert reused.status_code == 409 and "already been used" in reused.text
        assert await _count(app) == 1
        # No quote at all, or another's (unknown) quote: refused, nothing written.
        bare = await c.post("/wallet/withdrawals", data={
            **_form(again), "quote_id": "", "idempotency_key": str(uuid.uuid4())})
        assert bare.status_code == 422
        foreign = await c.post("/wallet/withdrawals", data={
            **_form(again), "quote_id": str(uuid.uuid4()), "idempotency_key": str(uuid.uuid4())})
        assert foreign.status_code == 404
        assert await _count(app) == 1


async def test_domain_errors_are_arabic_on_an_arabic_page(
    app: Any, client: httpx.AsyncClient, party: Any,
):
    w = await ready(app, client, party.contractor)
    async with signed_in(app, party.contractor.email) as c:
        c.cookies.set("ml_lang", "ar")
        wallet = await c.get("/wallet")
        assert '<html lang="ar" dir="rtl">' in wallet.text
        form = {"csrf_token": csrf_of(wallet), "idempotency_key": _field(wallet.text,
                                                                          "idempotency_key"),
                "amount": "0.50", "currency": "USD", "target_currency": "",
                "method_id": w.method_id}
        low = await c.post("/wallet/withdraw", data=form)
        assert low.status_code == 422
        assert "المبلغ أقل من الحد الأدنى للسحب." in low.text  # amount_below_minimum
        assert "The minimum withdrawal is" not in low.text
        broke = await c.post("/wallet/withdraw", data={**form, "amount": "20000.00"})
        assert "رصيدك المتاح لا يغطي هذا المبلغ." in broke.text  # insufficient_funds

        c.cookies.set("ml_lang", "en")  # the English page keeps the service's own detail
        english = await c.post("/wallet/withdraw", data=form)
        assert "The minimum withdrawal is" in english.text
