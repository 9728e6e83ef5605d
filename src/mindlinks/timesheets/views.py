"""Read models of timesheets: the seed's shapes, with the parties' display names taken from the
owning domains' services (clients, contractors). Nothing here changes state."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.platform.money import from_minor
from mindlinks.timesheets import entries as rules
from mindlinks.timesheets.models import Timesheet
from mindlinks.timesheets.schemas import Entry
from mindlinks.timesheets.schemas import Timesheet as TimesheetOut


def timesheet_out(row: Timesheet, client_name: str | None, contractor_name: str | None
                  ) -> TimesheetOut:
    return TimesheetOut(
        id=row.id, contract_id=row.contract_id, contractor_id=row.contractor_id,
        contractor_name=contractor_name, client_id=row.client_id, client_name=client_name,
        week_ending=row.week_ending, hours_worked=rules.hours_of(row.total_hundredths),
        hourly_rate=from_minor(row.hourly_rate_minor, row.currency),
        total_amount=from_minor(row.amount_minor, row.currency), currency=row.currency,
        status=row.status, amends_id=row.amends_id, notes=row.notes,
        entries=[Entry(date=e["date"], hours=rules.hours_of(e["hundredths"]),
                       description=e["description"]) for e in row.entries],
        submitted_at=row.submitted_at, due_at=row.due_at, on_time=row.on_time,
        approved_at=row.approved_at, approved_by=row.approved_by, rejected_at=row.rejected_at,
        rejection_reason=row.rejection_reason, paid_at=row.paid_at, created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def many_out(session: AsyncSession, rows: Sequence[Timesheet]) -> list[TimesheetOut]:
    found = await clients.get_companies(session, [r.client_id for r in rows])  # one query
    companies: dict[uuid.UUID, str | None] = {cid: c.legal_name for cid, c in found.items()}
    summaries = await contractors.contractor_summaries(
        session, list({r.contractor_id for r in rows}))
    names = {s.id: s.name for s in summaries}
    return [timesheet_out(r, companies.get(r.client_id), names.get(r.contractor_id))
            for r in rows]


async def one_out(session: AsyncSession, row: Timesheet) -> TimesheetOut:
    return (await many_out(session, [row]))[0]
