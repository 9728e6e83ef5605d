"""Admin screens through HTTP: the guard (signed out -> login, another role -> 404, an admin
without the TOTP step -> 403), CSRF on every form, and each screen doing its job through the
domain services (KYC decision, company and document review, suspend, audit filters, country
rule edit, ledger verify)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.clients.conftest import UNKNOWN_COMPANY
from tests.factories import PASSWORD, Account, create_admin, register, totp_now
from tests.kyc.conftest import png, start
from tests.platform.samples import MINIMAL_PDF
from tests.web.conftest import csrf_of, submit

pytestmark = pytest.mark.usefixtures("db_backend")

GET_PAGES = ["/admin", "/admin/kyc", "/admin/companies", "/admin/users", "/admin/audit",
             "/admin/countries", "/admin/ledger"]
ZERO = "00000000-0000-0000-0000-000000000000"
POST_FORMS = [f"/admin/kyc/{ZERO}/decision", f"/admin/kyc/documents/{ZERO}/review",
              f"/admin/companies/{ZERO}/review", f"/admin/client-documents/{ZERO}/review",
              f"/admin/users/{ZERO}/status", "/admin/countries/GB", "/admin/ledger/verify"]


async def admin_login(client: httpx.AsyncClient, email: str, secret: str) -> None:
    step = await submit(client, "/login", "/login", {"email": email, "password": PASSWORD})
    assert step.status_code == 200 and 'name="mfa_token"' in step.text
    token = step.text.split('name="mfa_token" value="')[1].split('"')[0]
    done = await client.post("/login/mfa", data={"csrf_token": csrf_of(step),
                                                 "mfa_token": token, "code": totp_now(secret)})
    assert done.status_code == 303, done.text


@pytest.fixture
async def admin_browser(app: Any, browser: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    email, secret = await create_admin(app)
    await admin_login(browser, email, secret)
    yield browser


async def _csrf(client: httpx.AsyncClient, page: str = "/admin") -> str:
    return csrf_of(await client.get(page))


async def test_signed_out_visitors_go_to_the_login(browser: httpx.AsyncClient):
    for path in GET_PAGES:
        response = await browser.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login?next=/admin"), path


async def test_other_roles_get_the_not_found_page_on_every_screen_and_form(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    for role in ("contractor", "client"):
        account = await register(client, role)
        browser.cookies.clear()
        page = await submit(browser, "/login", "/login",
                            {"email": account["user"]["email"], "password": PASSWORD})
        assert page.status_code == 303
        home = await browser.get("/")
        assert 'href="/admin"' not in home.text
        for path in GET_PAGES:
            response = await browser.get(path)
            assert response.status_code == 404 and "Not found" in response.text, (role, path)
        token = csrf_of(home)
        for path in POST_FORMS:
            response = await browser.post(path, data={"csrf_token": token, "status": "suspended",
                                                      "decision": "approve"})
            assert response.status_code == 404, (role, path)


async def test_an_admin_session_without_the_totp_step_is_refused(
    app: Any, browser: httpx.AsyncClient
):
    """A password-only admin session (amr without otp), as the API's `mfa_required`."""
    from mindlinks.auth import repository
    from mindlinks.auth.sessions import start_login

    email, _secret = await create_admin(app)
    async with app.state.db.session() as s:
        user = await repository.user_by_email(s, email)
        pair = await start_login(s, app.state.runtime, user, ["pwd"])
    browser.cookies.set("ml_access", pair.access_token)
    home = await browser.get("/")
    assert home.status_code == 200  # signed in ...
    for path in GET_PAGES:
        response = await browser.get(path)
        assert response.status_code == 403 and "Two-step verification required" in response.text
    token = csrf_of(home)
    for path in POST_FORMS:
        response = await browser.post(path, data={"csrf_token": token})
        assert response.status_code == 403, path


async def test_every_admin_form_needs_the_csrf_token(admin_browser: httpx.AsyncClient):
    await admin_browser.get("/admin")
    for path in POST_FORMS:
        forged = await admin_browser.post(path, data={"status": "suspended"})
        assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed", path


