"""The money dashboards through HTTP (httpx over ASGI, cookie sessions): the contractor's weekly
timesheet grid (save, submit, rejection reason, resubmit), the client's approval queue (reject,
bulk approve), invoices for both parties with the PDF link, milestones, escrow funding through
the deposit flow, payroll runs, wallet and earnings charts, the team page; every POST refuses a
missing CSRF token; another user's ids are the 404 page and change nothing."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.payments.models import Deposit
from mindlinks.timesheets.models import Timesheet
from tests.factories import PASSWORD
from tests.payments.conftest import pay  # noqa: F401 - fixture
from tests.payments.payroll_helpers import fund, issue, run_payroll
from tests.timesheets.conftest import active_hourly  # noqa: F401 - fixture
from tests.web.conftest import csrf_of, web_login
from tests.web.money import WEEK, grid, milestone_contract, post_form, signed_in

pytestmark = pytest.mark.usefixtures("db_backend")
FOREIGN = "3f2c1a9e-8d4b-4c2a-9f1e-5b6d7c8e9f01"


async def _count(app: Any, model: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _sheet(app: Any) -> Timesheet:
    """The (one) regular timesheet."""
    async with app.state.db.session() as session:
        return (await session.scalars(select(Timesheet).where(
            Timesheet.amends_id.is_(None)))).one()


async def test_weekly_grid_review_and_invoice_for_both_parties(
    app: Any, browser: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any],  # noqa: F811
    make_party: Any,
):
    cid = active_hourly["id"]
    page_url = f"/timesheets?contract={cid}&week={WEEK}"
    await web_login(browser, party.contractor.email, PASSWORD)
    page = await browser.get(page_url)
    assert page.status_code == 200
    for day in ("2024-12-01", "2024-12-02", "2024-12-07"):  # Sunday..Saturday of the week
        assert f'name="hours-{day}"' in page.text

    saved = await post_form(browser, page_url, "/timesheets", {
        "contract_id": cid, "week_ending": str(WEEK), "action": "save", **grid()})
    assert saved.status_code == 303 and "saved=saved" in saved.headers["location"]
    assert (await _sheet(app)).status == "draft"
    draft = await browser.get(page_url)
    assert "badge-draft" in draft.text and 'value="7.5"' in draft.text

    # A bad value comes back with the message and what was typed; nothing is saved.
    bad = await post_form(browser, page_url, "/timesheets", {
        "contract_id": cid, "week_ending": str(WEEK), "action": "submit",
        **grid(hours={1: "25"})})
    assert bad.status_code == 422 and 'value="25"' in bad.text and "alert error" in bad.text
    assert (await _sheet(app)).status == "draft"

    submitted = await post_form(browser, page_url, "/timesheets", {
        "contract_id": cid, "week_ending": str(WEEK), "action": "submit", **grid()})
    assert submitted.status_code == 303 and "saved=submitted" in submitted.headers["location"]
    row = await _sheet(app)
    assert (row.status, row.total_hundredths, row.amount_minor) == ("pending", 3750, 187500)

    async with signed_in(app, party.client.email) as client_browser:
        queue = await client_browser.get("/approvals")
        assert queue.status_code == 200 and "Ada Lovelace" in queue.text
        assert "2024-12-07" in queue.text and "$1,875.00" in queue.text
        rejected = await post_form(client_browser, "/approvals",
                                   f"/approvals/timesheets/{row.id}/reject",
                                   {"reason": "Wednesday was a holiday"})
        assert rejected.status_code == 303
        shown = await browser.get(page_url)
        assert "Wednesday was a holiday" in shown.text and "badge-rejected" in shown.text

        # The contractor corrects the week: a rejected timesheet goes back to pending.
        fixed = await post_form(browser, page_url, "/timesheets", {
            "contract_id": cid, "week_ending": str(WEEK), "action": "submit",
            **grid(hours={1: "8", 2: "8", 4: "8", 5: "6"})})
        assert fixed.status_code == 303 and (await _sheet(app)).status == "pending"

        no_pick = await post_form(client_browser, "/approvals", "/approvals/timesheets", {})
        assert no_pick.status_code == 422
        bulk = await post_form(client_browser, "/approvals", "/approvals/timesheets",
                               {"ids": [str(row.id)]})
        assert bulk.status_code == 303 and (await _sheet(app)).status == "approved"
        again = await post_form(client_browser, "/approvals",
                                f"/approvals/timesheets/{row.id}/approve", {})
        assert again.status_code == 409 and "alert error" in again.text
        locked = await browser.get(page_url)
        assert "can no longer be changed" in locked.text and "disabled" in locked.text
        # A correction of the approved week is an amendment, reviewed on its own.
        amend_page = await browser.get(page_url + "&amend=1")
        assert "Submit the correction" in amend_page.text and 'value="8"' not in amend_page.text
        amended = await browser.post("/timesheets", data={
            "csrf_token": csrf_of(amend_page), "contract_id": cid, "week_ending": str(WEEK),
            "action": "amend", **grid(hours={5: "0.5"})})
        assert amended.status_code == 303
        week_page = await browser.get(page_url)
        assert "Amendments of this week" in week_page.text and "badge-approved" in week_page.text
        async with app.state.db.session() as session:
            [amendment] = (await session.scalars(select(Timesheet).where(
                Timesheet.amends_id.is_not(None)))).all()
        assert (amendment.status, amendment.amount_minor) == ("pending", 2500)
        assert (await post_form(client_browser, "/approvals",
                                f"/approvals/timesheets/{amendment.id}/approve",
                                {})).status_code == 303

        assert await issue(app, date(2025, 1, 1)) == 1
        mine = await browser.get("/invoices")
        theirs = await client_browser.get("/invoices")
        for listing in (mine, theirs):
            assert listing.status_code == 200 and "INV-2025-001" in listing.text
            assert "$1,525.00" in listing.text  # 30 h + the 0.5 h amendment, x 50.00
        invoice_id = next(part.split('"')[0] for part in mine.text.split('href="/invoices/')[1:]
                          if "/pdf" not in part.split('"')[0])
        detail = await client_browser.get(f"/invoices/{invoice_id}")
        assert detail.status_code == 200 and "Week ending 2024-12-07" in detail.text
        pdf = await browser.get(f"/invoices/{invoice_id}/pdf")
        assert pdf.status_code == 303 and "/files/" in pdf.headers["location"]
        filtered = await browser.get("/invoices?status=paid")
        assert "INV-2025-001" not in filtered.text and "No invoices" in filtered.text

    stranger = await make_party(legal_name="Other Co", contractor_name="Eve")
    for who in (stranger.contractor, stranger.client):
        async with signed_in(app, who.email) as other:
            for url in (f"/invoices/{invoice_id}", f"/invoices/{invoice_id}/pdf",
                        f"/invoices/{FOREIGN}", "/invoices/not-an-id"):
                response = await other.get(url)
                assert response.status_code == 404, url
                assert "INV-2025-001" not in response.text
            assert "INV-2025-001" not in (await other.get("/invoices")).text


async def test_foreign_ids_are_404_and_change_nothing(
    app: Any, party: Any, active_hourly: dict[str, Any], make_party: Any,  # noqa: F811
):
    cid = active_hourly["id"]
    async with signed_in(app, party.contractor.email) as owner:
        response = await post_form(owner, "/timesheets", "/timesheets", {
            "contract_id": cid, "week_ending": str(WEEK), "action": "submit", **grid()})
        assert response.status_code == 303
    sheet = await _sheet(app)
    milestones = await milestone_contract(app, party)
    mid = milestones["milestones"][0]["id"]

    stranger = await make_party(legal_name="Other Co", contractor_name="Eve")
    async with signed_in(app, stranger.contractor.email) as other:
        foreign = await post_form(other, "/timesheets", "/timesheets", {
            "contract_id": cid, "week_ending": "2024-12-14", "action": "submit",
            **grid(date(2024, 12, 14))})
        assert foreign.status_code == 404 and "Not found" in foreign.text
        assert (await other.get(f"/timesheets?contract={cid}&week={WEEK}")).status_code == 200
        assert "Ada Lovelace" not in (await other.get("/timesheets")).text
        ms = await post_form(other, "/milestones",
                             f"/milestones/{milestones['id']}/{mid}/submit", {"note": "x"})
        assert ms.status_code == 404
        assert "Design" not in (await other.get("/milestones")).text
    async with signed_in(app, stranger.client.email) as other:
        for action, data in (("approve", {}), ("reject", {"reason": "no"})):
            response = await post_form(other, "/approvals",
                                       f"/approvals/timesheets/{sheet.id}/{action}", data)
            assert response.status_code == 404, action
        bulk = await post_form(other, "/approvals", "/approvals/timesheets",
                               {"ids": [str(sheet.id)]})
        assert bulk.status_code == 404
        assert "Ada Lovelace" not in (await other.get("/approvals")).text
        for url in (f"/payroll/{FOREIGN}", "/payroll/not-an-id"):
            assert (await other.get(url)).status_code == 404
        approve = await post_form(other, "/payroll", f"/payroll/{FOREIGN}/approve", {})
        assert approve.status_code == 404
    assert (await _sheet(app)).status == "pending"
    assert await _count(app, Timesheet) == 1


async def test_every_post_needs_the_csrf_token(
    app: Any, party: Any, active_hourly: dict[str, Any],  # noqa: F811
):
    cid = active_hourly["id"]
    contractor_posts = [("/timesheets", {"contract_id": cid, "week_ending": str(WEEK),
                                         "action": "submit", **grid()}),
                        (f"/milestones/{cid}/{FOREIGN}/submit", {"note": "x"})]
    client_posts = [(f"/approvals/timesheets/{FOREIGN}/approve", {}),
                    (f"/approvals/timesheets/{FOREIGN}/reject", {"reason": "x"}),
                    ("/approvals/timesheets", {"ids": FOREIGN}),
                    (f"/approvals/milestones/{cid}/{FOREIGN}/approve", {}),
                    (f"/approvals/milestones/{cid}/{FOREIGN}/reject", {"reason": "x"}),
                    ("/escrow/deposits", {"amount": "100", "currency": "USD",
                                          "method": "card",
                                          "idempotency_key": str(uuid.uuid4())}),
                    (f"/payroll/{FOREIGN}/approve", {}),
                    ("/team/invitations", {"email": "x@example.com"})]
    for who, posts in ((party.contractor, contractor_posts), (party.client, client_posts)):
        async with signed_in(app, who.email) as c:
            for url, data in posts:
                missing = await c.post(url, data=data)
                forged = await c.post(url, data={**data, "csrf_token": "a.b"})
                for response in (missing, forged):
                    assert response.status_code == 403, url
                    assert response.json()["code"] == "csrf_failed"
    assert await _count(app, Timesheet) == 0 and await _count(app, Deposit) == 0


async def test_pages_by_role_and_signed_out(app: Any, browser: httpx.AsyncClient, party: Any):
    contractor_pages = ["/contractor", "/timesheets", "/milestones", "/earnings", "/wallet"]
    client_pages = ["/approvals", "/escrow", "/payroll", "/team"]
    for url in [*contractor_pages, *client_pages, "/invoices"]:
        response = await browser.get(url)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/login?next=")
    async with signed_in(app, party.contractor.email) as c:
        for url in [*contractor_pages, "/invoices"]:
            assert (await c.get(url)).status_code == 200, url
        for url in client_pages:
            assert (await c.get(url)).status_code == 404, url
    async with signed_in(app, party.client.email) as c:
        for url in [*client_pages, "/invoices"]:
            assert (await c.get(url)).status_code == 200, url
        for url in contractor_pages:
            assert (await c.get(url)).status_code == 404, url
        nav = (await c.get("/approvals")).text
        assert 'href="/escrow"' in nav and 'href="/timesheets"' not in nav


async def test_milestone_submit_and_client_review(
    app: Any, client: httpx.AsyncClient, party: Any,
):
    contract = await milestone_contract(app, party)
    cid = contract["id"]
    design, build = (m["id"] for m in contract["milestones"])
    async with signed_in(app, party.contractor.email) as c:
        page = await c.get("/milestones")
        assert "Design" in page.text and "$1,200.00" in page.text
        for mid in (design, build):
            done = await post_form(c, "/milestones", f"/milestones/{cid}/{mid}/submit",
                                   {"note": "Ready for review"})
            assert done.status_code == 303
        twice = await post_form(c, "/milestones", f"/milestones/{cid}/{design}/submit", {})
        assert twice.status_code == 409 and "alert error" in twice.text
    async with signed_in(app, party.client.email) as c:
        queue = await c.get("/approvals")
        assert "Ready for review" in queue.text and "Build" in queue.text
        empty = await post_form(c, "/approvals",
                                f"/approvals/milestones/{cid}/{build}/reject", {"reason": " "})
        assert empty.status_code == 422
        rejected = await post_form(c, "/approvals",
                                   f"/approvals/milestones/{cid}/{build}/reject",
                                   {"reason": "Not finished"})
        approved = await post_form(c, "/approvals",
                                   f"/approvals/milestones/{cid}/{design}/approve", {})
        assert rejected.status_code == approved.status_code == 303
        assert "Ready for review" not in (await c.get("/approvals")).text
    await app.state.dispatcher.drain()  # milestone.approved -> the invoice
    async with signed_in(app, party.contractor.email) as c:
        page = await c.get("/milestones")
        assert "Not finished" in page.text and "badge-approved" in page.text
        assert "$1,200.00" in (await c.get("/invoices")).text


async def test_escrow_deposit_goes_to_the_provider_page_once_per_form(
    app: Any, party: Any, pay: Any,  # noqa: F811
):
    await fund(pay, party.client, "250.00")
    async with signed_in(app, party.client.email) as c:
        page = await c.get("/escrow")
        assert page.status_code == 200 and "$250.00" in page.text
        assert "deposit" in page.text.lower()
        key = page.text.split('name="idempotency_key" value="')[1].split('"')[0]
        form = {"csrf_token": csrf_of(page), "amount": "120.50", "currency": "USD",
                "method": "card", "idempotency_key": key}
        first = await c.post("/escrow/deposits", data=form)
        second = await c.post("/escrow/deposits", data=form)  # a double click
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert "/payments/sandbox/" in first.headers["location"]
        assert await _count(app, Deposit) == 2  # the funding one and this one, not three
        # The provider's (sandbox) pay page: paying credits the escrow through the webhook.
        pay_page = await c.get(first.headers["location"])
        assert pay_page.status_code == 200 and "120.50 USD" in pay_page.text
        token = pay_page.text.split("name='token' value='")[1].split("'")[0]
        paid = await c.post(first.headers["location"], data={"token": token,
                                                             "outcome": "succeed"})
        assert paid.status_code in (200, 303)
        assert "$370.50" in (await c.get("/escrow")).text  # 250.00 + 120.50
        bad = await c.post("/escrow/deposits", data={**form, "amount": "-3",
                                                     "idempotency_key": str(uuid.uuid4())})
        assert bad.status_code == 422 and "alert error" in bad.text
        bank = await c.post("/escrow/deposits", data={
            **form, "method": "bank_transfer", "idempotency_key": str(uuid.uuid4())})
        assert bank.status_code in (200, 303)
    assert await _count(app, Deposit) >= 3


async def test_payroll_wallet_earnings_and_home_after_a_paid_week(
    app: Any, party: Any, pay: Any, active_hourly: dict[str, Any],  # noqa: F811
):
    await fund(pay, party.client, "3000.00")
    async with signed_in(app, party.contractor.email) as c:
        await post_form(c, "/timesheets", "/timesheets", {
            "contract_id": active_hourly["id"], "week_ending": str(WEEK), "action": "submit",
            **grid()})
    async with signed_in(app, party.client.email) as c:
        sheet = await _sheet(app)
        assert (await post_form(c, "/approvals", f"/approvals/timesheets/{sheet.id}/approve",
                                {})).status_code == 303
    assert await issue(app, date(2025, 1, 1)) == 1
    assert (await run_payroll(app, date(2025, 1, 15)))["paid"] == 1
    async with signed_in(app, party.client.email) as c:
        runs = await c.get("/payroll")
        assert "2025-01" in runs.text and "$1,875.00" in runs.text
        run_id = runs.text.split('href="/payroll/')[1].split('"')[0]
        detail = await c.get(f"/payroll/{run_id}")
        assert detail.status_code == 200 and "badge-paid" in detail.text
        completed = await post_form(c, f"/payroll/{run_id}", f"/payroll/{run_id}/approve", {})
        assert completed.status_code == 409  # a completed run cannot be approved
        escrow = await c.get("/escrow")
        assert "$1,125.00" in escrow.text  # 3000 - 1875 paid out
    async with signed_in(app, party.contractor.email) as c:
        wallet = await c.get("/wallet")
        assert "$1,875.00" in wallet.text and "Acme Widgets Ltd" in wallet.text
        earnings = await c.get("/earnings")
        assert earnings.text.count("<svg") == 2 and "<title id=" in earnings.text
        assert "<desc id=" in earnings.text and "<caption>" in earnings.text
        assert "$1,875.00" in earnings.text
        home = await c.get("/contractor")
        for widget in ("Profile status", "Earnings summary", "Contracts", "Wallet balance",
                       "Active contracts", "Recent activity", "Onboarding checklist"):
            assert widget in home.text
        assert home.text.count("$1,875.00") >= 2  # earned and in the wallet


async def test_team_page_lists_invitations_with_their_state(
    app: Any, verified_client: Any, invite: Any,
):
    account, _company = verified_client
    await invite(account, "one@example.com", name="One")
    await invite(account, "two@example.com", name="Two")
    async with signed_in(app, account.email) as c:
        page = await c.get("/team")
        assert page.status_code == 200
        assert "one@example.com" in page.text and "two@example.com" in page.text
        assert page.text.count("badge-pending") == 2
        sent = await post_form(c, "/team", "/team/invitations",
                               {"email": "three@example.com", "name": "Three"})
        assert sent.status_code == 303
        again = await post_form(c, "/team", "/team/invitations", {"email": "three@example.com"})
        assert again.status_code == 409 and "alert error" in again.text
        bad = await post_form(c, "/team", "/team/invitations", {"email": "not-an-email"})
        assert bad.status_code == 422 and 'value="not-an-email"' in bad.text
        page = await c.get("/team")
        assert page.text.count("badge-pending") == 3


async def test_client_without_company_sees_why(app: Any, client: httpx.AsyncClient):
    from tests.factories import register

    account = await register(client, "client", name="New Client")
    async with signed_in(app, account["user"]["email"]) as c:
        for url in ("/escrow", "/payroll", "/team"):
            response = await c.get(url)
            assert response.status_code == 404 and "Register your company" in response.text
        assert (await c.get("/approvals")).status_code == 200
