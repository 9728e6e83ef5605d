"""The profile page in a real browser (Playwright driving Debian's Chromium against uvicorn):
the contractor corrects a refused phone number (its error next to the field, the field marked
invalid), saves, uploads a photo and sees it (served from the app's own origin, which the
pages' `img-src 'self'` allows); the page passes axe-core with and without errors, in English
and in Arabic, and is screenshot (`Shots.take`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.contractors.conftest import complete_profile
from tests.factories import Account
from tests.platform.samples import png
from tests.web.test_browser import Shots, chromium, playwright_api, served, shots
from tests.web.test_money_browser import _fits_360, _sign_in

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def test_contractor_edits_the_profile_and_uploads_a_photo(
    served: tuple[str, Any], chromium: Any, shots: Shots, client: httpx.AsyncClient,
    contractor: Account,
):
    base, _app = served
    expect = playwright_api.expect
    await complete_profile(client, contractor)
    context = await chromium.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page = await _sign_in(context, contractor.email)
    await page.goto("/profile")
    await expect(page.get_by_role("heading", name="Your details")).to_be_visible()
    await shots.take(page, "profile")
    phone = page.get_by_label("Phone")
    await phone.fill("12")
    await page.get_by_role("button", name="Save the profile").click()
    await expect(page.locator("#pf-phone-error")).to_contain_text("international format")
    await expect(page.get_by_label("Phone")).to_have_attribute("aria-invalid", "true")
    await shots.take(page, "profile-refused")
    await page.get_by_label("Phone").fill("+44 20 7946 0958")
    await page.get_by_label("Trading name").fill("Lovelace Analytics")
    await page.get_by_role("button", name="Save the profile").click()
    await expect(page.get_by_text("Profile saved.")).to_be_visible()
    await expect(page.get_by_label("Phone")).to_have_value("+442079460958")

    await page.get_by_label("Photo (JPEG, PNG or WebP").set_input_files(
        {"name": "me.png", "mimeType": "image/png", "buffer": png(800, 600)})
    await page.get_by_role("button", name="Upload the photo").click()
    await expect(page.get_by_text("Photo saved.")).to_be_visible()
    photo = page.locator("img.avatar")
    await expect(photo).to_be_visible()
    assert await photo.evaluate("img => img.complete && img.naturalWidth") == 512
    await shots.take(page, "profile-photo")
    await _fits_360(page)

    await context.add_cookies([{"name": "ml_lang", "value": "ar", "url": base}])  # the switch's
    await page.goto("/profile")
    await expect(page.locator("html[dir=rtl] h1")).to_be_visible()
    await page.locator("#pf-phone").fill("12")
    await page.locator("#pf-phone").evaluate("input => input.form.requestSubmit()")
    error = page.locator("#pf-phone-error")
    await expect(error).to_be_visible()
    assert "international format" not in await error.inner_text()
    await shots.take(page, "profile-refused-ar")
    await context.close()
