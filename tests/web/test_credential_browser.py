"""Edited credentials and the company logo in a real browser (Playwright driving Debian's
Chromium against uvicorn): the contractor adds a licence, an administrator verifies it, the
contractor edits it and attaches the scan (the licence goes back to review), downloads it from
the list; the administrator, past the TOTP step, sees the licence waiting again and downloads
the same file from the review page. A client uploads its company logo and sees it on the
company page and in the home header (served from the app's own origin, which the pages'
`img-src 'self'` allows). Every page passes axe-core and is screenshot (`Shots.take`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clients.conftest import verified_company
from tests.factories import Account, create_admin
from tests.platform.samples import MINIMAL_PDF, png
from tests.web.test_browser import (
    Shots,
    admin_sign_in,
    chromium,
    playwright_api,
    served,
    shots,
)
from tests.web.test_money_browser import _fits_360, _sign_in

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def test_contractor_edits_a_licence_with_its_scan_and_the_admin_opens_it(
    served: tuple[str, Any], chromium: Any, shots: Shots, client: httpx.AsyncClient,
    contractor: Account, tmp_path: Path,
):
    base, app = served
    expect = playwright_api.expect
    context = await chromium.new_context(base_url=base, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = await _sign_in(context, contractor.email)
    await page.goto("/account/credentials")
    await page.get_by_label("State or authority").fill("CA")
    await page.get_by_label("Licence number").fill("PE-12345")
    await page.get_by_role("button", name="Add the licence").click()
    await expect(page.get_by_text("Licence added.")).to_be_visible()
    licence_id = (await client.get("/api/contractors/me/licenses",
                                   headers=contractor.headers)).json()[0]["id"]

    email, secret = await create_admin(app)
    admin_ctx = await chromium.new_context(base_url=base, accept_downloads=True)
    admin_ctx.set_default_timeout(10_000)
    admin = await admin_ctx.new_page()
    await admin_sign_in(admin, email, secret, f"/admin/licenses/{licence_id}")
    await expect(admin.get_by_text("No document attached.")).to_be_visible()
    await admin.get_by_role("button", name="Verify", exact=True).click()
    await expect(admin.locator("h1 .badge-verified")).to_be_visible()

    # The contractor edits the verified licence and attaches the scan.
    await page.reload()
    await expect(page.locator(".badge-verified")).to_be_visible()
    await page.get_by_role("link", name="Edit licence PE-12345").click()
    await expect(page.get_by_role("heading", name="Edit licence")).to_be_visible()
    await shots.take(page, "credential-edit")
    await _fits_360(page)
    await page.get_by_label("Licence type").fill("Professional engineer")
    await page.get_by_label("New scan of the licence (optional; PDF, JPEG or PNG, up to 10 MB)"
                            ).set_input_files({"name": "scan.pdf", "mimeType": "application/pdf",
                                               "buffer": MINIMAL_PDF})
    await page.get_by_role("button", name="Save", exact=True).click()
    await expect(page.get_by_text("Licence saved.")).to_be_visible()
    await expect(page.get_by_role("cell", name="Professional engineer")).to_be_visible()
    await expect(page.locator(".badge-unverified")).to_be_visible()  # back to review
    await shots.take(page, "credentials-with-document")
    async with page.expect_download() as mine:
        await page.get_by_role("link", name="Open the document of licence PE-12345").click()
    download = await mine.value
    assert download.suggested_filename == "scan.pdf"
    saved = tmp_path / "contractor.pdf"
    await download.save_as(saved)
    assert saved.read_bytes() == MINIMAL_PDF

    # The administrator finds it waiting again, with the document behind the guarded link.
    await admin.goto("/admin/licenses")
    await admin.get_by_role("link", name="Ada Lovelace", exact=True).click()
    await expect(admin.locator("h1 .badge-unverified")).to_be_visible()
    await expect(admin.get_by_text("Professional engineer")).to_be_visible()
    await shots.take(admin, "admin-licence-with-document")
    async with admin.expect_download() as theirs:
        await admin.get_by_role("link", name="Open the licence's document (signed link)").click()
    download = await theirs.value
    saved = tmp_path / "admin.pdf"
    await download.save_as(saved)
    assert download.suggested_filename == "scan.pdf" and saved.read_bytes() == MINIMAL_PDF
    await page.goto(f"/account/credentials/licenses/{licence_id}?lang=ar")
    await expect(page.locator("html[dir=rtl] h1")).to_contain_text("تعديل الترخيص")
    await shots.take(page, "credential-edit-ar")


async def test_client_uploads_the_company_logo(
    served: tuple[str, Any], chromium: Any, shots: Shots, make_client: Any,
):
    base, _app = served
    expect = playwright_api.expect
    owner, _ = await make_client(verified_company())
    context = await chromium.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page = await _sign_in(context, owner.email)
    await page.goto("/account/company")
    await page.get_by_label("Logo image (JPEG, PNG or WebP, up to 5 MB").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": png(600, 200)})
    await page.get_by_role("button", name="Upload the logo").click()
    await expect(page.get_by_text("Logo saved.")).to_be_visible()
    logo = page.locator("img.company-logo")
    await expect(logo).to_be_visible()
    assert await logo.evaluate("img => img.complete && img.naturalWidth") == 512
    await shots.take(page, "company-logo")
    await page.goto("/")
    header = page.locator(".company-header img.company-logo")
    await expect(header).to_be_visible()
    assert await header.evaluate("img => img.complete && img.naturalWidth") == 512
    await shots.take(page, "client-home-logo")
    await _fits_360(page)
