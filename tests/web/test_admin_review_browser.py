"""The admin review screens in a real browser: an admin signs in with the TOTP step, finds the
queue counts on the home page, rejects a tax form (after the page refused a rejection without
a reason), verifies a licence, fails an insurance policy, approves a client document from its
queue, resolves an alert, creates and deletes a contract template; then walks every new
screen in Arabic. Each page is screenshotted at 1280 px and 375 px and passes the axe-core
check in light and dark mode (`Shots.take`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mindlinks.platform import alerts
from tests.clients.conftest import UNKNOWN_COMPANY
from tests.factories import Account, create_admin, register
from tests.platform.samples import MINIMAL_PDF
from tests.web.test_admin_review_pages import licence, policy, tax_form
from tests.web.test_browser import (
    Shots,
    admin_sign_in,
    chromium,
    playwright_api,
    served,
    shots,
)

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def _waiting(base: str, app: Any) -> dict[str, str]:
    """One item in every queue, made through the API as the contractor and client would."""
    async with httpx.AsyncClient(base_url=base) as api:
        who = Account(await register(api, "contractor", name="Queue Walker"))
        tax = await tax_form(api, who)
        lic, pol = await licence(api, who), await policy(api, who)
        owner = Account(await register(api, "client", name="Doc Owner"))
        company = await api.post("/api/clients/companies", json=UNKNOWN_COMPANY,
                                 headers=owner.headers)
        assert company.status_code == 201, company.text
        doc = await api.post("/api/clients/me/documents", headers=owner.headers,
                             data={"type": "incorporation_certificate"},
                             files={"file": ("cert.pdf", MINIMAL_PDF, "application/pdf")})
        assert doc.status_code == 201, doc.text
    async with app.state.db.session() as session:
        alert = await alerts.raise_alert(
            session, source="payments.reconciliation", kind="missing_at_provider",
            key="browser-1", summary="Payout po_9 missing at the provider",
            details={"payoutId": "po_9", "amount": 1200})
        await session.commit()
    assert alert is not None
    return {"tax": tax["id"], "licence": lic, "policy": pol, "alert": str(alert.id)}


async def test_admin_works_the_review_queues_in_the_browser(
    served: tuple[str, Any], chromium: Any, shots: Shots
):
    base, app = served
    expect = playwright_api.expect
    email, secret = await create_admin(app)
    ids = await _waiting(base, app)
    context = await chromium.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page = await context.new_page()

    await admin_sign_in(page, email, secret)
    await expect(page.get_by_role("heading", name="Administration")).to_be_visible()
    for label in ("Tax forms to review", "Licences to verify", "Insurance policies to verify",
                  "Open alerts"):
        await expect(page.locator(".queues a", has_text=label)
                     .locator(".queue-count")).to_have_text("1")

    nav = page.locator(".subnav")
    await nav.get_by_role("link", name="Tax forms").click()
    await expect(page.get_by_role("heading", name="Tax forms")).to_be_visible()
    await shots.take(page, "admin-tax-forms")
    await page.get_by_role("link", name="Queue Walker", exact=True).click()
    await expect(page.get_by_role("heading", name="Tax form")).to_be_visible()
    await expect(page.get_by_role("link", name="Open the file (signed link)")).to_be_visible()
    await shots.take(page, "admin-tax-form")
    await page.get_by_role("button", name="Reject").click()  # no reason: refused, shown
    await expect(page.locator(".alert.error")).to_contain_text("reason")
    await shots.take(page, "admin-tax-form-error")
    await page.get_by_label("Reason (needed to reject)").fill("The form is not signed")
    await page.get_by_role("button", name="Reject").click()
    await expect(page.locator("h1 .badge-rejected")).to_be_visible()
    await expect(page.get_by_text("The form is not signed")).to_be_visible()

    await nav.get_by_role("link", name="Licences").click()
    await expect(page.get_by_role("heading", name="Licences")).to_be_visible()
    await shots.take(page, "admin-licenses")
    await page.goto(f"/admin/licenses/{ids['licence']}")
    await shots.take(page, "admin-license")
    await page.get_by_label("Reason (kept in the audit log)").fill("On the CA register")
    await page.get_by_role("button", name="Verify", exact=True).click()
    await expect(page.locator("h1 .badge-verified")).to_be_visible()

    await nav.get_by_role("link", name="Insurance policies").click()
    await expect(page.get_by_role("heading", name="Insurance policies")).to_be_visible()
    await shots.take(page, "admin-insurance")
    await page.goto(f"/admin/insurance/{ids['policy']}")
    await shots.take(page, "admin-insurance-policy")
    await page.get_by_role("button", name="Mark failed").click()
    await expect(page.locator("h1 .badge-failed")).to_be_visible()

    await nav.get_by_role("link", name="Client documents").click()
    await expect(page.get_by_role("heading", name="Client documents")).to_be_visible()
    await expect(page.get_by_text("cert.pdf")).to_be_visible()
    await shots.take(page, "admin-client-documents")
    await page.get_by_role("button", name="Approve document").click()
    await expect(page.get_by_role("heading", name="Client documents")).to_be_visible()
    await expect(page.get_by_text("cert.pdf")).to_have_count(0)

    await nav.get_by_role("link", name="Alerts").click()
    await expect(page.get_by_text("Payout po_9 missing at the provider")).to_be_visible()
    await shots.take(page, "admin-alerts")
    await page.get_by_role("button", name="Mark resolved").click()
    await expect(page.get_by_text("Payout po_9 missing")).to_have_count(0)
    await page.get_by_label("Status").select_option("resolved")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.get_by_text("Payout po_9 missing at the provider")).to_be_visible()

    await nav.get_by_role("link", name="Contract templates").click()
    await expect(page.get_by_role("heading", name="Contract templates")).to_be_visible()
    await shots.take(page, "admin-contract-templates")
    await page.get_by_role("link", name="New template").click()
    await page.get_by_label("Name").fill("Browser NDA")
    await page.get_by_label("Template (Markdown, variables in double braces)").fill(
        "Between {{ client_name }} and {{ contractor_name }}.")
    await shots.take(page, "admin-contract-template-new")
    await page.get_by_role("button", name="Save template").click()
    await expect(page.get_by_role("heading", name="Browser NDA")).to_be_visible()
    await expect(page.get_by_text("Saved.")).to_be_visible()
    await shots.take(page, "admin-contract-template")
    await page.get_by_role("button", name="Delete template").click()
    await expect(page.get_by_text("Template deleted.")).to_be_visible()
    await expect(page.get_by_role("link", name="Browser NDA")).to_have_count(0)

    await page.goto("/admin")
    await page.get_by_role("button", name="العربية").click()
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    for path, name in (("/admin/tax-forms?status=all", "admin-tax-forms-ar"),
                       (f"/admin/tax-forms/{ids['tax']}", "admin-tax-form-ar"),
                       ("/admin/licenses?status=all", "admin-licenses-ar"),
                       (f"/admin/licenses/{ids['licence']}", "admin-license-ar"),
                       ("/admin/insurance?status=all", "admin-insurance-ar"),
                       (f"/admin/insurance/{ids['policy']}", "admin-insurance-policy-ar"),
                       ("/admin/client-documents?status=all", "admin-client-documents-ar"),
                       ("/admin/alerts?status=all", "admin-alerts-ar"),
                       ("/admin/contract-templates", "admin-contract-templates-ar"),
                       ("/admin/contract-templates/new", "admin-contract-template-new-ar")):
        await page.goto(path)
        await expect(page.locator("html")).to_have_attribute("lang", "ar")
        await shots.take(page, name)
    await context.close()
