"""SQL statements per page: each money dashboard stays under a fixed number (counted on the
app's engine with SQLAlchemy's `before_cursor_execute` event), and the contractor home's count
does not grow with the number of contracts (each from another client company) or
notifications: its lists are one bounded query each, names read for the whole list."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.notifications.models import Notification
from tests.builders import active_contract
from tests.contracts.conftest import Party
from tests.factories import Account, register
from tests.payments.conftest import pay  # noqa: F401 - fixture
from tests.payments.payroll_helpers import deliver, fund
from tests.timesheets.conftest import active_hourly  # noqa: F401 - fixture
from tests.web.money import WEEK, count_statements, grid, post_form, signed_in

__all__ = ["count_statements"]
pytestmark = pytest.mark.usefixtures("db_backend")

# Measured on SQLite and PostgreSQL (the same statements on both), with a margin of a few for
# a service adding a lookup; a page crossing its line has grown an N+1 or a new round trip.
LIMITS = {
    "/contractor": 1, "/timesheets": 18, "/milestones": 4, "/invoices": 5, "/earnings": 11,
    "/wallet": 17, "/approvals": 10, "/escrow": 7, "/payroll": 6, "/team": 12,
}


async def _notifications(app: Any, user_id: str) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == uuid.UUID(user_id))) or 0)


async def _another_client_contract(app: Any, make_party: Any, party: Party, n: int) -> None:
    """An active hourly contract of `party`'s contractor with another company."""
    other = await make_party(legal_name=f"Client {n} Ltd", contractor_name=f"Nobody {n}")
    async with app.state.db.session() as session:
        company = await clients.get_company(session, uuid.UUID(other.company_id))
        assert company is not None
        await clients.link_contractor(session, company,
                                      contractor_id=uuid.UUID(party.contractor_id),
                                      contractor_user_id=uuid.UUID(party.contractor.user_id),
                                      invitation_id=None)
    pair = Party(other.client, other.company_id, party.contractor, party.contractor_id)
    await active_contract(app, pair, type="hourly", rate=40, currency="USD",
                          startDate="2024-11-01", endDate=None, frequency="monthly",
                          title=f"Contract {n}")


async def test_contractor_home_is_one_round_whatever_the_rows(
    app: Any, party: Any, active_hourly: dict[str, Any],  # noqa: F811
    make_party: Any, count_statements: Any,
):
    await deliver(app)
    async with signed_in(app, party.contractor.email) as c:
        await c.get("/contractor")  # the first read opens the wallet account (an INSERT)
        few = await count_statements(c, "/contractor")
        notes_before = await _notifications(app, party.contractor.user_id)
        for n in range(4):
            await _another_client_contract(app, make_party, party, n)
        await deliver(app)
        assert await _notifications(app, party.contractor.user_id) >= notes_before + 4
        page = await c.get("/contractor")
        assert all(f"Client {n} Ltd" in page.text for n in range(4))
        many = await count_statements(c, "/contractor")
    assert many == few, (few, many)
    assert many <= LIMITS["/contractor"], many


async def _another_contractor_week(app: Any, client: httpx.AsyncClient, party: Party,
                                   n: int) -> None:
    """A new contractor of `party`'s company with an active hourly contract and a submitted
    week (the approval queue's rows come from several contractors)."""
    worker = Account(await register(client, "contractor", name=f"Worker {n}"))
    async with app.state.db.session() as session:
        profile = await contractors.profile_by_user(session, uuid.UUID(worker.user_id))
        company = await clients.get_company(session, uuid.UUID(party.company_id))
        assert profile is not None and company is not None
        await clients.link_contractor(session, company, contractor_id=profile.id,
                                      contractor_user_id=profile.user_id, invitation_id=None)
        await contractors.set_kyc_status(session, profile.id, "verified")
        contractor_id = str(profile.id)
    pair = Party(party.client, party.company_id, worker, contractor_id)
    contract = await active_contract(app, pair, type="hourly", rate=40, currency="USD",
                                     startDate="2024-11-01", endDate=None, frequency="monthly")
    response = await client.post("/api/timesheets", headers=worker.headers, json={
        "contractId": contract["id"], "weekEnding": str(WEEK), "entries": [
            {"date": "2024-12-02", "hours": 8, "description": "work"}]})
    assert response.status_code == 201, response.text


async def test_approval_queue_and_team_do_not_grow_with_contractors(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any],  # noqa: F811
    count_statements: Any,
):
    await _another_contractor_week(app, client, party, 0)
    async with signed_in(app, party.client.email) as c:
        few = {url: await count_statements(c, url) for url in ("/approvals", "/team")}
        for n in range(1, 4):
            await _another_contractor_week(app, client, party, n)
        page = await c.get("/approvals")
        assert all(f"Worker {n}" in page.text for n in range(4))
        many = {url: await count_statements(c, url) for url in ("/approvals", "/team")}
    assert many == few, (few, many)


async def test_every_money_page_stays_under_its_statement_limit(
    app: Any, party: Any, active_hourly: dict[str, Any], pay: Any,  # noqa: F811
    count_statements: Any,
):
    await fund(pay, party.client, "500.00")
    counts: dict[str, int] = {}
    async with signed_in(app, party.contractor.email) as c:
        await post_form(c, "/timesheets", "/timesheets", {
            "contract_id": active_hourly["id"], "week_ending": str(WEEK), "action": "submit",
            **grid()})
        await c.get("/contractor")  # the first read opens the wallet account (an INSERT)
        for url in ("/contractor", "/timesheets", "/milestones", "/invoices", "/earnings",
                    "/wallet"):
            counts[url] = await count_statements(c, url)
    async with signed_in(app, party.client.email) as c:
        for url in ("/approvals", "/escrow", "/payroll", "/team"):
            counts[url] = await count_statements(c, url)
    over = {url: (n, LIMITS[url]) for url, n in counts.items() if n > LIMITS[url]}
    assert not over, f"pages over their statement limit: {over} (all: {counts})"
