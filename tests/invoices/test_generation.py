"""Invoices are generated, never typed: one per fixed schedule period on its due date, one per
approved milestone on approval; a second run or a replayed event makes nothing twice."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.invoices import generation
from mindlinks.invoices.models import Invoice, InvoiceLine
from mindlinks.ledger.models import LedgerEntry
from mindlinks.platform.events import OutboxEvent
from tests.builders import active_contract
from tests.invoices.conftest import CLIENT, CONTRACTOR, SEED_KEYS, issue_due

pytestmark = pytest.mark.usefixtures("db_backend")


async def _count(app: Any, model: Any, *where: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where))
                   or 0)


async def test_fixed_contract_one_invoice_per_due_period_in_the_seed_shape(
    app: Any, client: httpx.AsyncClient, party: Any, active_fixed: Any
):
    contract = await active_fixed(party)
    assert await issue_due(app, date(2026, 3, 15)) == 2
    assert await issue_due(app, date(2026, 3, 15)) == 0  # a second run issues nothing

    listed = await client.get(CONTRACTOR, headers=party.contractor.headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["meta"] == {"total": 2, "page": 1, "limit": 20, "totalPages": 1}
    rows = sorted(body["data"], key=lambda r: r["invoiceNumber"])
    assert all(set(r) == SEED_KEYS for r in rows)
    first = rows[0]
    assert first["invoiceNumber"] == "INV-2026-001" and rows[1]["invoiceNumber"] == "INV-2026-002"
    assert first["contractId"] == contract["id"]
    assert first["clientName"] == "Acme Widgets Ltd"
    assert first["amount"] == 5000.00 and first["currency"] == "USD"
    assert first["issueDate"] == "2026-02-01" and first["dueDate"] == "2026-02-15"
    assert first["paidDate"] is None and first["pdfUrl"].startswith("http")
    # The client sees the same invoices, addressed to its company.
    seen = await client.get(CLIENT, headers=party.client.headers)
    assert {r["id"] for r in seen.json()["data"]} == {r["id"] for r in rows}

    detail = (await client.get(f"{CONTRACTOR}/{first['id']}",
                               headers=party.contractor.headers)).json()
    assert detail["lineItems"] == [{
        "description": "Web Development Project: 2026-01-01 to 2026-02-01", "quantity": 1.0,
        "unitPrice": 5000.0, "amount": 5000.0, "scheduleId": detail["lineItems"][0]["scheduleId"],
        "milestoneId": None, "timesheetId": None}]
    assert detail["lineItems"][0]["scheduleId"] is not None
    assert await _count(app, OutboxEvent, OutboxEvent.name == "invoice.issued") == 2
    assert await _count(app, LedgerEntry, LedgerEntry.entry_type == "invoice_issue") == 2


async def test_net_terms_are_the_client_companys_setting(
    app: Any, client: httpx.AsyncClient, party: Any, active_fixed: Any
):
    bad = await client.put("/api/clients/me", json={"invoiceNetTermsDays": "30"},
                           headers=party.client.headers)
    assert bad.status_code == 422  # strict: a string is not a number of days
    response = await client.put("/api/clients/me", json={"invoiceNetTermsDays": 30},
                                headers=party.client.headers)
    assert response.status_code == 200, response.text
    assert response.json()["invoiceNetTermsDays"] == 30
    await active_fixed(party)
    await issue_due(app, date(2026, 2, 1))
    rows = (await client.get(CONTRACTOR, headers=party.contractor.headers)).json()["data"]
    assert [(r["issueDate"], r["dueDate"]) for r in rows] == [("2026-02-01", "2026-03-03")]


async def test_a_period_not_yet_due_is_not_invoiced(
    app: Any, client: httpx.AsyncClient, party: Any, active_fixed: Any
):
    await active_fixed(party)
    assert await issue_due(app, date(2026, 1, 31)) == 0
    assert await issue_due(app, date(2026, 2, 1)) == 1


async def test_approved_milestone_is_invoiced_once_on_approval(
    app: Any, client: httpx.AsyncClient, party: Any
):
    contract = await active_contract(app, party, type="milestone", rate=3000, milestones=[
        {"title": "Design", "amount": 1200.5}, {"title": "Build", "amount": 1799.5}])
    cid = contract["id"]
    mid = contract["milestones"][0]["id"]
    base = f"/api/contracts/{cid}/milestones/{mid}"
    assert (await client.post(f"{base}/submit", json={"note": "done"},
                              headers=party.contractor.headers)).status_code == 200
    assert (await client.post(f"{base}/approve", headers=party.client.headers)).status_code == 200
    await app.state.dispatcher.drain()

    rows = (await client.get(CONTRACTOR, headers=party.contractor.headers)).json()["data"]
    assert len(rows) == 1 and rows[0]["amount"] == 1200.5
    assert rows[0]["invoiceNumber"].endswith("-001")
    detail = (await client.get(f"{CLIENT}/{rows[0]['id']}", headers=party.client.headers)).json()
    assert detail["lineItems"][0]["milestoneId"] == mid
    assert detail["lineItems"][0]["description"] == "Milestone: Design"

    # The event delivered again (at-least-once) makes no second invoice.
    async with app.state.db.session() as session:
        assert await generation.issue_for_milestone(session, uuid.UUID(mid)) is None
    assert await _count(app, Invoice) == 1
    assert await _count(app, InvoiceLine) == 1
    # The other milestone, not approved, has no invoice.
    other = uuid.UUID(contract["milestones"][1]["id"])
    async with app.state.db.session() as session:
        assert await generation.issue_for_milestone(session, other) is None


async def test_the_client_is_notified_of_each_issued_invoice(
    app: Any, client: httpx.AsyncClient, party: Any, active_fixed: Any
):
    await active_fixed(party)
    assert await issue_due(app, date(2026, 3, 15)) == 2
    await app.state.dispatcher.drain()
    inbox = await client.get("/api/notifications/me", headers=party.client.headers)
    assert inbox.status_code == 200, inbox.text
    issued = [n for n in inbox.json()["data"] if n["type"] == "invoice_issued"]
    assert sorted(n["title"] for n in issued) == ["New Invoice", "New Invoice"]
    assert any("INV-2026-001" in n["message"] for n in issued)
    # Addressed to the client only: the contractor's inbox has none.
    theirs = await client.get("/api/notifications/me", headers=party.contractor.headers)
    assert not [n for n in theirs.json()["data"] if n["type"] == "invoice_issued"]
