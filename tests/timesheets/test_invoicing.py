"""What the invoices domain calls: `approved_for_invoicing` (approved, unpaid lines of a period,
amendments as their own lines, by week) and `mark_paid` (approved -> paid, idempotent, all or
nothing)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from mindlinks.platform.errors import InvalidTransition, NotFound
from mindlinks.timesheets import service
from mindlinks.timesheets.schemas import TimesheetLine

pytestmark = pytest.mark.usefixtures("db_backend")


async def test_lines_of_a_period_and_paying_them(
    app: Any, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    cid = active_hourly["id"]
    dec7 = await sheets.submitted(party.contractor, cid)
    await sheets.act(party.client, dec7["id"], "approve")
    amendment = await sheets.submitted(party.contractor, cid, amendsId=dec7["id"], entries=[
        {"date": "2024-12-06", "hours": 0.5, "description": "late fix"}])
    await sheets.act(party.client, amendment["id"], "approve")
    pending = await sheets.submitted(party.contractor, cid, week="2024-12-14", entries=[
        {"date": "2024-12-09", "hours": 3, "description": ""}])
    dec21 = await sheets.submitted(party.contractor, cid, week="2024-12-21", entries=[
        {"date": "2024-12-16", "hours": 3.33, "description": ""}])
    await sheets.act(party.client, dec21["id"], "approve")
    nov30 = await sheets.submitted(party.contractor, cid, week="2024-11-30", entries=[
        {"date": "2024-11-25", "hours": 1, "description": ""}])
    await sheets.act(party.client, nov30["id"], "approve")

    async with app.state.db.session() as session:
        lines = await service.approved_for_invoicing(session, uuid.UUID(cid), date(2024, 12, 1),
                                                     date(2024, 12, 31))
    assert [str(line.timesheet_id) for line in lines] == [dec7["id"], amendment["id"],
                                                          dec21["id"]]
    assert lines[0] == TimesheetLine(
        timesheet_id=uuid.UUID(dec7["id"]), contract_id=uuid.UUID(cid),
        week_ending=date(2024, 12, 7), hours=Decimal("37.50"), hourly_rate_minor=5000,
        amount_minor=187500, currency="USD", amends_id=None)
    assert lines[1].amends_id == uuid.UUID(dec7["id"]) and lines[1].amount_minor == 2500
    assert lines[2].amount_minor == 16650  # 3.33 h x 50.00
    assert pending["id"] not in {str(line.timesheet_id) for line in lines}

    ids = [line.timesheet_id for line in lines]
    async with app.state.db.session() as session:
        await service.mark_paid(session, ids)
    async with app.state.db.session() as session:
        await service.mark_paid(session, ids)  # idempotent
        assert await service.approved_for_invoicing(session, uuid.UUID(cid), date(2024, 12, 1),
                                                    date(2024, 12, 31)) == []
    paid = (await sheets.get(party.contractor, dec7["id"])).json()
    assert paid["status"] == "paid" and paid["paidAt"] is not None
    locked = await sheets.act(party.client, dec7["id"], "reject", {"reason": "too late"})
    assert locked.status_code == 409 and locked.json()["code"] == "invalid_transition"

    # a pending timesheet cannot be paid, and nothing of the batch is paid then
    with pytest.raises(InvalidTransition):
        async with app.state.db.session() as session:
            await service.mark_paid(session, [uuid.UUID(nov30["id"]), uuid.UUID(pending["id"])])
    with pytest.raises(NotFound):
        async with app.state.db.session() as session:
            await service.mark_paid(session, [uuid.UUID(nov30["id"]), uuid.uuid4()])
    assert (await sheets.get(party.contractor, nov30["id"])).json()["status"] == "approved"