async def test_home_shows_queue_counts_and_svg_charts(
    admin_browser: httpx.AsyncClient, client: httpx.AsyncClient, make_client: Any
):
    await make_client(UNKNOWN_COMPANY)  # one company waiting
    page = await admin_browser.get("/admin")
    assert page.status_code == 200
    queue = re.search(r'<span class="queue-count">(\d+)</span> <span>Companies to verify', page.text)
    assert queue and queue.group(1) == "1"
    assert page.text.count('<svg class="chart"') == 3 and "<title id=\"kpi-kyc-t\">" in page.text
    arabic = await admin_browser.get("/admin?lang=ar")
    assert 'dir="rtl"' in arabic.text and "الإدارة" in arabic.text
    assert '<span class="queue-count">١</span>' in arabic.text  # noqa: RUF001
    assert "شركات بانتظار التحقق" in arabic.text  # labels built in Python are translated too
    assert "<title id=\"kpi-users-t\">الحسابات حسب الدور</title>" in arabic.text


async def test_kyc_review_approves_a_session_and_reviews_its_documents(
    app: Any, admin_browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    contractor = Account(await register(client, "contractor", name="Kay Why"))
    started = await start(client, contractor)
    uploaded = await client.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                                 data={"documentType": "passport"},
                                 files={"file": ("id.png", png(), "image/png")})
    assert uploaded.status_code == 201, uploaded.text
    listing = await admin_browser.get("/admin/kyc?status=pending")
    assert started["sessionId"] in listing.text
    detail = await admin_browser.get(f"/admin/kyc/{started['sessionId']}")
    assert detail.status_code == 200 and "signed link" in detail.text
    links = re.findall(r'href="([^"]+)" rel="noopener"', detail.text)
    assert links and all("sig=" in link and "exp=" in link for link in links), links
    doc_ids = re.findall(r'/admin/kyc/documents/([0-9a-f-]+)/review', detail.text)
    assert doc_ids
    token = csrf_of(detail)
    reviewed = await admin_browser.post(f"/admin/kyc/documents/{doc_ids[0]}/review", data={
        "csrf_token": token, "session_id": started["sessionId"], "status": "verified"})
    assert reviewed.status_code == 303
    wrong = await admin_browser.post(f"/admin/kyc/{started['sessionId']}/decision", data={
        "csrf_token": token, "decision": "maybe"})
    assert wrong.status_code == 400
    approved = await admin_browser.post(f"/admin/kyc/{started['sessionId']}/decision", data={
        "csrf_token": token, "decision": "approved", "reason": ""})
    assert approved.status_code == 303
    status = await client.get("/api/kyc/contractor/me/status", headers=contractor.headers)
    assert status.json()["status"] == "verified"
    again = await admin_browser.post(f"/admin/kyc/{started['sessionId']}/decision", data={
        "csrf_token": token, "decision": "declined"})
    assert again.status_code == 409  # a final session: the page shows the service's error
    assert (await admin_browser.get(f"/admin/kyc/{ZERO}")).status_code == 404
    assert (await admin_browser.get("/admin/kyc/not-a-uuid")).status_code == 404


