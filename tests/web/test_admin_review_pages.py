"""The admin review queues (tax forms, licences, insurance, client documents), the alerts and
the contract templates screens through HTTP: the admin guard on every page and form (signed
out -> login, another role -> 404, no TOTP step -> 403), CSRF first, each decision made by the
domain service with its audit line (actor = the admin), refusals shown with the service's
status and rolled back, malformed or unknown ids -> 404."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from mindlinks.platform import alerts, audit
from tests.clients.conftest import UNKNOWN_COMPANY
from tests.factories import PASSWORD, Account, create_admin, register
from tests.platform.samples import MINIMAL_PDF
from tests.web.conftest import csrf_of, submit
from tests.web.test_admin_pages import ZERO, admin_browser

__all__ = ["admin_browser"]
pytestmark = pytest.mark.usefixtures("db_backend")

GET_PAGES = ["/admin/tax-forms", f"/admin/tax-forms/{ZERO}", f"/admin/tax-forms/{ZERO}/document",
             "/admin/licenses",
             f"/admin/licenses/{ZERO}", "/admin/insurance", f"/admin/insurance/{ZERO}",
             "/admin/client-documents", "/admin/alerts", "/admin/contract-templates",
             "/admin/contract-templates/new", f"/admin/contract-templates/{ZERO}"]
POST_FORMS = [f"/admin/tax-forms/{ZERO}/review", f"/admin/licenses/{ZERO}/review",
              f"/admin/insurance/{ZERO}/review", f"/admin/alerts/{ZERO}/resolve",
              "/admin/contract-templates", f"/admin/contract-templates/{ZERO}",
              f"/admin/contract-templates/{ZERO}/delete"]
FUTURE = (date.today() + timedelta(days=365)).isoformat()


async def audited(app: Any, action: str, entity_id: str) -> list[Any]:
    async with app.state.db.session() as session:
        rows, _total = await audit.search(session, action=action, entity_id=entity_id)
    return rows


async def tax_form(client: httpx.AsyncClient, who: Account) -> dict[str, Any]:
    response = await client.post(
        "/api/contractors/me/tax-info", headers=who.headers,
        data={"taxId": "A1234567", "taxCountry": "EG"},
        files={"taxForm": ("w8.pdf", MINIMAL_PDF, "application/pdf")})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def licence(client: httpx.AsyncClient, who: Account, number: str = "C10-1") -> str:
    response = await client.post("/api/contractors/me/licenses", headers=who.headers, json={
        "state": "CA", "licenseNumber": number, "licenseType": "electrical",
        "expirationDate": FUTURE})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def policy(client: httpx.AsyncClient, who: Account, number: str = "GL-1") -> str:
    response = await client.post("/api/contractors/me/insurance-policies", headers=who.headers,
                                 json={"policyNumber": number, "coverageTypes": ["gl"],
                                       "expirationDate": FUTURE})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_signed_out_visitors_go_to_the_login(browser: httpx.AsyncClient):
    for path in GET_PAGES:
        response = await browser.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=/admin"), path


async def test_other_roles_get_the_not_found_page_on_every_screen_and_form(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    for role in ("contractor", "client"):
        account = await register(client, role)
        browser.cookies.clear()
        signed = await submit(browser, "/login", "/login",
                              {"email": account["user"]["email"], "password": PASSWORD})
        assert signed.status_code == 303
        home = await browser.get("/")
        for path in GET_PAGES:
            response = await browser.get(path)
            assert response.status_code == 404 and "Not found" in response.text, (role, path)
        token = csrf_of(home)
        for path in POST_FORMS:
            response = await browser.post(path, data={
                "csrf_token": token, "decision": "approved", "name": "x", "type": "fixed",
                "model": "direct", "template_content": "Hello"})
            assert response.status_code == 404, (role, path)


async def test_an_admin_session_without_the_totp_step_is_refused(
    app: Any, browser: httpx.AsyncClient
):
    from mindlinks.auth import repository
    from mindlinks.auth.sessions import start_login

    email, _secret = await create_admin(app)
    async with app.state.db.session() as s:
        user = await repository.user_by_email(s, email)
        pair = await start_login(s, app.state.runtime, user, ["pwd"])
    browser.cookies.set("ml_access", pair.access_token)
    home = await browser.get("/")
    for path in GET_PAGES:
        response = await browser.get(path)
        assert response.status_code == 403, path
        assert "Two-step verification required" in response.text
    token = csrf_of(home)
    for path in POST_FORMS:
        assert (await browser.post(path, data={"csrf_token": token})).status_code == 403, path


async def test_every_form_needs_the_csrf_token(admin_browser: httpx.AsyncClient):
    await admin_browser.get("/admin")
    for path in POST_FORMS:
        forged = await admin_browser.post(path, data={"decision": "approved"})
        assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed", path


async def test_unknown_and_malformed_ids_are_the_not_found_page(
    admin_browser: httpx.AsyncClient
):
    token = csrf_of(await admin_browser.get("/admin"))
    for path in GET_PAGES:
        if ZERO in path:
            assert (await admin_browser.get(path)).status_code == 404, path
            assert (await admin_browser.get(path.replace(ZERO, "nope"))).status_code == 404
    for path in POST_FORMS:
        if ZERO in path:
            response = await admin_browser.post(path, data={
                "csrf_token": token, "decision": "verified", "name": "n",
                "template_content": "x"})
            assert response.status_code == 404, path


async def test_tax_form_queue_shows_the_signed_form_and_records_each_verdict(
    app: Any, admin_browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    who = Account(await register(client, "contractor", name="Tex Payer"))
    submitted = await tax_form(client, who)
    queue = await admin_browser.get("/admin/tax-forms")  # opens on "pending review"
    assert queue.status_code == 200 and "Tex Payer" in queue.text and "W-8BEN" in queue.text
    detail = await admin_browser.get(f"/admin/tax-forms/{submitted['id']}")
    assert "****4567" in detail.text and "A1234567" not in detail.text
    links = re.findall(r'href="([^"]+)" rel="noopener"', detail.text)
    assert len(links) == 1 and "sig=" in links[0] and "exp=" in links[0], links
    file = await client.get(links[0].replace("&amp;", "&").replace("http://127.0.0.1:8000", ""))
    assert file.status_code == 200 and file.content == MINIMAL_PDF
    token = csrf_of(detail)
    action = f"/admin/tax-forms/{submitted['id']}/review"

    no_reason = await admin_browser.post(action, data={"csrf_token": token,
                                                       "decision": "rejected"})
    assert no_reason.status_code == 422 and "reason" in no_reason.text.lower()
    assert await audited(app, "contractor.tax_info.reviewed", submitted["id"]) == []
    bad = await admin_browser.post(action, data={"csrf_token": token, "decision": "maybe"})
    assert bad.status_code == 400
    done = await admin_browser.post(action, data={"csrf_token": token, "decision": "rejected",
                                                  "reason": "Unsigned form"})
    assert done.status_code == 303 and done.headers["location"] == f"/admin/tax-forms/{submitted['id']}"
    mine = await client.get("/api/contractors/me/tax-info", headers=who.headers)
    assert mine.json()["status"] == "rejected" and mine.json()["reviewReason"] == "Unsigned form"
    [line] = await audited(app, "contractor.tax_info.reviewed", submitted["id"])
    assert line.actor_role == "admin" and line.details["decision"] == "rejected"
    again = await admin_browser.post(action, data={"csrf_token": token, "decision": "approved"})
    assert again.status_code == 409
    assert "Tex Payer" not in (await admin_browser.get("/admin/tax-forms")).text
    assert "Tex Payer" in (await admin_browser.get("/admin/tax-forms?status=rejected")).text
    assert "Tex Payer" in (await admin_browser.get("/admin/tax-forms?status=all")).text


async def test_licence_and_insurance_reviews_keep_the_reason_in_the_audit_line(
    app: Any, admin_browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    who = Account(await register(client, "contractor", name="Lee Censed"))
    licence_id, policy_id = await licence(client, who), await policy(client, who)
    listed = await admin_browser.get("/admin/licenses")
    assert "Lee Censed" in listed.text and "C10-1" in listed.text
    page = await admin_browser.get(f"/admin/licenses/{licence_id}")
    token = csrf_of(page)
    verified = await admin_browser.post(f"/admin/licenses/{licence_id}/review", data={
        "csrf_token": token, "decision": "verified", "reason": "Found in the CA register"})
    assert verified.status_code == 303
    [line] = await audited(app, "contractor.license.reviewed", licence_id)
    assert line.actor_role == "admin"
    assert line.details == {"decision": "verified", "reason": "Found in the CA register"}
    mine = await client.get(f"/api/contractors/me/licenses/{licence_id}", headers=who.headers)
    assert mine.json()["status"] == "verified"
    history = (await admin_browser.get(f"/admin/licenses/{licence_id}")).text
    assert "contractor.license.reviewed" in history and "Found in the CA register" in history
    assert "Lee Censed" not in (await admin_browser.get("/admin/licenses")).text

    assert "GL-1" in (await admin_browser.get("/admin/insurance")).text
    failed = await admin_browser.post(f"/admin/insurance/{policy_id}/review", data={
        "csrf_token": token, "decision": "failed", "reason": "Certificate expired"})
    assert failed.status_code == 303
    [line] = await audited(app, "contractor.insurance.reviewed", policy_id)
    assert line.details == {"decision": "failed", "reason": "Certificate expired"}
    policy_page = await admin_browser.get(f"/admin/insurance/{policy_id}")
    assert "badge-failed" in policy_page.text
    wrong = await admin_browser.post(f"/admin/insurance/{policy_id}/review", data={
        "csrf_token": token, "decision": "approved"})  # the licence's word, not the policy's
    assert wrong.status_code == 400


async def test_expired_licence_cannot_be_verified_and_nothing_is_recorded(
    app: Any, admin_browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    from sqlalchemy import update

    from mindlinks.contractors.models import License

    who = Account(await register(client, "contractor"))
    licence_id = await licence(client, who)
    async with app.state.db.session() as session:
        await session.execute(update(License).where(License.id == uuid.UUID(licence_id))
                              .values(status="expired"))
        await session.commit()
    token = csrf_of(await admin_browser.get(f"/admin/licenses/{licence_id}"))
    refused = await admin_browser.post(f"/admin/licenses/{licence_id}/review", data={
        "csrf_token": token, "decision": "verified"})
    assert refused.status_code == 409
    assert await audited(app, "contractor.license.reviewed", licence_id) == []


async def test_client_documents_queue_reviews_in_place(
    app: Any, admin_browser: httpx.AsyncClient, client: httpx.AsyncClient, make_client: Any
):
    account, company = await make_client(UNKNOWN_COMPANY)
    uploaded = await client.post(
        "/api/clients/me/documents", headers=account.headers,
        data={"type": "incorporation_certificate"},
        files={"file": ("cert.pdf", MINIMAL_PDF, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    doc_id = uploaded.json()["id"]
    queue = await admin_browser.get("/admin/client-documents")
    assert "cert.pdf" in queue.text and "Nobody Knows Us Ltd" in queue.text
    links = re.findall(r'href="([^"]+)" rel="noopener"', queue.text)
    assert links and all("sig=" in link for link in links)
    done = await admin_browser.post(f"/admin/client-documents/{doc_id}/review", data={
        "csrf_token": csrf_of(queue), "company_id": company["id"], "decision": "approve",
        "next": "/admin/client-documents"})
    assert done.status_code == 303 and done.headers["location"] == "/admin/client-documents"
    [line] = await audited(app, "client.document.approved", doc_id)
    assert line.actor_role == "admin"
    assert "cert.pdf" not in (await admin_browser.get("/admin/client-documents")).text
    assert "cert.pdf" in (await admin_browser.get(
        "/admin/client-documents?status=approved")).text
    # `next` elsewhere is ignored: back to the company (no open redirect through the form).
    second = await client.post(
        "/api/clients/me/documents", headers=account.headers, data={"type": "other"},
        files={"file": ("more.pdf", MINIMAL_PDF, "application/pdf")})
    other = await admin_browser.post(f"/admin/client-documents/{second.json()['id']}/review",
                                     data={"csrf_token": csrf_of(queue), "decision": "approve",
                                           "company_id": company["id"],
                                           "next": "https://evil.example/"})
    assert other.status_code == 303
    assert other.headers["location"] == f"/admin/companies/{company['id']}"


async def test_alerts_filter_and_resolve_with_an_audit_line(
    app: Any, admin_browser: httpx.AsyncClient
):
    async with app.state.db.session() as session:
        first = await alerts.raise_alert(
            session, source="payments.reconciliation", kind="missing_at_provider",
            key="t-1", summary="Payout po_1 missing at the provider",
            details={"payoutId": "po_1", "amount": 1200})
        await alerts.raise_alert(session, source="other.job", kind="odd", key="t-2",
                                 summary="Another thing")
        await session.commit()
    assert first is not None
    page = await admin_browser.get("/admin/alerts")
    assert "Payout po_1 missing" in page.text and "Another thing" in page.text
    only = await admin_browser.get("/admin/alerts?source=other.job")
    assert "Another thing" in only.text and "Payout po_1" not in only.text
    home = await admin_browser.get("/admin")
    count = re.search(r'<span class="queue-count">(\d+)</span> <span>Open alerts', home.text)
    assert count and count.group(1) == "2"

    done = await admin_browser.post(f"/admin/alerts/{first.id}/resolve", data={
        "csrf_token": csrf_of(page), "next": "/admin/alerts?status=open"})
    assert done.status_code == 303 and done.headers["location"] == "/admin/alerts?status=open"
    [line] = await audited(app, "platform.alert.resolved", str(first.id))
    assert line.actor_role == "admin"
    assert "Payout po_1" not in (await admin_browser.get("/admin/alerts")).text
    resolved = await admin_browser.get("/admin/alerts?status=resolved")
    assert "Payout po_1" in resolved.text and "Another thing" not in resolved.text
    everything = await admin_browser.get("/admin/alerts?status=all")
    assert "Payout po_1" in everything.text and "Another thing" in everything.text
    again = await admin_browser.post(f"/admin/alerts/{first.id}/resolve",
                                     data={"csrf_token": csrf_of(page)})
    assert again.status_code == 404
    assert len(await audited(app, "platform.alert.resolved", str(first.id))) == 1


async def test_contract_templates_create_edit_delete_with_the_services_rules(
    app: Any, admin_browser: httpx.AsyncClient
):
    listing = await admin_browser.get("/admin/contract-templates")
    assert listing.status_code == 200 and "<table>" in listing.text  # the seeded defaults
    token = csrf_of(listing)
    form = {"csrf_token": token, "name": "Short NDA", "type": "fixed", "model": "direct",
            "template_content": "Between {{ client_name }} and {{ contractor_name }}.",
            "variables": ""}
    unknown = await admin_browser.post("/admin/contract-templates", data={
        **form, "template_content": "Hello {{ shoe_size }}"})
    assert unknown.status_code == 422 and "shoe_size" in unknown.text
    assert "Hello {{ shoe_size }}" in unknown.text  # the form keeps what was typed
    too_long = await admin_browser.post("/admin/contract-templates", data={
        **form, "template_content": "x" * 100_001})
    assert too_long.status_code == 400
    created = await admin_browser.post("/admin/contract-templates", data=form)
    assert created.status_code == 303, created.text
    template_id = created.headers["location"].split("/")[-1].split("?")[0]
    [line] = await audited(app, "contract_template.created", template_id)
    assert line.actor_role == "admin"
    page = await admin_browser.get(created.headers["location"])
    assert "Short NDA" in page.text and "client_name, contractor_name" in page.text

    edited = await admin_browser.post(f"/admin/contract-templates/{template_id}", data={
        **form, "name": "Shorter NDA", "template_content": "Only {{ client_name }}."})
    assert edited.status_code == 303
    assert "Shorter NDA" in (await admin_browser.get(f"/admin/contract-templates/{template_id}")).text
    assert len(await audited(app, "contract_template.updated", template_id)) == 1
    bad_edit = await admin_browser.post(f"/admin/contract-templates/{template_id}", data={
        **form, "name": "Broken", "template_content": "{% if %}"})
    assert bad_edit.status_code == 422
    kept = await admin_browser.get(f"/admin/contract-templates/{template_id}")
    assert "Shorter NDA" in kept.text and "Broken" not in kept.text

    deleted = await admin_browser.post(f"/admin/contract-templates/{template_id}/delete",
                                       data={"csrf_token": token})
    assert deleted.status_code == 303
    assert len(await audited(app, "contract_template.deleted", template_id)) == 1
    assert (await admin_browser.get(f"/admin/contract-templates/{template_id}")).status_code == 404


async def test_a_template_contracts_use_is_not_deleted(
    app: Any, admin_browser: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any],
    flow: Any
):
    await flow.create(party, fixed_template["id"])
    token = csrf_of(await admin_browser.get("/admin/contract-templates"))
    refused = await admin_browser.post(
        f"/admin/contract-templates/{fixed_template['id']}/delete", data={"csrf_token": token})
    assert refused.status_code == 409 and "cannot be deleted" in refused.text
    assert await audited(app, "contract_template.deleted", fixed_template["id"]) == []
    still = await admin_browser.get(f"/admin/contract-templates/{fixed_template['id']}")
    assert still.status_code == 200


async def test_home_counts_the_new_queues(
    admin_browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    who = Account(await register(client, "contractor"))
    await tax_form(client, who)
    await licence(client, who, "A-1")
    await licence(client, who, "A-2")
    await policy(client, who)
    home = await admin_browser.get("/admin")
    counts = dict((label, int(n)) for n, label in re.findall(
        r'<span class="queue-count">(\d+)</span> <span>([^<]+)</span>', home.text))
    assert counts["Tax forms to review"] == 1
    assert counts["Licences to verify"] == 2
    assert counts["Insurance policies to verify"] == 1
    assert counts["Open alerts"] == 0
    assert 'href="/admin/client-documents"' in home.text and 'href="/admin/alerts"' in home.text
