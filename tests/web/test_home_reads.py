"""What the contractor home reads (found by `bench/web_bench.py`): the checklist's bank
account and tax form once (the contracts widget reads names only, not every contractor's
onboarding again), and no by-month / by-contract earnings series (the home draws no chart);
the API's contract lists still carry the contractor's name and the earnings API its series."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.payments.conftest import pay  # noqa: F401 - fixture
from tests.payments.payroll_helpers import deliver, fund
from tests.timesheets.conftest import active_hourly  # noqa: F401 - fixture
from tests.web.money import WEEK, counting, grid, post_form, signed_in

pytestmark = pytest.mark.usefixtures("db_backend")


async def test_contractor_home_reads_onboarding_once_and_no_chart_series(
    app: Any, party: Any, active_hourly: dict[str, Any], pay: Any,  # noqa: F811
):
    await fund(pay, party.client, "500.00")
    async with signed_in(app, party.contractor.email) as c:
        await post_form(c, "/timesheets", "/timesheets", {
            "contract_id": active_hourly["id"], "week_ending": str(WEEK), "action": "submit",
            **grid()})
        await deliver(app)
        await c.get("/contractor")  # the first read opens the wallet account (an INSERT)
        with counting(app) as seen:
            page = await c.get("/contractor")
    assert page.status_code == 200, page.text
    assert active_hourly["title"] in page.text and "Acme Widgets Ltd" in page.text
    sql = [s.lower() for s in seen.sql]
    assert sum("from contractor_bank_details" in s for s in sql) == 1, sql
    assert sum("from contractor_tax_info" in s for s in sql) == 1, sql
    assert not any("payment_payroll_items" in s for s in sql), sql  # by-contract series
    # (The by-month aggregate stays: the totals, this month and last month are read off it.)


async def test_contract_lists_still_name_the_contractor(
    client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any],  # noqa: F811
):
    for url, who in (("/api/contracts/client/me", party.client),
                     ("/api/contracts/contractor/me", party.contractor)):
        response = await client.get(url, headers=who.headers)
        assert response.status_code == 200, response.text
        rows = response.json()["data"]
        assert rows and all(r["contractorName"] == "Ada Lovelace" for r in rows), rows


async def test_the_home_shows_only_the_contractors_own_rows(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any],  # noqa: F811
    make_party: Any, pay: Any,  # noqa: F811
):
    """The home's one statement is keyed on the signed-in contractor: another contractor (with
    no contract, money or notification of their own) sees none of the first one's."""
    await fund(pay, party.client, "500.00")
    async with signed_in(app, party.contractor.email) as c:
        await post_form(c, "/timesheets", "/timesheets", {
            "contract_id": active_hourly["id"], "week_ending": str(WEEK), "action": "submit",
            **grid()})
        await deliver(app)
        mine = await c.get("/contractor")
    assert active_hourly["title"] in mine.text and "Acme Widgets Ltd" in mine.text
    stranger = await make_party(legal_name="Other Co", contractor_name="Eve")
    async with signed_in(app, stranger.contractor.email) as other:
        theirs = await other.get("/contractor")
    assert theirs.status_code == 200, theirs.text
    assert "Welcome back, Eve" in theirs.text
    assert active_hourly["title"] not in theirs.text and "Acme Widgets Ltd" not in theirs.text
    assert "No contracts yet." in theirs.text and "(0 unread)" in theirs.text
    assert "Nothing yet." in theirs.text


async def test_the_home_checklist_is_the_onboarding_apis(
    client: httpx.AsyncClient, app: Any, party: Any,
):
    """Each checklist badge on the home is the status `GET /api/contractors/me/onboarding`
    gives (the page derives it from its own row through the same rules)."""
    api = (await client.get("/api/contractors/me/onboarding",
                            headers=party.contractor.headers)).json()
    async with signed_in(app, party.contractor.email) as c:
        page = (await c.get("/contractor")).text
    checklist = page[page.index('<ol class="checklist">'):]
    shown = re.findall(r'<li class="step-([a-z-]+)">', checklist)
    assert shown == [s["status"].replace("_", "-") for s in api["steps"]], (shown, api)
    assert len(set(shown)) > 1, shown  # not one status for every step: the rows matter
