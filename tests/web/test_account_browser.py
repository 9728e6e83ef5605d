"""The account pages in a real browser (Playwright driving Debian's Chromium against uvicorn):
the contractor adds a bank account, reads the two micro-deposits off the sandbox bank's
statement and verifies it, submits a W-9, adds a licence and an insurance policy and finds the
form among the documents; the client registers its company (verified by the sandbox registry)
and uploads a document.
Every page passes the axe-core check and is screenshot at 1280 px and 375 px (`Shots.take`)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.clients.conftest import verified_company
from tests.contractors.conftest import ABA, ACCOUNT, complete_profile
from tests.factories import Account
from tests.platform.samples import MINIMAL_PDF
from tests.web.test_browser import Shots, chromium, playwright_api, served, shots
from tests.web.test_money_browser import _fits_360, _sign_in

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def _arabic(page: Any, shots: Shots, headings: dict[str, str]) -> None:
    """Each page in Arabic (right to left), checked and screenshot as `<name>-ar`."""
    for path, heading in headings.items():
        await page.goto(f"/account/{path}?lang=ar")
        await playwright_api.expect(page.locator("html[dir=rtl] h1")).to_contain_text(heading)
        await shots.take(page, f"{path.replace('/', '-')}-ar")


async def test_contractor_verifies_a_bank_account_and_client_registers_its_company(
    served: tuple[str, Any], chromium: Any, shots: Shots, client: httpx.AsyncClient,
    contractor: Account, make_client: Any,
):
    base, served_app = served
    expect = playwright_api.expect
    await complete_profile(client, contractor)  # legal name Ada Lovelace, United States
    context = await chromium.new_context(base_url=base)
    context.set_default_timeout(10_000)

    page = await _sign_in(context, contractor.email)
    await page.get_by_role("link", name="Account", exact=True).click()
    await expect(page.get_by_role("heading", name="Bank accounts", exact=True)).to_be_visible()
    await shots.take(page, "bank-accounts-empty")
    await page.get_by_label("Account holder's name").fill("Ada Lovelace")
    await page.get_by_label("Bank name").fill("First Bank")
    await page.get_by_label("Country (2 letters)").fill("US")
    await page.get_by_label("Currency (3 letters)").fill("USD")
    await page.get_by_label("Account number", exact=True).fill(ACCOUNT)
    await page.get_by_role("button", name="Add the account").click()
    # Refused (no ABA number for a US account): the page again with the domain's message.
    # The field is named by the form's label, not the API's `routingNumber`.
    await expect(page.get_by_text("Routing number / sort code: US accounts need an ABA routing number", exact=True)).to_be_visible()
    await shots.take(page, "bank-account-refused")
    await page.get_by_label("Routing number / sort code").fill(ABA)
    await page.get_by_role("button", name="Add the account").click()
    await expect(page.get_by_text("Bank account added")).to_be_visible()
    await expect(page.locator(".badge-pending-verification")).to_be_visible()
    await shots.take(page, "bank-account-pending")
    await _fits_360(page)

    # The sandbox bank's statement (what the account holder reads at their bank).
    item = await page.locator("li[id^=account-]").first.get_attribute("id")
    assert item is not None
    amounts = served_app.state.micro_deposit_sender.latest_amounts(
        uuid.UUID(item.removeprefix("account-")))
    await page.get_by_label("First deposit (cents)").fill(str(amounts[0]))
    await page.get_by_label("Second deposit (cents)").fill(str(amounts[1]))
    await page.get_by_role("button", name="Verify", exact=True).click()
    await expect(page.get_by_text("Bank account verified.")).to_be_visible()
    await expect(page.locator(".badge-verified")).to_be_visible()
    await shots.take(page, "bank-account-verified")

    subnav = page.locator("nav.subnav")
    await subnav.get_by_role("link", name="Tax forms", exact=True).click()
    await expect(page.get_by_role("heading", name="Tax forms", exact=True)).to_be_visible()
    await shots.take(page, "tax-forms-empty")
    await page.get_by_label("Tax ID", exact=True).fill("123456789")
    await page.get_by_label("Country of tax residence").fill("US")
    await page.get_by_label("Signed form (PDF, JPEG or PNG, up to 10 MB)").set_input_files(
        {"name": "w9.pdf", "mimeType": "application/pdf", "buffer": MINIMAL_PDF})
    await page.get_by_role("button", name="Submit for review").click()
    await expect(page.get_by_text("Tax form submitted for review.")).to_be_visible()
    await expect(page.locator(".badge-pending-review")).to_be_visible()
    await shots.take(page, "tax-forms")
    await _fits_360(page)

    await subnav.get_by_role("link", name="Licences and insurance", exact=True).click()
    await page.get_by_label("State or authority").fill("CA")
    await page.get_by_label("Licence number").fill("PE-12345")
    await page.get_by_role("button", name="Add the licence").click()
    await expect(page.get_by_text("Licence added.")).to_be_visible()
    await page.get_by_label("Policy number").fill("GL-778")
    await page.locator("#ins-exp").fill("2099-06-30")
    await page.get_by_label("General liability").check()
    await page.get_by_role("button", name="Add the policy").click()
    await expect(page.get_by_text("Insurance policy added.")).to_be_visible()
    await expect(page.get_by_role("cell", name="PE-12345", exact=True)).to_be_visible()
    await shots.take(page, "credentials")
    await _fits_360(page)

    await subnav.get_by_role("link", name="Documents", exact=True).click()
    await expect(page.get_by_role("link", name="w9.pdf")).to_be_visible()
    await shots.take(page, "documents")
    await _fits_360(page)

    await _arabic(page, shots, {"bank-accounts": "الحسابات المصرفية", "tax": "النماذج الضريبية",
                                "credentials": "التراخيص والتأمين", "documents": "المستندات"})

    owner, _ = await make_client()  # Grace Hopper, an officer of the sandbox companies
    body = verified_company()
    client_ctx = await chromium.new_context(base_url=base)
    client_ctx.set_default_timeout(10_000)
    boss = await _sign_in(client_ctx, owner.email)
    await boss.get_by_role("link", name="Company", exact=True).click()
    await expect(boss.get_by_role("heading", name="Register your company")).to_be_visible()
    await shots.take(boss, "company-register")
    await _fits_360(boss)
    await boss.get_by_label("Legal name").fill(body["legalName"])
    await boss.locator("#co-country").select_option("GB")
    await boss.locator("#co-type").select_option("llc")
    await boss.get_by_label("Tax ID").fill(body["taxId"])
    await boss.get_by_label("Company number (business register)").fill(body["companyNumber"])
    await boss.get_by_label("Address line 1").fill("1 Example Street")
    await boss.get_by_label("City").fill("London")
    await boss.get_by_label("Postal code").fill("EC1A 1AA")
    await boss.get_by_role("button", name="Register the company").click()
    await expect(boss.get_by_text("Company registered.")).to_be_visible()
    await expect(boss.locator("h1 .badge-verified")).to_be_visible()
    await shots.take(boss, "company-verified")

    await boss.locator("nav.subnav").get_by_role("link", name="Company documents").click()
    await expect(boss.get_by_role("heading", name="Company documents")).to_be_visible()
    await boss.get_by_label("Document type").select_option("incorporation_certificate")
    await boss.get_by_label("File (PDF, JPEG or PNG, up to 10 MB)").set_input_files(
        {"name": "certificate.pdf", "mimeType": "application/pdf", "buffer": MINIMAL_PDF})
    await boss.get_by_role("button", name="Upload", exact=True).click()
    await expect(boss.get_by_text("Document uploaded for review.")).to_be_visible()
    await expect(boss.get_by_role("link", name="certificate.pdf")).to_be_visible()
    await shots.take(boss, "company-documents")
    await _fits_360(boss)
    await _arabic(boss, shots, {"company": "Acme Widgets Ltd",
                                "company/documents": "مستندات الشركة"})
    await context.close()
    await client_ctx.close()
