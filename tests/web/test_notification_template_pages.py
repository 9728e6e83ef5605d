"""Admin screens of the notification templates (web/notification_template_pages.py): the guard
and CSRF, the English and Arabic versions edited side by side with the API's checks and audit
line, and each recipient getting the version in their language."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mindlinks.notifications import catalogue_ar
from tests.factories import PASSWORD, register
from tests.notifications.conftest import emit_and_deliver
from tests.web.conftest import csrf_of, submit
from tests.web.test_admin_pages import admin_browser
from tests.web.test_admin_review_pages import audited

__all__ = ["admin_browser"]
pytestmark = pytest.mark.usefixtures("db_backend")

EDITOR = "/admin/notification-templates/payment_received/in_app"


async def test_only_a_signed_in_admin_reaches_the_screens(
        browser: httpx.AsyncClient, client: httpx.AsyncClient):
    for path in ("/admin/notification-templates", EDITOR):
        assert (await browser.get(path)).status_code == 303
    account = await register(client, "contractor")
    await submit(browser, "/login", "/login", {"email": account["user"]["email"],
                                                "password": PASSWORD})
    token = csrf_of(await browser.get("/"))
    for path in ("/admin/notification-templates", EDITOR):
        assert (await browser.get(path)).status_code == 404
    assert (await browser.post(EDITOR + "/ar", data={"csrf_token": token, "body": "x"})
            ).status_code == 404


async def test_the_admin_edits_both_languages_and_recipients_get_theirs(
        app: Any, admin_browser: httpx.AsyncClient, client: httpx.AsyncClient,
        contractor: Any, other: Any, admin: Any):
    listing = await admin_browser.get("/admin/notification-templates?channel=in_app")
    assert listing.status_code == 200 and f'href="{EDITOR}"' in listing.text
    page = await admin_browser.get(EDITOR)
    assert page.status_code == 200
    # Both versions, each in its own form, the Arabic one with the built-in Arabic text.
    assert f'action="{EDITOR}/en"' in page.text and f'action="{EDITOR}/ar"' in page.text
    assert catalogue_ar.TEXTS["payment_received"][0] in page.text
    token = csrf_of(page)

    forged = await admin_browser.post(EDITOR + "/ar", data={"subject": "x", "body": "y"})
    assert forged.status_code == 403
    unknown = await admin_browser.post(EDITOR + "/ar", data={
        "csrf_token": token, "subject": "وصل", "body": "{{ password_hash }}"})
    assert unknown.status_code == 422 and "password_hash" in unknown.text
    for bad in (EDITOR + "/fr", "/admin/notification-templates/nope/in_app/ar",
                "/admin/notification-templates/payment_received/fax/en"):
        assert (await admin_browser.post(bad, data={"csrf_token": token, "body": "b"})
                ).status_code == 404, bad

    saved = await admin_browser.post(EDITOR + "/ar", data={
        "csrf_token": token, "subject": "وصلت دفعة", "body": "AR {{ amount }}"})
    assert saved.status_code == 303 and saved.headers["location"] == EDITOR + "?saved=ar"
    saved = await admin_browser.post(EDITOR + "/en", data={
        "csrf_token": token, "subject": "Paid", "body": "EN {{ amount }}"})
    assert saved.status_code == 303
    shown = await admin_browser.get(EDITOR + "?saved=en")
    assert "وصلت دفعة" in shown.text and "Paid" in shown.text

    versions = (await client.get("/api/admin/notification-templates?type=in_app",
                                 headers=admin.headers)).json()
    arabic = next(t for t in versions if t["name"] == "payment_received"
                  and t["language"] == "ar")
    [line] = await audited(app, "notifications.template.updated", arabic["id"])
    assert line.details["language"] == "ar"

    assert (await client.put("/api/notifications/me/preferences", json={"language": "ar"},
                             headers=other.headers)).status_code == 200
    for who in (contractor, other):
        await emit_and_deliver(app, "payment.received", {
            "paymentId": f"p-{who.id}", "userId": str(who.id), "amount": 3, "currency": "USD"})
    mine = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    theirs = (await client.get("/api/notifications/me", headers=other.headers)).json()
    assert (mine["data"][0]["title"], mine["data"][0]["message"]) == ("Paid", "EN 3")
    assert (theirs["data"][0]["title"], theirs["data"][0]["message"]) == ("وصلت دفعة", "AR 3")

