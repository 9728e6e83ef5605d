"""Hourly contracts: one invoice per schedule period with a line per approved timesheet whose
week ends in it (amendments on their own lines, the seed's 37.5 h x 50.00 = 1875.00); no
invoice for a period without approved work - until work in it is approved; paying the
invoice pays its timesheets."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from mindlinks.invoices import service
from tests.invoices.conftest import CLIENT, CONTRACTOR, issue_due
from tests.timesheets.conftest import active_hourly, sheets  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("db_backend")


async def test_hourly_invoice_per_period_with_a_line_per_timesheet(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any],  # noqa: F811
    sheets: Any,  # noqa: F811
):
    cid = active_hourly["id"]  # 50.00 USD an hour, monthly from 2024-11-01
    dec7 = await sheets.submitted(party.contractor, cid)  # the seed's 37.5 h
    assert (await sheets.act(party.client, dec7["id"], "approve")).status_code == 200
    amendment = await sheets.submitted(party.contractor, cid, amendsId=dec7["id"], entries=[
        {"date": "2024-12-06", "hours": 0.5, "description": "late fix"}])
    assert (await sheets.act(party.client, amendment["id"], "approve")).status_code == 200
    pending = await sheets.submitted(party.contractor, cid, week="2024-12-14", entries=[
        {"date": "2024-12-09", "hours": 3, "description": "not approved"}])
    assert pending["status"] == "pending"

    # Periods 11-01..12-01 (no approved work: no invoice) and 12-02..01-01.
    assert await issue_due(app, date(2025, 1, 1)) == 1
    assert await issue_due(app, date(2025, 1, 1)) == 0
    [row] = (await client.get(CONTRACTOR, headers=party.contractor.headers)).json()["data"]
    assert row["amount"] == 1900.0 and row["issueDate"] == "2025-01-01"
    assert row["invoiceNumber"] == "INV-2025-001"
    detail = (await client.get(f"{CLIENT}/{row['id']}", headers=party.client.headers)).json()
    assert detail["periodStart"] == "2024-12-02" and detail["periodEnd"] == "2025-01-01"
    assert [(li["timesheetId"], li["quantity"], li["unitPrice"], li["amount"],
             li["description"]) for li in detail["lineItems"]] == [
        (dec7["id"], 37.5, 50.0, 1875.0, "Week ending 2024-12-07"),
        (amendment["id"], 0.5, 50.0, 25.0, "Amendment, week ending 2024-12-07"),
    ]
    assert all(li["scheduleId"] for li in detail["lineItems"])

    # Work in the first period approved late: the next run invoices that period, dated on
    # its due date.
    nov30 = await sheets.submitted(party.contractor, cid, week="2024-11-30", entries=[
        {"date": "2024-11-25", "hours": 1, "description": ""}])
    assert (await sheets.act(party.client, nov30["id"], "approve")).status_code == 200
    assert await issue_due(app, date(2025, 1, 2)) == 1
    rows = (await client.get(CONTRACTOR, headers=party.contractor.headers)).json()["data"]
    assert sorted((r["invoiceNumber"], r["issueDate"], r["amount"]) for r in rows) == [
        ("INV-2024-001", "2024-12-01", 50.0), ("INV-2025-001", "2025-01-01", 1900.0)]

    # The pending week approved after its period was invoiced: a supplementary invoice for
    # that period bills it (and only it), once.
    assert (await sheets.act(party.client, pending["id"], "approve")).status_code == 200
    assert await issue_due(app, date(2025, 1, 3)) == 1
    assert await issue_due(app, date(2025, 1, 3)) == 0
    rows = (await client.get(CONTRACTOR, headers=party.contractor.headers)).json()["data"]
    extra = next(r for r in rows if r["invoiceNumber"] == "INV-2025-002")
    lines = (await client.get(f"{CONTRACTOR}/{extra['id']}",
                              headers=party.contractor.headers)).json()["lineItems"]
    assert [(li["timesheetId"], li["amount"]) for li in lines] == [(pending["id"], 150.0)]

    async with app.state.db.session() as session:
        await service.mark_paid(session, uuid.UUID(row["id"]), datetime(2025, 1, 20, tzinfo=UTC))
    for sheet in (dec7, amendment):
        assert (await sheets.get(party.contractor, sheet["id"])).json()["status"] == "paid"
    assert (await sheets.get(party.contractor, nov30["id"])).json()["status"] == "approved"