async def test_company_and_client_document_review(
    admin_browser: httpx.AsyncClient, client: httpx.AsyncClient, make_client: Any
):
    account, company = await make_client(UNKNOWN_COMPANY)
    uploaded = await client.post(
        "/api/clients/me/documents", headers=account.headers,
        data={"type": "incorporation_certificate"},
        files={"file": ("cert.pdf", MINIMAL_PDF, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    page = await admin_browser.get(f"/admin/companies/{company['id']}")
    assert page.status_code == 200 and "cert.pdf" in page.text
    token = csrf_of(page)
    no_reason = await admin_browser.post(
        f"/admin/client-documents/{uploaded.json()['id']}/review",
        data={"csrf_token": token, "company_id": company["id"], "decision": "reject"})
    assert no_reason.status_code == 422 and "reason" in no_reason.text.lower()
    ok = await admin_browser.post(
        f"/admin/client-documents/{uploaded.json()['id']}/review",
        data={"csrf_token": token, "company_id": company["id"], "decision": "approve"})
    assert ok.status_code == 303
    verified = await admin_browser.post(f"/admin/companies/{company['id']}/review",
                                        data={"csrf_token": token, "decision": "approve"})
    assert verified.status_code == 303
    mine = await client.get("/api/clients/me", headers=account.headers)
    assert mine.json()["verificationStatus"] == "verified"
    listed = await admin_browser.get("/admin/companies?status=verified")
    assert "Nobody Knows Us Ltd" in listed.text


async def test_users_search_and_suspend(
    admin_browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    target = await register(client, "contractor", name="Zed Suspendable")
    await register(client, "client", name="Someone Else")
    found = await admin_browser.get("/admin/users?q=suspendable")
    assert "Zed Suspendable" in found.text and "Someone Else" not in found.text
    token = csrf_of(found)
    done = await admin_browser.post(f"/admin/users/{target['user']['id']}/status", data={
        "csrf_token": token, "status": "suspended", "next": "/admin/users?q=zed"})
    assert done.status_code == 303 and done.headers["location"] == "/admin/users?q=zed"
    refused = await client.get("/api/auth/me",
                               headers={"Authorization": f"Bearer {target['accessToken']}"})
    assert refused.status_code in (401, 403)
    suspended = await admin_browser.get("/admin/users?status=suspended")
    assert "Zed Suspendable" in suspended.text
    audit = await admin_browser.get(f"/admin/audit?action=auth.user&entity_id={target['user']['id']}")
    assert "auth.user.status_changed" in audit.text
    none = await admin_browser.get("/admin/audit?action=nothing.like.this")
    assert "auth.user.status_changed" not in none.text


async def test_country_rule_edit_and_ledger_verify(admin_browser: httpx.AsyncClient):
    countries = await admin_browser.get("/admin/countries")
    code = re.search(r'href="/admin/countries/([A-Z]{2})"', countries.text)
    assert code, "no country rules seeded"
    page = await admin_browser.get(f"/admin/countries/{code.group(1)}")
    token = csrf_of(page)
    name = re.search(r'name="country_name" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    bad = await admin_browser.post(f"/admin/countries/{code.group(1)}", data={
        "csrf_token": token, "country_name": name, "payout_days": "99", "is_active": "on"})
    assert bad.status_code == 400
    saved = await admin_browser.post(f"/admin/countries/{code.group(1)}", data={
        "csrf_token": token, "country_name": name, "payout_days": "5", "is_active": "on"})
    assert saved.status_code == 303
    assert 'name="payout_days" value="5"' in (await admin_browser.get(saved.headers["location"])).text
    ledger = await admin_browser.get("/admin/ledger")
    assert "Merkle root" in ledger.text
    verified = await admin_browser.post("/admin/ledger/verify", data={"csrf_token": token})
    assert verified.status_code == 200 and "the chain is intact" in verified.text
    assert "ledger.verified" in (await admin_browser.get("/admin/audit?action=ledger")).text


async def _statements(app: Any, client: httpx.AsyncClient, path: str) -> int:
    from sqlalchemy import event

    seen: list[str] = []

    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            seen.append(statement)

    engine = app.state.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", _count)
    try:
        response = await client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", _count)
    assert response.status_code == 200, path
    return len(seen)


async def test_admin_pages_make_a_fixed_number_of_queries_whatever_the_rows(
    app: Any, admin_browser: httpx.AsyncClient, client: httpx.AsyncClient, make_client: Any
):
    """A bounded number of statements per page, the same with one row or several (no query
    per listed row)."""
    await make_client(UNKNOWN_COMPANY)
    contractor = Account(await register(client, "contractor"))
    await start(client, contractor)
    before = {p: await _statements(app, admin_browser, p) for p in GET_PAGES}
    for _ in range(3):
        await make_client(UNKNOWN_COMPANY)
        await start(client, Account(await register(client, "contractor")))
    after = {p: await _statements(app, admin_browser, p) for p in GET_PAGES}
    assert before == after
    assert max(after.values()) <= 8, after  # measured: home 6, lists 3, ledger 2
