"""The contractor's account pages through HTTP (httpx over ASGI, cookie sessions): bank accounts
(add, micro-deposit verification with its counted attempts, primary, remove), the tax form,
licences and insurance, documents. Bad input shows the form again with the domain's message and
changes nothing; another contractor's ids are the 404 page and change nothing; every POST
refuses a missing or forged CSRF token; a fixed number of SQL statements per page. An account
added here gets the payments domain's `newPayoutAccount` notice on its first payout, as one
added through the API does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.contractors.models import BankAccount, InsurancePolicy, License, TaxInfo
from tests.contractors.conftest import (
    ABA,
    ACCOUNT,
    IBAN_DE,
    SVG_WITH_SCRIPT,
    add_us_account,
    complete_profile,
    events_named,
    statement_amounts,
)
from tests.factories import Account
from tests.payments.withdrawal_helpers import Withdrawer, fund, request
from tests.platform.samples import MINIMAL_PDF
from tests.web.conftest import csrf_of
from tests.web.money import counting, post_form, signed_in

pytestmark = pytest.mark.usefixtures("db_backend")
BANK = "/account/bank-accounts"
FOREIGN = "3f2c1a9e-8d4b-4c2a-9f1e-5b6d7c8e9f01"
US_ACCOUNT = {"account_holder_name": "Ada Lovelace", "bank_name": "First Bank",
              "currency": "USD", "country": "US", "account_type": "checking",
              "account_number": ACCOUNT, "routing_number": ABA}
# Measured on SQLite and PostgreSQL with a margin of a few; crossing it means a new round trip
# (or an N+1 over the list).
LIMITS = {BANK: 5, "/account/tax": 6, "/account/credentials": 7, "/account/documents": 6}


async def _count(app: Any, model: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _accounts(app: Any) -> list[BankAccount]:
    async with app.state.db.session() as session:
        return list((await session.scalars(select(BankAccount).order_by(
            BankAccount.created_at))).all())


async def test_add_verify_make_primary_and_remove_bank_accounts(
    app: Any, client: httpx.AsyncClient, contractor: Account,
):
    await complete_profile(client, contractor)
    async with signed_in(app, contractor.email) as c:
        page = await c.get(BANK)
        assert page.status_code == 200 and "No bank account yet" in page.text
        # The domain's rule (US accounts need an ABA number) and the schema's (3-letter
        # currency): the form again, with the message and what was typed; nothing stored.
        no_aba = await post_form(c, BANK, BANK, {**US_ACCOUNT, "routing_number": ""})
        assert no_aba.status_code == 422 and "alert error" in no_aba.text
        assert "US accounts need an ABA routing number" in no_aba.text
        assert 'value="First Bank"' in no_aba.text
        bad_currency = await post_form(c, BANK, BANK, {**US_ACCOUNT, "currency": "US"})
        assert bad_currency.status_code == 422 and "currency" in bad_currency.text
        assert await _count(app, BankAccount) == 0

        added = await post_form(c, BANK, BANK, US_ACCOUNT)
        assert added.status_code == 303 and added.headers["location"] == f"{BANK}?done=added"
        [account] = await _accounts(app)
        listing = await c.get(BANK)
        assert "****6789" in listing.text and ACCOUNT not in listing.text
        assert "badge-pending-verification" in listing.text and "3 attempts left" in listing.text
        assert len(await events_named(app, "contractor.bank_account.created")) == 1

        verify = f"{BANK}/{account.id}/verify"
        right = statement_amounts(app, str(account.id))
        wrong = [a % 99 + 1 for a in right]
        refused = await post_form(c, BANK, verify, {"amount_1": str(wrong[0]),
                                                    "amount_2": str(wrong[1])})
        assert refused.status_code == 422 and "2 attempt(s) left" in refused.text
        # A wrong pair counts even though the page answers with an error (as the API).
        assert (await _accounts(app))[0].verification_attempts == 1
        typo = await post_form(c, BANK, verify, {"amount_1": "0.12", "amount_2": "x"})
        assert typo.status_code == 422 and "in cents" in typo.text
        out_of_range = await post_form(c, BANK, verify, {"amount_1": "100", "amount_2": "5"})
        assert out_of_range.status_code == 422
        assert (await _accounts(app))[0].verification_attempts == 1

        verified = await post_form(c, BANK, verify, {"amount_1": str(right[1]),
                                                     "amount_2": str(right[0])})
        assert verified.status_code == 303
        assert (await _accounts(app))[0].status == "verified"
        assert "badge-verified" in (await c.get(BANK)).text
        again = await post_form(c, BANK, verify, {"amount_1": str(right[0]),
                                                  "amount_2": str(right[1])})
        assert again.status_code == 409 and "alert error" in again.text

        second = await post_form(c, BANK, BANK, {
            "account_holder_name": "Ada Lovelace", "bank_name": "Deutsche Bank",
            "currency": "EUR", "country": "DE", "iban": IBAN_DE})
        assert second.status_code == 303
        first, other = await _accounts(app)
        assert first.is_primary and not other.is_primary
        made = await post_form(c, BANK, f"{BANK}/{other.id}/primary", {})
        assert made.status_code == 303
        removed = await post_form(c, BANK, f"{BANK}/{first.id}/delete", {})
        assert removed.status_code == 303
        listing = await c.get(BANK)
        assert "****6789" not in listing.text and "****3000" in listing.text
        gone = await post_form(c, BANK, f"{BANK}/{first.id}/delete", {})
        assert gone.status_code == 404  # a removed account is no longer there


async def test_an_account_added_on_the_page_gets_the_new_payout_account_notice(
    app: Any, client: httpx.AsyncClient, contractor: Account,
):
    await complete_profile(client, contractor, country="EG")
    async with signed_in(app, contractor.email) as c:
        assert (await post_form(c, BANK, BANK, US_ACCOUNT)).status_code == 303
        [account] = await _accounts(app)
        a, b = statement_amounts(app, str(account.id))
        assert (await post_form(c, BANK, f"{BANK}/{account.id}/verify",
                                {"amount_1": str(a), "amount_2": str(b)})).status_code == 303
    from mindlinks.contractors import service as contractors

    async with app.state.db.session() as session:
        await contractors.set_kyc_status(session, account.contractor_id, "verified")
    await fund(app, account.contractor_id, 1_000_000)
    w = Withdrawer(contractor, account.contractor_id, str(account.id))
    for _ in range(2):
        response = await request(client, w, amount="100.00")
        assert response.status_code == 201, response.text
    await app.state.dispatcher.drain()
    await app.state.notifier.drain()
    inbox = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    types = sorted(n["type"] for n in inbox["data"])
    # The first payout to the account is the security notice, the second an ordinary one.
    assert types.count("payout_new_account") == 1 and "withdrawal_requested" in types


async def test_tax_form_submission_and_documents(
    app: Any, client: httpx.AsyncClient, contractor: Account,
):
    async with signed_in(app, contractor.email) as c:
        page = await c.get("/account/tax")
        assert page.status_code == 200 and "No tax information submitted yet" in page.text
        token = csrf_of(page)
        fields = {"csrf_token": token, "tax_id": "29001011234567", "tax_country": "Egypt",
                  "entity_type": "individual", "tax_form_type": ""}
        pdf = {"tax_form": ("w8.pdf", MINIMAL_PDF, "application/pdf")}

        no_file = await c.post("/account/tax", data=fields)
        assert no_file.status_code == 422 and "signed form" in no_file.text
        mismatch = await c.post("/account/tax", data={**fields, "tax_form_type": "W-9"},
                                files=pdf)
        assert mismatch.status_code == 422 and "files W-8BEN, not W-9" in mismatch.text
        assert 'value="29001011234567"' in mismatch.text
        svg = await c.post("/account/tax", data=fields,
                           files={"tax_form": ("w8.pdf", SVG_WITH_SCRIPT, "application/pdf")})
        assert svg.status_code in (415, 422) and "alert error" in svg.text
        bad_id = await c.post("/account/tax", data={**fields, "tax_id": "!"}, files=pdf)
        assert bad_id.status_code == 422
        assert await _count(app, TaxInfo) == 0
        assert "No documents yet" in (await c.get("/account/documents")).text

        done = await c.post("/account/tax", data=fields, files=pdf)
        assert done.status_code == 303, done.text
        shown = await c.get("/account/tax")
        assert "****4567" in shown.text and "W-8BEN" in shown.text
        assert "badge-pending-review" in shown.text and "29001011234567" not in shown.text
        assert "Open the submitted form" in shown.text  # its signed link
        docs = await c.get("/account/documents")
        assert docs.status_code == 200 and "w8.pdf" in docs.text and "/files/" in docs.text
    assert await _count(app, TaxInfo) == 1


async def test_licences_and_insurance(app: Any, client: httpx.AsyncClient, contractor: Account):
    page_url = "/account/credentials"
    async with signed_in(app, contractor.email) as c:
        page = await c.get(page_url)
        assert page.status_code == 200 and "No licences yet" in page.text
        licence = {"state": "CA", "license_number": "PE-12345", "license_type": "Engineer",
                   "expiration_date": "2099-01-31"}
        added = await post_form(c, page_url, f"{page_url}/licenses", licence)
        assert added.status_code == 303
        duplicate = await post_form(c, page_url, f"{page_url}/licenses", licence)
        assert duplicate.status_code == 409 and "already have this licence" in duplicate.text
        past = await post_form(c, page_url, f"{page_url}/licenses",
                               {**licence, "license_number": "X-1",
                                "expiration_date": "2001-01-01"})
        assert past.status_code == 422 and "in the past" in past.text
        assert 'value="X-1"' in past.text
        bad_date = await post_form(c, page_url, f"{page_url}/licenses",
                                   {**licence, "license_number": "X-2",
                                    "expiration_date": "31/01/2099"})
        assert bad_date.status_code == 422
        assert await _count(app, License) == 1

        policy = {"policy_number": "GL-778", "expiration_date": "2099-06-30",
                  "provider": "manual", "coverage_types": ["gl", "wc"],
                  "additional_insured": "yes"}
        no_cover = await post_form(c, page_url, f"{page_url}/insurance",
                                   {**policy, "coverage_types": []})
        assert no_cover.status_code == 422 and 'value="GL-778"' in no_cover.text
        bad_cover = await post_form(c, page_url, f"{page_url}/insurance",
                                    {**policy, "coverage_types": ["gl", "space"]})
        assert bad_cover.status_code == 422
        assert await _count(app, InsurancePolicy) == 0
        assert (await post_form(c, page_url, f"{page_url}/insurance", policy)).status_code == 303
        listing = await c.get(page_url)
        assert "PE-12345" in listing.text and "GL-778" in listing.text
        assert "General liability" in listing.text and "badge-unverified" in listing.text

        async with app.state.db.session() as session:
            licence_id = (await session.scalars(select(License.id))).one()
            policy_id = (await session.scalars(select(InsurancePolicy.id))).one()
        for kind, item in (("licenses", licence_id), ("insurance", policy_id)):
            removed = await post_form(c, page_url, f"{page_url}/{kind}/{item}/delete", {})
            assert removed.status_code == 303, kind
    assert await _count(app, License) == 0 and await _count(app, InsurancePolicy) == 0


async def test_another_contractors_ids_are_404_and_change_nothing(
    app: Any, client: httpx.AsyncClient, contractor: Account, other: Account,
):
    await complete_profile(client, contractor)
    account = await add_us_account(client, contractor)
    licence = (await client.post("/api/contractors/me/licenses", headers=contractor.headers,
                                 json={"state": "CA", "licenseNumber": "PE-1"})).json()
    policy = (await client.post("/api/contractors/me/insurance-policies",
                                headers=contractor.headers,
                                json={"policyNumber": "GL-1", "coverageTypes": ["gl"],
                                      "expirationDate": "2099-01-01"})).json()
    right = statement_amounts(app, account["id"])
    async with signed_in(app, other.email) as c:
        for target in (account["id"], FOREIGN, "not-an-id"):
            for action, data in (("verify", {"amount_1": str(right[0]),
                                             "amount_2": str(right[1])}),
                                 ("primary", {}), ("delete", {})):
                response = await post_form(c, BANK, f"{BANK}/{target}/{action}", data)
                assert response.status_code == 404, (target, action)
                assert "First Bank" not in response.text
        for kind, item in (("licenses", licence["id"]), ("insurance", policy["id"]),
                           ("licenses", "not-an-id"), ("other", licence["id"])):
            response = await post_form(c, "/account/credentials",
                                       f"/account/credentials/{kind}/{item}/delete", {})
            assert response.status_code == 404, kind
        for url in (BANK, "/account/credentials", "/account/documents", "/account/tax"):
            page = await c.get(url)
            assert page.status_code == 200
            assert "PE-1" not in page.text and "GL-1" not in page.text
            assert "First Bank" not in page.text
    [row] = await _accounts(app)
    assert (row.status, row.verification_attempts, row.deleted_at) == (
        "pending_verification", 0, None)
    assert await _count(app, License) == 1 and await _count(app, InsurancePolicy) == 1


async def test_every_post_needs_the_csrf_token(
    app: Any, client: httpx.AsyncClient, contractor: Account,
):
    await complete_profile(client, contractor)
    account = await add_us_account(client, contractor)
    posts: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
        (BANK, US_ACCOUNT, None),
        (f"{BANK}/{account['id']}/verify", {"amount_1": "1", "amount_2": "2"}, None),
        (f"{BANK}/{account['id']}/primary", {}, None),
        (f"{BANK}/{account['id']}/delete", {}, None),
        ("/account/tax", {"tax_id": "A1234567", "tax_country": "EG",
                          "entity_type": "individual"},
         {"tax_form": ("w8.pdf", MINIMAL_PDF, "application/pdf")}),
        ("/account/credentials/licenses", {"state": "CA", "license_number": "1"}, None),
        ("/account/credentials/insurance", {"policy_number": "1", "coverage_types": "gl",
                                            "expiration_date": "2099-01-01"}, None),
        (f"/account/credentials/licenses/{FOREIGN}/delete", {}, None),
        (f"/account/credentials/insurance/{FOREIGN}/delete", {}, None),
    ]
    async with signed_in(app, contractor.email) as c:
        for url, data, files in posts:
            missing = await c.post(url, data=data, files=files)
            forged = await c.post(url, data={**data, "csrf_token": "a.b"}, files=files)
            for response in (missing, forged):
                assert response.status_code == 403, url
                assert response.json()["code"] == "csrf_failed"
    [row] = await _accounts(app)
    assert (row.is_primary, row.deleted_at, row.verification_attempts) == (True, None, 0)
    assert await _count(app, BankAccount) == 1 and await _count(app, TaxInfo) == 0
    assert await _count(app, License) == 0 and await _count(app, InsurancePolicy) == 0


async def test_pages_by_role_signed_out_and_their_statement_counts(
    app: Any, browser: httpx.AsyncClient, client: httpx.AsyncClient, contractor: Account,
    make_client: Any,
):
    pages = list(LIMITS)
    for url in pages:
        response = await browser.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login?next=")
    client_account, _ = await make_client()
    async with signed_in(app, client_account.email) as c:
        for url in pages:
            assert (await c.get(url)).status_code == 404, url
    await complete_profile(client, contractor)
    for n in range(3):  # lists of a few rows: the count must not grow per row
        await add_us_account(client, contractor, bankName=f"Bank {n}")
        await client.post("/api/contractors/me/licenses", headers=contractor.headers,
                          json={"state": "CA", "licenseNumber": f"L-{n}"})
        tax = await client.post("/api/contractors/me/tax-info", headers=contractor.headers,
                                data={"taxId": f"A123456{n}", "taxCountry": "EG"},
                                files={"taxForm": ("w8.pdf", MINIMAL_PDF, "application/pdf")})
        assert tax.status_code == 201, tax.text
    async with signed_in(app, contractor.email) as c:
        nav = (await c.get(BANK)).text
        assert 'href="/account/tax"' in nav and 'aria-current="page">Bank accounts' in nav
        arabic = await c.get(f"{BANK}?lang=ar")
        assert 'dir="rtl"' in arabic.text and "الحسابات المصرفية" in arabic.text
        assert "بانتظار التحقق" in arabic.text  # the state name, translated
        for url, limit in LIMITS.items():
            await c.get(url)  # warm: the session's first statements are not the page's
            with counting(app) as seen:
                response = await c.get(url)
            assert response.status_code == 200, url
            assert seen.count <= limit, (url, seen.count, seen.sql)



async def test_without_a_micro_deposit_sender_nothing_is_added(
    app: Any, client: httpx.AsyncClient, contractor: Account,
):
    """Production before a real sender exists: the API's 503 `micro_deposits_unavailable`,
    shown on the page; no account is stored that could never be verified."""
    await complete_profile(client, contractor)
    sender, app.state.micro_deposit_sender = app.state.micro_deposit_sender, None
    try:
        async with signed_in(app, contractor.email) as c:
            refused = await post_form(c, BANK, BANK, US_ACCOUNT)
            assert refused.status_code == 503 and "No micro-deposit sender" in refused.text
    finally:
        app.state.micro_deposit_sender = sender
    assert await _count(app, BankAccount) == 0


async def test_field_errors_name_the_field_by_the_forms_label(
    app: Any, client: httpx.AsyncClient, contractor: Account,
):
    """The domain names the field `routingNumber`, the schema `currency`: the page shows the
    label its form gives them, in English and in Arabic, never the API's name."""
    await complete_profile(client, contractor)
    async with signed_in(app, contractor.email) as c:
        no_aba = await post_form(c, BANK, BANK, {**US_ACCOUNT, "routing_number": ""})
        assert "Routing number / sort code: US accounts need an ABA routing number" \
            in no_aba.text
        assert "routingNumber" not in no_aba.text
        bad_currency = await post_form(c, BANK, BANK, {**US_ACCOUNT, "currency": "US"})
        assert "<li>Currency (3 letters): " in bad_currency.text
        c.cookies.set("ml_lang", "ar")
        arabic = await post_form(c, BANK, BANK, {**US_ACCOUNT, "routing_number": ""})
        page = await c.get(BANK)
        label = page.text.split('for="ba-routing">', 1)[1].split("\n", 1)[0].strip()
        assert label and label != "Routing number / sort code"  # the Arabic label
        assert f"<li>{label}: " in arabic.text
        assert "routingNumber" not in arabic.text
