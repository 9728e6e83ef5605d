"""The client's company pages through HTTP: registration (the registry verifies a company it can
tie to the account; another waits for review and shows the administrator's outcome), the
company's documents (upload within the API's upload rules, list with review status and
reason, the signed link), CSRF on each form, another company's document id is the 404 page,
bad input shows the form again with the domain's message and stores nothing; a fixed number of
SQL statements per page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.clients.models import ClientCompany, ClientDocument
from tests.clients.conftest import UNKNOWN_COMPANY, verified_company
from tests.contractors.conftest import SVG_WITH_SCRIPT, png
from tests.factories import Account
from tests.platform.samples import MINIMAL_PDF
from tests.web.conftest import csrf_of
from tests.web.money import counting, post_form, signed_in

pytestmark = pytest.mark.usefixtures("db_backend")
PAGE = "/account/company"
DOCS = "/account/company/documents"
FOREIGN = "3f2c1a9e-8d4b-4c2a-9f1e-5b6d7c8e9f01"
LIMITS = {PAGE: 5, DOCS: 6}  # measured (SQLite and PostgreSQL) plus a margin of two


def form_of_company(body: dict[str, Any]) -> dict[str, str]:
    """The registration form's fields for an API body (tests/clients/conftest.py)."""
    address = body["address"]
    return {"legal_name": body["legalName"], "trading_name": body.get("tradingName", ""),
            "country": body["country"], "tax_id": body["taxId"],
            "business_type": body["businessType"],
            "company_number": body.get("companyNumber", ""), "website": "",
            "line1": address["line1"], "line2": "", "city": address["city"], "state": "",
            "postal_code": address.get("postalCode", ""), "address_country": ""}


