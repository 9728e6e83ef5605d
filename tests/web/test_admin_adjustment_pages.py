"""The admin console's balance adjustment requests (`/admin/adjustments`, maker-checker of
RELIABILITY 31) through HTTP: a request made through the API is listed; its requester sees the
approve button disabled and a forged approve is refused by the service (403 `same_admin`,
nothing moves); a second admin approves it once (a second submit is the 409 message); a
rejection moves nothing; an expired request cannot be approved; other roles get the 404 page,
an admin without the TOTP step the 403 page, a form without the CSRF token 403."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from mindlinks.payments.adjustments_models import AdjustmentRequest
from mindlinks.platform.db import utcnow
from tests.factories import PASSWORD, Account, create_admin, register
from tests.payments.conftest import acme, pay
from tests.payments.test_adjustment_approval import _adjust, _adjustment_transfers, _escrow
from tests.web.conftest import csrf_of, submit
from tests.web.test_admin_pages import ZERO, admin_browser

__all__ = ["acme", "admin_browser", "pay"]
pytestmark = pytest.mark.usefixtures("db_backend")

PAGE = "/admin/adjustments"
REASON = "Correction, ticket 4711"


async def _pending(app: Any, client: httpx.AsyncClient, pay: Any, acme: Account,
                   maker: Account, amount: str = "2500.00") -> str:
    """A 5,000.00 USD escrow and a request above the 1,000.00 threshold, made by `maker`
    through the API: nothing has moved yet."""
    escrow_id = await _escrow(app, pay, acme)
    made = await _adjust(client, maker.headers, escrow_id, amount, REASON)
    assert made.status_code == 202 and made.json()["status"] == "pending_approval", made.text
    return str(made.json()["id"])


def _as(app: Any, who: Account) -> httpx.AsyncClient:
    """A browser signed in with `who`'s API session (an admin's carries the TOTP step)."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.21", 50021))
    browser = httpx.AsyncClient(transport=transport, base_url="https://testserver")
    browser.cookies.set("ml_access", who.token)
    return browser


def _approve_button(page: str, request_id: str) -> str:
    form = re.search(rf'action="/admin/adjustments/{request_id}/approve".*?</form>', page, re.S)
    assert form, "no approve form"
    return form.group(0)


async def test_the_requester_sees_it_pending_and_cannot_approve_it(
    app: Any, client: httpx.AsyncClient, pay: Any, acme: Account, admin: Account
):
    request_id = await _pending(app, client, pay, acme, admin)
    made = (await client.get("/api/admin/payments/adjustments", headers=admin.headers)).json()
    requester = made["data"][0]["requestedBy"]
    async with _as(app, admin) as maker:
        page = await maker.get(PAGE)
        assert page.status_code == 200, page.text
        assert request_id in page.text and REASON in page.text and "$2,500.00" in page.text
        assert "pending approval" in page.text and f"<code>{requester}</code> (you)" in page.text
        form = _approve_button(page.text, request_id)
        assert "disabled" in form and "A second admin must approve" in form
        # The button is only greyed out: a forged POST is refused by the service.
        forged = await maker.post(f"{PAGE}/{request_id}/approve",
                                  data={"csrf_token": csrf_of(page)})
        assert forged.status_code == 403, forged.text
        assert "A second admin must approve" in forged.text and request_id in forged.text
    assert await pay.available(acme) == 5000.0 and await _adjustment_transfers(app) == 0
    listed = await client.get("/api/admin/payments/adjustments", headers=admin.headers)
    assert [r["status"] for r in listed.json()["data"]] == ["pending_approval"]


async def test_a_second_admin_approves_it_once(
    app: Any, client: httpx.AsyncClient, pay: Any, acme: Account, admin: Account,
    admin_browser: httpx.AsyncClient
):
    request_id = await _pending(app, client, pay, acme, admin)
    page = await admin_browser.get(PAGE)
    assert "disabled" not in _approve_button(page.text, request_id)
    token = csrf_of(page)
    approved = await admin_browser.post(f"{PAGE}/{request_id}/approve",
                                        data={"csrf_token": token, "status": "pending"})
    assert approved.status_code == 303, approved.text
    assert approved.headers["location"] == f"{PAGE}?status=pending&done=approve"
    assert await pay.available(acme) == 7500.0 and await _adjustment_transfers(app) == 1
    back = await admin_browser.get(approved.headers["location"])
    assert "Adjustment approved" in back.text and request_id not in back.text
    shown = await admin_browser.get(f"{PAGE}?status=approved")
    assert request_id in shown.text and 'badge-approved' in shown.text
    assert f'action="/admin/adjustments/{request_id}/approve"' not in shown.text

    again = await admin_browser.post(f"{PAGE}/{request_id}/approve", data={"csrf_token": token})
    assert again.status_code == 409, again.text
    assert "already approved" in again.text
    assert await pay.available(acme) == 7500.0 and await _adjustment_transfers(app) == 1


async def test_two_submits_at_once_execute_once(
    app: Any, client: httpx.AsyncClient, pay: Any, acme: Account, admin: Account,
    admin_browser: httpx.AsyncClient
):
    """A double click (or two tabs): the two POSTs race; the service's row lock lets one
    execute, the other finds it approved (409), and one transfer exists."""
    request_id = await _pending(app, client, pay, acme, admin)
    token = csrf_of(await admin_browser.get(PAGE))
    answers = await asyncio.gather(*(
        admin_browser.post(f"{PAGE}/{request_id}/approve", data={"csrf_token": token})
        for _ in range(2)))
    assert sorted(a.status_code for a in answers) == [303, 409], [a.text for a in answers]
    assert await pay.available(acme) == 7500.0 and await _adjustment_transfers(app) == 1


