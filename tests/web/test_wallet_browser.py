"""The wallet's quote step, the notifications page and the timesheet week in a real browser
(Playwright driving Debian's Chromium against uvicorn), in English and Arabic: ask for a quote
paid out in EGP (itemised fees, rate, arrival, expiry), confirm, see the withdrawal; a quote
that expired offers a fresh one; the notifications page, mark all read; the week grid. Every
page is screenshotted at 1280/375 px and checked by axe-core (light and dark)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from mindlinks.payments.quotes_models import WithdrawalQuote
from mindlinks.platform.db import utcnow
from tests.payments.withdrawal_helpers import ready
from tests.timesheets.conftest import hourly  # noqa: F401 - fixture
from tests.web.test_browser import Shots, chromium, playwright_api, served, shots
from tests.web.test_money_browser import _fits_360, _sign_in

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def _quote(page: Any, amount: str, target: str) -> str:
    """Fill the wallet's form and ask for the quote; the quote's id."""
    await page.goto("/wallet")
    await page.locator("#wd-amount").fill(amount)
    await page.locator("#wd-target").select_option(target)
    await page.locator("form[action='/wallet/withdraw'] button[type=submit]").click()
    await playwright_api.expect(page.locator("input[name=quote_id]")).to_have_count(1)
    return str(await page.locator("input[name=quote_id]").get_attribute("value"))


async def test_quote_confirm_notifications_and_week_in_both_languages(
    served: tuple[str, Any], chromium: Any, shots: Shots, party: Any,
    hourly: dict[str, Any], app: Any, client: Any,  # noqa: F811
):
    base, _ = served
    expect = playwright_api.expect
    await ready(app, client, party.contractor)  # country, verified bank account, funds
    context = await chromium.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page = await _sign_in(context, party.contractor.email)

    await _quote(page, "250.00", "EGP")
    for label in ("Flat fee", "Percentage fee", "Conversion fee", "Exchange rate",
                  "Quote valid until"):
        await expect(page.get_by_text(label, exact=True)).to_be_visible()
    await shots.take(page, "withdraw-quote")
    await _fits_360(page)
    await page.get_by_role("button", name="Withdraw $250.00").click()
    await expect(page.get_by_text("Withdrawal requested.")).to_be_visible()
    await shots.take(page, "withdrawal-quoted")

    stale = await _quote(page, "40.00", "")
    async with app.state.db.session() as session:
        await session.execute(update(WithdrawalQuote).where(
            WithdrawalQuote.id == uuid.UUID(stale)).values(
            expires_at=utcnow() - timedelta(seconds=1)))
    await page.get_by_role("button", name="Withdraw $40.00").click()
    await expect(page.get_by_role("heading", name="This quote has expired")).to_be_visible()
    await shots.take(page, "withdraw-quote-expired")
    await page.get_by_role("button", name="Get a fresh quote").click()
    await expect(page.get_by_text("Quote valid until")).to_be_visible()

    await page.get_by_role("link", name="Notifications", exact=True).click()
    await expect(page.get_by_role("heading", name="Notifications", exact=True)).to_be_visible()
    await shots.take(page, "notifications")
    await _fits_360(page)
    await page.get_by_role("button", name="Mark all as read").click()
    await expect(page.get_by_text("All notifications marked as read.")).to_be_visible()

    await page.goto(f"/timesheets?contract={hourly['id']}&week=2024-12-04")
    await expect(page.get_by_text("A week runs from Sunday to Saturday")).to_be_visible()
    await shots.take(page, "timesheet-week")

    # Arabic: the footer switch, then the same pages.
    await page.get_by_role("button", name="العربية").click()
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await _quote(page, "100.00", "AED")
    await expect(page.get_by_text("رسم التحويل")).to_be_visible()
    await shots.take(page, "withdraw-quote-ar")
    await _fits_360(page)
    await page.goto("/notifications")
    await expect(page.get_by_role("button", name="تحديد الكل كمقروء")).to_be_visible()
    await shots.take(page, "notifications-ar")
    await page.goto(f"/timesheets?contract={hourly['id']}&week=2024-12-04")
    await shots.take(page, "timesheet-week-ar")
    await context.close()