async def _count(app: Any, model: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_register_a_company_the_registry_verifies(app: Any, make_client: Any):
    account, _ = await make_client()  # "Grace Hopper", an officer of the sandbox companies
    fields = form_of_company(verified_company())
    async with signed_in(app, account.email) as c:
        page = await c.get(PAGE)
        assert page.status_code == 200 and "Register your company" in page.text
        assert '<option value="GB"' in page.text  # the countries the platform serves
        # Schema (tax id pattern) and domain (a country not served) refusals: the form again.
        bad_tax = await post_form(c, PAGE, PAGE, {**fields, "tax_id": "!!"})
        assert bad_tax.status_code == 422 and "tax_id" in bad_tax.text
        assert 'value="Acme Widgets Ltd"' in bad_tax.text
        not_served = await post_form(c, PAGE, PAGE, {**fields, "country": "AQ"})
        assert not_served.status_code == 422 and "alert error" in not_served.text
        assert await _count(app, ClientCompany) == 0

        done = await post_form(c, PAGE, PAGE, fields)
        assert done.status_code == 303 and done.headers["location"] == f"{PAGE}?done=registered"
        shown = await c.get(done.headers["location"])
        assert "badge-verified" in shown.text and "Company registered." in shown.text
        assert "badge-matched" in shown.text and "****6789" in shown.text
        assert "GB123456789" not in shown.text  # the tax id is shown masked only
        # The page now shows the company: a second registration is the domain's 409.
        twice = await c.post(PAGE, data={"csrf_token": csrf_of(shown), **fields})
        assert twice.status_code == 409 and "already has a company" in twice.text
    assert await _count(app, ClientCompany) == 1


async def test_a_company_under_review_shows_the_outcome(
    app: Any, client: httpx.AsyncClient, make_client: Any, admin: Account,
):
    account, _ = await make_client()
    async with signed_in(app, account.email) as c:
        assert (await post_form(c, PAGE, PAGE, form_of_company(UNKNOWN_COMPANY))
                ).status_code == 303
        waiting = await c.get(PAGE)
        assert "badge-pending" in waiting.text and "waiting for review" in waiting.text
        assert "badge-not-found" in waiting.text
        async with app.state.db.session() as session:
            company_id = (await session.scalars(select(ClientCompany.id))).one()
        review = await client.post(f"/api/admin/companies/{company_id}/review",
                                   headers=admin.headers,
                                   json={"decision": "reject", "reason": "Name mismatch"})
        assert review.status_code == 200, review.text
        outcome = await c.get(PAGE)
        assert "badge-rejected" in outcome.text and "Name mismatch" in outcome.text
        assert 'value="Nobody Knows Us Ltd"' in outcome.text  # the details form, filled

        # Corrected details: a bad website is refused and changes nothing; the registry's
        # company under its number (an empty tax id keeps the stored one) verifies it.
        fixed = {**form_of_company(verified_company()), "tax_id": ""}
        bad = await post_form(c, PAGE, f"{PAGE}/details", {**fixed, "website": "ftp://x"})
        assert bad.status_code == 422 and "website" in bad.text
        async with app.state.db.session() as session:
            row = (await session.scalars(select(ClientCompany))).one()
            assert (row.legal_name, row.verification_status) == ("Nobody Knows Us Ltd",
                                                                 "rejected")
        saved = await post_form(c, PAGE, f"{PAGE}/details", fixed)
        assert saved.status_code == 303 and saved.headers["location"] == f"{PAGE}?done=updated"
        shown = await c.get(saved.headers["location"])
        assert "badge-verified" in shown.text and "Company details saved." in shown.text
        assert "****4321" in shown.text  # UNKNOWN_COMPANY's tax id, kept


async def test_company_documents_upload_list_review_and_link(
    app: Any, client: httpx.AsyncClient, make_client: Any, admin: Account,
):
    account, company = await make_client(UNKNOWN_COMPANY)
    async with signed_in(app, account.email) as c:
        page = await c.get(DOCS)
        assert page.status_code == 200 and "No documents yet" in page.text
        token = csrf_of(page)
        pdf = {"file": ("certificate.pdf", MINIMAL_PDF, "application/pdf")}
        no_type = await c.post(DOCS, data={"csrf_token": token, "type": "passport"},
                               files=pdf)
        assert no_type.status_code == 422 and "type" in no_type.text
        no_file = await c.post(DOCS, data={"csrf_token": token,
                                           "type": "incorporation_certificate"})
        assert no_file.status_code == 422 and "Choose a file" in no_file.text
        svg = await c.post(DOCS, data={"csrf_token": token, "type": "proof_of_address"},
                           files={"file": ("a.png", SVG_WITH_SCRIPT, "image/png")})
        assert svg.status_code in (415, 422) and "alert error" in svg.text
        assert 'value="proof_of_address" selected' in svg.text
        assert await _count(app, ClientDocument) == 0

        for name, body, kind in (("certificate.pdf", MINIMAL_PDF, "incorporation_certificate"),
                                 ("bill.png", png(), "proof_of_address")):
            uploaded = await c.post(DOCS, data={"csrf_token": token, "type": kind},
                                    files={"file": (name, body, "application/octet-stream")})
            assert uploaded.status_code == 303, uploaded.text
        listing = await c.get(DOCS)
        assert listing.text.count("badge-pending") == 2
        assert "Certificate of incorporation" in listing.text
        async with app.state.db.session() as session:
            docs = {d.name: d.id for d in (await session.scalars(select(ClientDocument))).all()}
        rejected = await client.post(f"/api/admin/client-documents/{docs['bill.png']}/review",
                                     headers=admin.headers,
                                     json={"decision": "reject", "reason": "Too old"})
        assert rejected.status_code == 200, rejected.text
        listing = await c.get(DOCS)
        assert "badge-rejected" in listing.text and "Too old" in listing.text
        link = await c.get(f"{DOCS}/{docs['certificate.pdf']}")
        assert link.status_code == 303 and "/files/" in link.headers["location"]

    other, _ = await make_client(verified_company(), name="Grace Hopper")
    async with signed_in(app, other.email) as c:
        for target in (docs["certificate.pdf"], FOREIGN, "not-an-id"):
            response = await c.get(f"{DOCS}/{target}")
            assert response.status_code == 404, target
            assert "/files/" not in response.headers.get("location", "")
        theirs = await c.get(DOCS)
        assert "certificate.pdf" not in theirs.text and "No documents yet" in theirs.text
    assert company is not None and await _count(app, ClientDocument) == 2


async def test_every_post_needs_the_csrf_token_and_pages_by_role(
    app: Any, browser: httpx.AsyncClient, make_client: Any, contractor: Account,
):
    account, _ = await make_client()
    fields = form_of_company(verified_company())
    async with signed_in(app, account.email) as c:
        for url, data, files in (
                (PAGE, fields, None), (f"{PAGE}/details", fields, None),
                (DOCS, {"type": "other"},
                 {"file": ("a.pdf", MINIMAL_PDF, "application/pdf")})):
            missing = await c.post(url, data=data, files=files)
            forged = await c.post(url, data={**data, "csrf_token": "a.b"}, files=files)
            for response in (missing, forged):
                assert response.status_code == 403, url
                assert response.json()["code"] == "csrf_failed"
        # Without a company the documents page sends the client to the registration form.
        first = await c.get(DOCS)
        assert first.status_code == 303 and first.headers["location"] == PAGE
        nav = (await c.get(PAGE)).text
        assert 'href="/account/company/documents"' in nav
    assert await _count(app, ClientCompany) == 0 and await _count(app, ClientDocument) == 0
    for url in LIMITS:
        response = await browser.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login?next=")
    async with signed_in(app, contractor.email) as c:
        for url in [*LIMITS, f"{DOCS}/{FOREIGN}"]:
            assert (await c.get(url)).status_code == 404, url


async def test_statements_per_page(app: Any, client: httpx.AsyncClient, make_client: Any):
    account, _ = await make_client(UNKNOWN_COMPANY)
    for n in range(3):  # a list of a few documents: the count must not grow per row
        response = await client.post(
            "/api/clients/me/documents", headers=account.headers, data={"type": "other"},
            files={"file": (f"doc{n}.pdf", MINIMAL_PDF, "application/pdf")})
        assert response.status_code == 201, response.text
    async with signed_in(app, account.email) as c:
        for url, limit in LIMITS.items():
            await c.get(url)  # warm: the session's first statements are not the page's
            with counting(app) as seen:
                response = await c.get(url)
            assert response.status_code == 200, url
            assert seen.count <= limit, (url, seen.count, seen.sql)