async def test_a_rejection_moves_nothing(
    app: Any, client: httpx.AsyncClient, pay: Any, acme: Account, admin: Account,
    admin_browser: httpx.AsyncClient
):
    request_id = await _pending(app, client, pay, acme, admin)
    token = csrf_of(await admin_browser.get(PAGE))
    rejected = await admin_browser.post(f"{PAGE}/{request_id}/reject",
                                        data={"csrf_token": token, "status": "all"})
    assert rejected.status_code == 303, rejected.text
    assert rejected.headers["location"] == f"{PAGE}?status=all&done=reject"
    shown = await admin_browser.get(rejected.headers["location"])
    assert "Adjustment request rejected" in shown.text and 'badge-rejected' in shown.text
    late = await admin_browser.post(f"{PAGE}/{request_id}/approve", data={"csrf_token": token})
    assert late.status_code == 409 and "already rejected" in late.text
    assert await pay.available(acme) == 5000.0 and await _adjustment_transfers(app) == 0


async def test_an_expired_request_cannot_be_approved(
    app: Any, client: httpx.AsyncClient, pay: Any, acme: Account, admin: Account,
    admin_browser: httpx.AsyncClient
):
    request_id = await _pending(app, client, pay, acme, admin)
    async with app.state.db.session() as s:
        await s.execute(update(AdjustmentRequest).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        await s.commit()
    page = await admin_browser.get(f"{PAGE}?status=expired")
    assert request_id in page.text and 'badge-expired' in page.text
    refused = await admin_browser.post(f"{PAGE}/{request_id}/approve",
                                       data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 409 and "expired" in refused.text
    assert await pay.available(acme) == 5000.0 and await _adjustment_transfers(app) == 0
    arabic = await admin_browser.post(f"{PAGE}/{request_id}/approve?lang=ar",
                                      data={"csrf_token": csrf_of(page)})
    assert arabic.status_code == 409 and "انتهت صلاحية طلب التسوية" in arabic.text


async def test_guards_roles_mfa_csrf_and_unknown_ids(
    app: Any, client: httpx.AsyncClient, pay: Any, acme: Account, admin: Account,
    admin_browser: httpx.AsyncClient
):
    request_id = await _pending(app, client, pay, acme, admin)
    forms = [f"{PAGE}/{request_id}/approve", f"{PAGE}/{request_id}/reject"]
    # Other roles: the not-found page everywhere (the admin area is not advertised).
    transport = httpx.ASGITransport(app=app, client=("203.0.113.22", 50022))
    for role in ("client", "contractor"):
        account = await register(client, role)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as b:
            signed = await submit(b, "/login", "/login",
                                  {"email": account["user"]["email"], "password": PASSWORD})
            assert signed.status_code == 303
            token = csrf_of(await b.get("/"))
            assert (await b.get(PAGE)).status_code == 404, role
            for path in forms:
                assert (await b.post(path, data={"csrf_token": token})).status_code == 404
    # An admin session without the TOTP step: 403.
    from mindlinks.auth import repository
    from mindlinks.auth.sessions import start_login

    email, _secret = await create_admin(app)
    async with app.state.db.session() as s:
        user = await repository.user_by_email(s, email)
        pair = await start_login(s, app.state.runtime, user, ["pwd"])
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as half:
        half.cookies.set("ml_access", pair.access_token)
        token = csrf_of(await half.get("/"))
        page = await half.get(PAGE)
        assert page.status_code == 403 and "Two-step verification required" in page.text
        for path in forms:
            assert (await half.post(path, data={"csrf_token": token})).status_code == 403
    # No CSRF token: refused before anything runs.
    await admin_browser.get(PAGE)
    for path in forms:
        forged = await admin_browser.post(path, data={})
        assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed", path
    assert await pay.available(acme) == 5000.0 and await _adjustment_transfers(app) == 0
    # Unknown and malformed ids: the 404 page.
    token = csrf_of(await admin_browser.get(PAGE))
    for bad in (ZERO, "nope"):
        for action in ("approve", "reject"):
            response = await admin_browser.post(f"{PAGE}/{bad}/{action}",
                                                data={"csrf_token": token})
            assert response.status_code == 404, (bad, action)
    listed = await client.get("/api/admin/payments/adjustments", headers=admin.headers)
    assert [r["status"] for r in listed.json()["data"]] == ["pending_approval"]


async def test_the_console_links_the_page_in_both_languages(
    app: Any, client: httpx.AsyncClient, pay: Any, acme: Account, admin: Account,
    admin_browser: httpx.AsyncClient
):
    # The link is in the console's navigation, not a count on the home page: the home's
    # statement budget (test_admin_pages: at most 8, whatever the rows) is spent.
    await _pending(app, client, pay, acme, admin)
    home = await admin_browser.get("/admin")
    assert 'href="/admin/adjustments"' in home.text and "Balance adjustments" in home.text
    arabic = await admin_browser.get(f"{PAGE}?lang=ar&status=bogus")
    assert arabic.status_code == 200 and "تسويات الأرصدة" in arabic.text
    assert "بانتظار الموافقة" in arabic.text  # the pending filter is the default
