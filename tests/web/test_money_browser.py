"""The money journey in a real browser (Playwright driving Debian's Chromium against uvicorn):
the contractor fills and submits a weekly timesheet in the grid, the client approves it in the
queue, the invoice run issues the period's invoice and both parties see it; the contractor
withdraws through the quote page (itemised fees, arrival, expiry). One test, so one browser for the
module; screenshots of each page at 1280 px and 375 px in the test's tmp dir."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.factories import PASSWORD
from tests.payments.payroll_helpers import issue
from tests.payments.withdrawal_helpers import ready
from tests.timesheets.conftest import hourly  # noqa: F401 - fixture
from tests.web.test_browser import Shots, chromium, playwright_api, served, shots

__all__ = ["chromium", "served", "shots"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def _fits_360(page: Any) -> None:
    """At 360 px the page scrolls only down, never sideways (tables stack or scroll inside
    their own box)."""
    await page.set_viewport_size({"width": 360, "height": 740})
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth")
    await page.set_viewport_size({"width": 1280, "height": 800})
    assert overflow <= 0, f"{page.url} is {overflow}px wider than 360 px"


async def _sign_in(context: Any, email: str) -> Any:
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await playwright_api.expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


async def test_timesheet_to_approval_to_invoice_for_both_parties(
    served: tuple[str, Any], chromium: Any, shots: Shots, party: Any,
    hourly: dict[str, Any], app: Any, client: Any,  # noqa: F811
):
    base, served_app = served
    expect = playwright_api.expect
    contractor_ctx = await chromium.new_context(base_url=base)
    # The client reviews with JavaScript off: the pages work without htmx.
    client_ctx = await chromium.new_context(base_url=base, java_script_enabled=False)
    for context in (contractor_ctx, client_ctx):
        context.set_default_timeout(10_000)

    worker = await _sign_in(contractor_ctx, party.contractor.email)
    await worker.get_by_role("link", name="Dashboard").click()
    await expect(worker.get_by_role("heading", name="Active contracts")).to_be_visible()
    await shots.take(worker, "contractor-home")
    await _fits_360(worker)
    await worker.goto(f"/timesheets?contract={hourly['id']}&week=2024-12-07")
    for day, hours in (("02", "8"), ("03", "7.5"), ("04", "8"), ("05", "8"), ("06", "6")):
        await worker.locator(f"#h-2024-12-{day}").fill(hours)
    await worker.get_by_label("Description for 2024-12-02").fill("Backend API development")
    await shots.take(worker, "timesheet-grid")
    await _fits_360(worker)
    await worker.get_by_role("button", name="Submit for approval").click()
    await expect(worker.get_by_text("Timesheet submitted for approval.")).to_be_visible()
    await expect(worker.locator("h2 .badge-pending")).to_be_visible()
    await shots.take(worker, "timesheet-submitted")

    reviewer = await _sign_in(client_ctx, party.client.email)
    await reviewer.get_by_role("link", name="Approvals").click()
    await expect(reviewer.get_by_role("cell", name="Ada Lovelace", exact=True)).to_be_visible()
    await expect(reviewer.get_by_text("$1,875.00")).to_be_visible()
    await shots.take(reviewer, "approvals")
    await _fits_360(reviewer)
    await reviewer.get_by_role("button", name="Approve", exact=True).click()
    await expect(reviewer.get_by_text("Approved.")).to_be_visible()
    await expect(reviewer.get_by_text("Nothing to approve.").first).to_be_visible()

    assert await issue(served_app, date(2025, 1, 1)) == 1  # the worker's daily invoice run

    await worker.get_by_role("link", name="Invoices").click()
    await expect(worker.get_by_role("link", name="INV-2025-001", exact=True)).to_be_visible()
    await shots.take(worker, "contractor-invoices")
    await _fits_360(worker)
    await reviewer.get_by_role("link", name="Invoices").click()
    await expect(reviewer.get_by_role("link", name="INV-2025-001", exact=True)).to_be_visible()
    await reviewer.get_by_role("link", name="INV-2025-001", exact=True).click()
    await expect(reviewer.get_by_text("Week ending 2024-12-07")).to_be_visible()
    await shots.take(reviewer, "client-invoice")
    await _fits_360(reviewer)
    await worker.get_by_role("link", name="Earnings").click()
    await expect(worker.get_by_role("img", name="Earnings by month")).to_be_visible()
    await shots.take(worker, "earnings")
    await _fits_360(worker)
    # The withdrawal: form -> confirmation with fee, net and arrival -> withdraw.
    # Through the in-process app (same database): its sandbox bank holds the micro-deposits.
    await ready(app, client, party.contractor)  # country, verified bank account, funds
    await worker.get_by_role("link", name="Wallet").click()
    await expect(worker.get_by_role("heading", name="Withdraw", exact=True)).to_be_visible()
    await worker.locator("#wd-amount").fill("100.00")
    await worker.get_by_role("button", name="Get a quote").click()
    await expect(worker.get_by_role("heading", name="Confirm the withdrawal")).to_be_visible()
    await expect(worker.get_by_text("Estimated arrival")).to_be_visible()
    await shots.take(worker, "withdraw-confirm")
    await _fits_360(worker)
    await worker.get_by_role("button", name="Withdraw $100.00").click()
    await expect(worker.get_by_text("Withdrawal requested.")).to_be_visible()
    await shots.take(worker, "withdrawal")
    await contractor_ctx.close()
    await client_ctx.close()
