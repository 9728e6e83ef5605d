"""Licences and insurance policies edited on the pages, each with its document (the scan, the
certificate), and the administrators' guarded link to it; through HTTP on both databases.

- the edit form goes through the API's update service; a real change, or a new document, sends
  a reviewed item back to review (licence `unverified`, policy `pending`); saved unchanged it
  keeps the verdict;
- the document is a `contractor_documents` row stored by the one upload path (sniffed, size-
  limited): a wrong type is 422 `unsupported_file_type`, an oversize file 413 `file_too_large`,
  and either leaves fields, status, documents and storage as they were;
- another contractor's licence, policy or document is the 404 page (and 404 in the API), and
  changes nothing; every form needs the CSRF token;
- the admin's detail page links to `/admin/{licenses|insurance}/{id}/document`, which checks the
  admin (and the TOTP step) before answering with a fresh signed link.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from mindlinks.contractors.models import ContractorDocument, InsurancePolicy, License
from mindlinks.platform.storage import get_storage
from mindlinks.platform.uploads import DOCUMENT
from tests.contractors.conftest import SVG_WITH_SCRIPT
from tests.factories import Account
from tests.platform.samples import MINIMAL_PDF, png
from tests.web.conftest import csrf_of
from tests.web.money import signed_in
from tests.web.test_admin_pages import admin_browser
from tests.web.test_admin_review_pages import licence, policy

__all__ = ["admin_browser"]
pytestmark = pytest.mark.usefixtures("db_backend")
BASE = "/account/credentials"
LICENCE_FORM = {"state": "CA", "license_number": "C10-1", "license_type": "electrical",
                "expiration_date": "2099-01-31"}
POLICY_FORM = {"policy_number": "GL-1", "expiration_date": "2099-06-30", "provider": "manual",
               "coverage_types": ["gl"]}


async def _row(app: Any, model: Any, item_id: str) -> Any:
    async with app.state.db.session() as session:
        return await session.get(model, uuid.UUID(item_id))


async def _documents(app: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(
            select(func.count()).select_from(ContractorDocument)) or 0)


def _stored_files(app: Any) -> list[str]:
    root = get_storage(app.state).root  # the local backend of the tests
    return sorted(str(p) for p in root.rglob("*") if p.is_file())


async def _set_status(app: Any, model: Any, column: Any, item_id: str, value: str) -> None:
    async with app.state.db.session() as session:
        await session.execute(update(model).where(model.id == uuid.UUID(item_id))
                              .values({column: value}))
        await session.commit()


async def _save(c: httpx.AsyncClient, url: str, data: dict[str, Any],
                files: dict[str, Any] | None = None) -> httpx.Response:
    page = await c.get(url)
    assert page.status_code == 200, page.text
    return await c.post(url, data={"csrf_token": csrf_of(page), **data}, files=files)


async def _download(c: httpx.AsyncClient, location: str) -> httpx.Response:
    parts = urlsplit(location)
    return await c.get(f"{parts.path}?{parts.query}")


async def test_edit_a_verified_licence_with_a_document_sends_it_back_to_review(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin: Account,
):
    licence_id = await licence(client, contractor)
    ok = await client.post(f"/api/admin/licenses/{licence_id}/review", headers=admin.headers,
                           json={"decision": "verified"})
    assert ok.json()["status"] == "verified"
    url = f"{BASE}/licenses/{licence_id}"
    async with signed_in(app, contractor.email) as c:
        listing = await c.get(BASE)
        assert f'href="{url}"' in listing.text  # each row's edit link
        page = await c.get(url)
        assert page.status_code == 200 and 'value="C10-1"' in page.text
        assert "No document attached yet" in page.text

        # Saved unchanged: the verdict stays (nothing the admin checked has changed).
        same = await _save(c, url, LICENCE_FORM | {"expiration_date": (
            await _row(app, License, licence_id)).expiration_date.isoformat()})
        assert same.status_code == 303, same.text
        assert (await _row(app, License, licence_id)).status == "verified"

        # The schema's and the domain's rules, as the API: the form again, nothing kept.
        past = await _save(c, url, LICENCE_FORM | {"expiration_date": "2001-01-01"})
        assert past.status_code == 422 and "in the past" in past.text
        too_long = await _save(c, url, LICENCE_FORM | {"license_type": "x" * 101})
        assert too_long.status_code == 422
        assert (await _row(app, License, licence_id)).license_type == "electrical"

        saved = await _save(c, url, LICENCE_FORM | {"license_type": "general"},
                            {"document": ("scan.pdf", MINIMAL_PDF, "application/pdf")})
        assert saved.status_code == 303 and saved.headers["location"] == \
            f"{BASE}?done=license-saved"
        row = await _row(app, License, licence_id)
        assert (row.license_type, row.status, row.verified_at) == ("general", "unverified", None)
        assert row.document_id is not None
        doc = await _row(app, ContractorDocument, str(row.document_id))
        assert (doc.type, doc.entity_id, doc.mime_type) == ("license", row.id, "application/pdf")

        link = await c.get(f"{url}/document")
        assert link.status_code == 303 and "/files/contractors/" in link.headers["location"]
        fetched = await _download(c, link.headers["location"])
        assert fetched.status_code == 200 and fetched.content == MINIMAL_PDF
        assert "scan.pdf" in (await c.get("/account/documents")).text
        assert f'href="{url}/document"' in (await c.get(BASE)).text

        # A new document alone (fields unchanged) is a change too: back to review again.
        await _set_status(app, License, "status", licence_id, "verified")
        again = await _save(c, url, LICENCE_FORM | {"license_type": "general"},
                            {"document": ("scan.png", png(), "image/png")})
        assert again.status_code == 303
        row = await _row(app, License, licence_id)
        assert row.status == "unverified" and row.document_id != doc.id
    # The API shows the document's id and gives the same signed link.
    api = await client.get(f"/api/contractors/me/licenses/{licence_id}", headers=contractor.headers)
    assert api.json()["documentId"] == str(row.document_id)
    api_link = await client.get(f"/api/contractors/me/licenses/{licence_id}/document",
                                headers=contractor.headers)
    assert api_link.status_code == 200 and api_link.json()["mimeType"] == "image/png"


async def test_edit_a_policy_keeps_or_resets_its_verdict(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin: Account,
):
    policy_id = await policy(client, contractor)
    await client.post(f"/api/admin/insurance-policies/{policy_id}/review",
                      headers=admin.headers, json={"decision": "verified"})
    url = f"{BASE}/insurance/{policy_id}"
    expiry = (await _row(app, InsurancePolicy, policy_id)).expiration_date.isoformat()
    async with signed_in(app, contractor.email) as c:
        page = await c.get(url)
        assert page.status_code == 200 and 'value="GL-1"' in page.text
        same = await _save(c, url, POLICY_FORM | {"expiration_date": expiry})
        assert same.status_code == 303
        assert (await _row(app, InsurancePolicy, policy_id)).verification_status == "verified"
        no_cover = await _save(c, url, POLICY_FORM | {"coverage_types": []})
        assert no_cover.status_code == 422
        saved = await _save(c, url, POLICY_FORM | {"coverage_types": ["gl", "auto"]},
                            {"document": ("coi.pdf", MINIMAL_PDF, "application/pdf")})
        assert saved.status_code == 303, saved.text
    row = await _row(app, InsurancePolicy, policy_id)
    assert row.verification_status == "pending" and row.coverage_types == ["gl", "auto"]
    assert row.last_checked_at is None and row.document_id is not None
    assert (await _row(app, ContractorDocument, str(row.document_id))).type == \
        "insurance_certificate"


async def test_add_forms_take_a_document_and_a_refused_one_keeps_nothing(
    app: Any, contractor: Account,
):
    async with signed_in(app, contractor.email) as c:
        token = csrf_of(await c.get(BASE))
        licence_form = {"csrf_token": token, "state": "NV", "license_number": "N-1"}
        refused = await c.post(f"{BASE}/licenses", data=licence_form, files={
            "document": ("x.pdf", SVG_WITH_SCRIPT, "application/pdf")})
        assert refused.status_code == 422 and "alert error" in refused.text
        async with app.state.db.session() as session:
            assert await session.scalar(select(func.count()).select_from(License)) == 0
        added = await c.post(f"{BASE}/licenses", data=licence_form, files={
            "document": ("n.pdf", MINIMAL_PDF, "application/pdf")})
        assert added.status_code == 303
        cover = await c.post(f"{BASE}/insurance", data={"csrf_token": token, **POLICY_FORM},
                             files={"document": ("coi.png", png(), "image/png")})
        assert cover.status_code == 303
    async with app.state.db.session() as session:
        assert (await session.scalars(select(License.document_id))).one() is not None
        assert (await session.scalars(select(InsurancePolicy.document_id))).one() is not None
    assert await _documents(app) == 2


async def test_wrong_type_or_oversize_changes_nothing(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin: Account,
):
    licence_id = await licence(client, contractor)
    await client.post(f"/api/admin/licenses/{licence_id}/review", headers=admin.headers,
                      json={"decision": "verified"})
    url = f"{BASE}/licenses/{licence_id}"
    files_before = _stored_files(app)
    oversize = b"%PDF-1.4\n" + b"0" * DOCUMENT.max_bytes
    async with signed_in(app, contractor.email) as c:
        for content, status, text in (
                (SVG_WITH_SCRIPT, 422, "a document must be one of"),
                (b"MZ\x90\x00" + b"\x00" * 200, 422, "a document must be one of"),
                (oversize, 413, "larger than")):
            refused = await _save(c, url, LICENCE_FORM | {"license_type": "changed"},
                                  {"document": ("scan.pdf", content, "application/pdf")})
            assert refused.status_code == status, refused.text[:300]
            assert "alert error" in refused.text and text in refused.text
            assert 'value="changed"' in refused.text  # what was typed is shown again
    row = await _row(app, License, licence_id)
    assert (row.license_type, row.status, row.document_id) == ("electrical", "verified", None)
    assert await _documents(app) == 0 and _stored_files(app) == files_before
    # The API's stable codes for the same refusals.
    path = f"/api/contractors/me/licenses/{licence_id}/document"
    svg = await client.put(path, headers=contractor.headers,
                           files={"file": ("a.pdf", SVG_WITH_SCRIPT, "application/pdf")})
    assert svg.status_code == 422 and svg.json()["code"] == "unsupported_file_type"
    big = await client.put(path, headers=contractor.headers,
                           files={"file": ("a.pdf", oversize, "application/pdf")})
    assert big.status_code == 413 and big.json()["code"] == "file_too_large"
    assert (await _row(app, License, licence_id)).status == "verified"
    missing = await client.get(path, headers=contractor.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "document_not_found"


async def test_another_contractors_licence_policy_and_document_are_404(
    app: Any, client: httpx.AsyncClient, contractor: Account, other: Account,
):
    licence_id, policy_id = await licence(client, contractor), await policy(client, contractor)
    for kind, item in (("licenses", licence_id), ("insurance-policies", policy_id)):
        attached = await client.put(f"/api/contractors/me/{kind}/{item}/document",
                                    headers=contractor.headers,
                                    files={"file": ("a.pdf", MINIMAL_PDF, "application/pdf")})
        assert attached.status_code == 200, attached.text
    documents = await _documents(app)
    async with signed_in(app, other.email) as c:
        token = csrf_of(await c.get(BASE))
        for kind, item, form in (("licenses", licence_id, LICENCE_FORM),
                                 ("insurance", policy_id, POLICY_FORM),
                                 ("licenses", "not-an-id", LICENCE_FORM),
                                 ("other", licence_id, LICENCE_FORM)):
            url = f"{BASE}/{kind}/{item}"
            assert (await c.get(url)).status_code == 404, url
            document = await c.get(f"{url}/document")
            assert document.status_code == 404 and "location" not in document.headers, url
            edit = await c.post(url, data={"csrf_token": token, **form, "license_type": "x"},
                                files={"document": ("b.pdf", MINIMAL_PDF, "application/pdf")})
            assert edit.status_code == 404, url
    for kind, item in (("licenses", licence_id), ("insurance-policies", policy_id)):
        path = f"/api/contractors/me/{kind}/{item}/document"
        assert (await client.get(path, headers=other.headers)).status_code == 404
        put = await client.put(path, headers=other.headers,
                               files={"file": ("b.pdf", MINIMAL_PDF, "application/pdf")})
        assert put.status_code == 404
    assert await _documents(app) == documents
    assert (await _row(app, License, licence_id)).license_type == "electrical"


async def test_every_form_needs_the_csrf_token(
    app: Any, client: httpx.AsyncClient, contractor: Account,
):
    licence_id, policy_id = await licence(client, contractor), await policy(client, contractor)
    posts = [(f"{BASE}/licenses/{licence_id}", LICENCE_FORM | {"license_type": "x"}),
             (f"{BASE}/insurance/{policy_id}", POLICY_FORM | {"policy_number": "X"})]
    async with signed_in(app, contractor.email) as c:
        for url, data in posts:
            for token in (None, "a.b"):
                sent = data if token is None else {**data, "csrf_token": token}
                response = await c.post(url, data=sent, files={
                    "document": ("a.pdf", MINIMAL_PDF, "application/pdf")})
                assert response.status_code == 403, url
                assert response.json()["code"] == "csrf_failed"
    assert (await _row(app, License, licence_id)).license_type == "electrical"
    assert (await _row(app, InsurancePolicy, policy_id)).policy_number == "GL-1"
    assert await _documents(app) == 0


async def test_the_admin_opens_the_document_through_a_guarded_link(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin_browser: httpx.AsyncClient,
):
    licence_id, policy_id = await licence(client, contractor), await policy(client, contractor)
    bare = await admin_browser.get(f"/admin/licenses/{licence_id}")
    assert "No document attached." in bare.text
    assert (await admin_browser.get(f"/admin/licenses/{licence_id}/document")).status_code == 404
    for kind, item in (("licenses", licence_id), ("insurance-policies", policy_id)):
        await client.put(f"/api/contractors/me/{kind}/{item}/document",
                         headers=contractor.headers,
                         files={"file": ("a.pdf", MINIMAL_PDF, "application/pdf")})
    for kind, item in (("licenses", licence_id), ("insurance", policy_id)):
        page = await admin_browser.get(f"/admin/{kind}/{item}")
        assert f'href="/admin/{kind}/{item}/document"' in page.text
        link = await admin_browser.get(f"/admin/{kind}/{item}/document")
        assert link.status_code == 303 and "sig=" in link.headers["location"]
        fetched = await _download(admin_browser, link.headers["location"])
        assert fetched.status_code == 200 and fetched.content == MINIMAL_PDF
        # The history shows the attachment (audited with its hash).
        assert "document_added" in page.text
    for kind in ("licenses", "insurance"):
        for bad in ("not-an-id", str(uuid.uuid4())):
            assert (await admin_browser.get(f"/admin/{kind}/{bad}/document")).status_code == 404
    # The queues show which rows have a document, linked to the same guarded route.
    for kind, item in (("licenses", licence_id), ("insurance", policy_id)):
        queue = await admin_browser.get(f"/admin/{kind}?status=all")
        assert f'href="/admin/{kind}/{item}/document"' in queue.text
    # The contractor who owns it is not an administrator: the admin route is 404 for them.
    async with signed_in(app, contractor.email) as c:
        refused = await c.get(f"/admin/licenses/{licence_id}/document")
        assert refused.status_code == 404 and "location" not in refused.headers


async def test_a_replaced_document_is_no_longer_listed_as_current(
    app: Any, client: httpx.AsyncClient, contractor: Account,
):
    """A licence's new scan replaces the old one: the old file stays in the documents list
    (it is what was reviewed), marked replaced, in the API and on the page; a policy's
    certificate and a document of another kind are never marked."""
    licence_id, policy_id = await licence(client, contractor), await policy(client, contractor)

    async def attach(kind: str, item_id: str, name: str) -> None:
        response = await client.put(f"/api/contractors/me/{kind}/{item_id}/document",
                                    headers=contractor.headers,
                                    files={"file": (name, MINIMAL_PDF, "application/pdf")})
        assert response.status_code == 200, response.text

    await attach("licenses", licence_id, "first.pdf")
    await attach("insurance-policies", policy_id, "certificate.pdf")
    await attach("licenses", licence_id, "second.pdf")
    listed = await client.get("/api/contractors/me/documents", headers=contractor.headers)
    replaced = {d["name"]: d["replaced"] for d in listed.json()["data"]}
    assert replaced == {"first.pdf": True, "second.pdf": False, "certificate.pdf": False}
    current = (await _row(app, License, licence_id)).document_id
    assert [d["id"] for d in listed.json()["data"] if d["name"] == "second.pdf"] == [str(current)]
    async with signed_in(app, contractor.email) as c:
        page = await c.get("/account/documents")
        assert page.status_code == 200
        assert page.text.count("Replaced by a newer document") == 1
        first = page.text.index("first.pdf")
        assert "Replaced by a newer document" in page.text[first:first + 600]


async def test_review_queues_show_whether_each_item_has_a_document(
    app: Any, client: httpx.AsyncClient, contractor: Account, admin_browser: httpx.AsyncClient,
    make_client: Any,
):
    """Licences and policies without a document say "None" in their queue; a tax form always
    has its signed form, opened through `/admin/tax-forms/{id}/document` (admin only); the
    companies queue counts each company's documents and those waiting."""
    from tests.clients.conftest import UNKNOWN_COMPANY
    from tests.web.test_admin_review_pages import tax_form

    licence_id, policy_id = await licence(client, contractor), await policy(client, contractor)
    for kind, item in (("licenses", licence_id), ("insurance", policy_id)):
        queue = await admin_browser.get(f"/admin/{kind}?status=all")
        assert f"/admin/{kind}/{item}/document" not in queue.text
        assert "None" in queue.text
    submitted = await tax_form(client, contractor)
    queue = await admin_browser.get("/admin/tax-forms")
    link = f"/admin/tax-forms/{submitted['id']}/document"
    assert f'href="{link}"' in queue.text
    opened = await admin_browser.get(link)
    assert opened.status_code == 303 and "sig=" in opened.headers["location"]
    fetched = await _download(admin_browser, opened.headers["location"])
    assert fetched.status_code == 200 and fetched.content == MINIMAL_PDF
    async with signed_in(app, contractor.email) as c:  # the owner is not an administrator
        assert (await c.get(link)).status_code == 404

    account, _company = await make_client({**UNKNOWN_COMPANY, "legalName": "Docs Counted Ltd"})
    companies = await admin_browser.get("/admin/companies")
    row = companies.text[companies.text.index("Docs Counted Ltd"):]
    assert row[:row.index("</tr>")].count("None") == 1
    for n in range(2):
        uploaded = await client.post(
            "/api/clients/me/documents", headers=account.headers, data={"type": "other"},
            files={"file": (f"d{n}.pdf", MINIMAL_PDF, "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
    companies = await admin_browser.get("/admin/companies")
    row = companies.text[companies.text.index("Docs Counted Ltd"):]
    row = row[:row.index("</tr>")]
    assert '#cdocs-h">2</a>' in row and "2 waiting" in row
