"""The admin journey in a real browser: sign in with the TOTP step, review a KYC session
(accept its document, approve it), walk every admin screen, then switch to Arabic and walk
them again. Every page is screenshotted at 1280 px and 375 px (English and Arabic) and
passes the axe-core check in light and dark mode (`Shots.take`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import PASSWORD, Account, create_admin, register, totp_now
from tests.kyc.conftest import png
from tests.web.test_browser import Shots, chromium, playwright_api, served, shots

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def _kyc_waiting(base: str) -> tuple[str, str]:
    """A contractor with an open verification session and one uploaded document."""
    async with httpx.AsyncClient(base_url=base) as api:
        contractor = Account(await register(api, "contractor", name="Kay Browser"))
        started = await api.post("/api/kyc/contractor/me/start", headers=contractor.headers)
        assert started.status_code == 200, started.text
        uploaded = await api.post("/api/kyc/contractor/me/documents", headers=contractor.headers,
                                  data={"documentType": "passport"},
                                  files={"file": ("id.png", png(), "image/png")})
        assert uploaded.status_code == 201, uploaded.text
    return started.json()["sessionId"], contractor.token


async def test_admin_signs_in_with_totp_and_approves_a_kyc_session(
    served: tuple[str, Any], chromium: Any, shots: Shots
):
    base, app = served
    expect = playwright_api.expect
    email, secret = await create_admin(app)
    session_id, contractor_token = await _kyc_waiting(base)
    context = await chromium.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page = await context.new_page()

    await page.goto("/admin")  # signed out: the login page, back to /admin after
    # Focus order by keyboard: the skip link first, then the form's fields in reading order.
    order = []
    for _ in range(12):
        await page.keyboard.press("Tab")
        order.append(await page.evaluate(
            "document.activeElement.name || document.activeElement.textContent.trim()"))
    assert order[0] == "Skip to content"
    assert order.index("email") < order.index("password") < order.index("Sign in", 4), order
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Two-step verification")).to_be_visible()
    await shots.take(page, "login-mfa")
    await page.get_by_label("Code", exact=True).fill(totp_now(secret))
    await page.get_by_role("button", name="Verify").click()
    await expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    await expect(page.locator("svg.chart")).to_have_count(3)
    await shots.take(page, "admin-home")

    await page.get_by_role("link", name="Identity checks", exact=True).click()
    await expect(page.get_by_role("heading", name="Identity checks")).to_be_visible()
    await shots.take(page, "admin-kyc-list")
    await page.locator(f'a[href="/admin/kyc/{session_id}"]').click()
    await expect(page.get_by_role("heading", name="Identity check")).to_be_visible()
    await expect(page.get_by_role("link", name="Open the file (signed link)")).to_be_visible()
    await shots.take(page, "admin-kyc-detail")
    await page.get_by_role("button", name="Accept document").click()
    await expect(page.locator(".doc .badge-verified")).to_be_visible()
    await page.get_by_role("button", name="Approve", exact=True).click()
    await expect(page.locator("h1 .badge-verified")).to_be_visible()
    await expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)
    await shots.take(page, "admin-kyc-approved")
    async with httpx.AsyncClient(base_url=base) as api:
        status = await api.get("/api/kyc/contractor/me/status",
                               headers={"Authorization": f"Bearer {contractor_token}"})
    assert status.json()["status"] == "verified"

    screens = [("Companies", "admin-companies"), ("Users", "admin-users"),
               ("Audit log", "admin-audit"), ("Country rules", "admin-countries"),
               ("Ledger", "admin-ledger")]
    for link, name in screens:
        await page.locator(".subnav").get_by_role("link", name=link).click()
        await expect(page.get_by_role("heading", name=link, exact=True)).to_be_visible()
        await shots.take(page, name)
    await page.get_by_role("button", name="Verify now").click()
    await expect(page.get_by_text("the chain is intact")).to_be_visible()
    await page.get_by_role("link", name="System architecture").click()
    await expect(page.locator("svg.arch")).to_be_visible()
    await shots.take(page, "architecture")

    # Arabic: the switch in the footer keeps the choice (cookie + the admin's preference).
    await page.goto("/admin")
    await page.get_by_role("button", name="العربية").click()
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.get_by_role("heading", name="الإدارة")).to_be_visible()
    await shots.take(page, "admin-home-ar")
    for path, name in (("/admin/kyc", "admin-kyc-list-ar"),
                       (f"/admin/kyc/{session_id}", "admin-kyc-detail-ar"),
                       ("/admin/users", "admin-users-ar"), ("/admin/audit", "admin-audit-ar"),
                       ("/admin/countries", "admin-countries-ar"),
                       ("/admin/ledger", "admin-ledger-ar"),
                       ("/full-system-architecture", "architecture-ar")):
        await page.goto(path)
        await expect(page.locator("html")).to_have_attribute("lang", "ar")
        await shots.take(page, name)

    public = await chromium.new_context(base_url=base, locale="ar")
    public_page = await public.new_page()
    for path, name in (("/login", "login-ar"), ("/signup", "signup-ar")):
        await public_page.goto(path)  # Accept-Language: ar from the browser's locale
        await expect(public_page.locator("html")).to_have_attribute("dir", "rtl")
        await shots.take(public_page, name)
    await public.close()
    await context.close()
