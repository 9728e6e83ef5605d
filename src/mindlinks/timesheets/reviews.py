"""The client's review of submitted timesheets: approve, reject with a reason, or both in bulk.

Only the user of the contract's client company reviews (a contractor, an admin or another
company is refused: another company's timesheet is 404). The row is locked and reloaded first,
so of concurrent approvals of one timesheet exactly one finds it `pending`; the rest are 409
`invalid_transition`. Each approval emits `timesheet.approved` (with `onTime`) and is recorded
in the journal (`timesheet_approval`: ids, hours, amount in minor units and the SHA-256 of the
entries — never a name or a description). A rejection emits `timesheet.rejected` with the
reason for the contractor.

`review_many` applies a list of decisions in one transaction: every decision applies, or (on
the first failure) none does.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.ledger import service as ledger
from mindlinks.platform import audit
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import DomainError, ValidationFailed
from mindlinks.platform.events import emit
from mindlinks.platform.money import from_minor
from mindlinks.platform.security import Actor, Role
from mindlinks.timesheets import entries as rules
from mindlinks.timesheets import repository as repo
from mindlinks.timesheets.models import Timesheet
from mindlinks.timesheets.schemas import ReviewRequest
from mindlinks.timesheets.service import TimesheetNotFound, next_status, require_role

ENTRY_TYPE = "timesheet_approval"


class ReasonRequired(ValidationFailed):
    code, title = "reason_required", "A reason is required"


class DuplicateReviewItem(ValidationFailed):
    code, title = "duplicate_review_item", "The same timesheet appears twice"


def on_time(row: Timesheet) -> bool:
    """Submitted (first time) before the end of its due day; an amendment is a late correction
    by nature and never counts as on time."""
    submitted = row.first_submitted_at or row.submitted_at
    return row.amends_id is None and submitted is not None and submitted < row.due_at


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def _approve(session: AsyncSession, actor: Actor, row: Timesheet) -> None:
    row.status = next_status(row, "approve")
    row.approved_at, row.approved_by = utcnow(), actor.user_id
    row.on_time = on_time(row)
    await session.flush()
    hours = rules.hours_of(row.total_hundredths)
    await audit.record(session, actor, "timesheet.approved", "timesheet", row.id,
                       {"contractId": str(row.contract_id), "amountMinor": row.amount_minor})
    await emit(session, "timesheet.approved", {
        "timesheetId": row.id, "contractId": row.contract_id, "contractorId": row.contractor_id,
        "userId": row.contractor_user_id, "clientId": row.client_id,
        "clientUserId": row.client_user_id, "approvedBy": actor.user_id,
        "weekEnding": row.week_ending.isoformat(),
        "periodStart": rules.week_start(row.week_ending).isoformat(),
        "periodEnd": row.week_ending.isoformat(), "hours": str(hours),
        "amount": str(from_minor(row.amount_minor, row.currency)),
        "amountMinor": row.amount_minor, "currency": row.currency,
        "onTime": row.on_time, "submittedAt": _iso(row.first_submitted_at),
        "dueAt": _iso(row.due_at), "amendsId": row.amends_id,
    })
    # Last: appending takes the journal's chain lock until commit.
    await ledger.append(session, entry_type=ENTRY_TYPE, entity_type="timesheet",
                        entity_id=row.id, payload={
        "timesheetId": str(row.id), "contractId": str(row.contract_id),
        "contractorId": str(row.contractor_id), "clientId": str(row.client_id),
        "approvedBy": str(actor.user_id), "amendsId": str(row.amends_id) if row.amends_id
        else None, "weekEnding": row.week_ending.isoformat(),
        # hundredths of an hour x 0.6 = minutes; one decimal at most, kept exact as a string.
        "minutes": format((hours * 60).normalize(), "f"), "hoursHundredths": row.total_hundredths,
        "hourlyRateMinor": row.hourly_rate_minor, "amountMinor": row.amount_minor,
        "currency": row.currency, "entriesHash": rules.entries_hash(row.entries),
        "onTime": row.on_time, "approvedAt": _iso(row.approved_at),
    })


def _reason(reason: str | None, field: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired("Say why the timesheet is rejected", errors=[
            {"field": field, "message": "required", "code": ReasonRequired.code}])
    return text


async def _reject(session: AsyncSession, actor: Actor, row: Timesheet, reason: str) -> None:
    row.status = next_status(row, "reject")
    row.rejected_at, row.rejected_by, row.rejection_reason = utcnow(), actor.user_id, reason
    await session.flush()
    await audit.record(session, actor, "timesheet.rejected", "timesheet", row.id,
                       {"contractId": str(row.contract_id)})
    await emit(session, "timesheet.rejected", {
        "timesheetId": row.id, "contractId": row.contract_id, "contractorId": row.contractor_id,
        "userId": row.contractor_user_id, "clientId": row.client_id,
        "weekEnding": row.week_ending.isoformat(),
        "periodStart": rules.week_start(row.week_ending).isoformat(),
        "periodEnd": row.week_ending.isoformat(), "reason": reason,
    })


async def _reviewable(session: AsyncSession, actor: Actor, timesheet_id: uuid.UUID) -> Timesheet:
    require_role(actor, Role.CLIENT)
    row = await repo.get_writable(session, actor, timesheet_id)
    if row is None:
        raise TimesheetNotFound("No such timesheet")
    return row


async def approve(session: AsyncSession, actor: Actor, timesheet_id: uuid.UUID) -> Timesheet:
    """`pending -> approved` by the contract's client; emits `timesheet.approved` and records
    the approval in the journal."""
    row = await _reviewable(session, actor, timesheet_id)
    await _approve(session, actor, row)
    return row


async def reject(
    session: AsyncSession, actor: Actor, timesheet_id: uuid.UUID, reason: str
) -> Timesheet:
    """`pending -> rejected` with a (non-blank) reason; emits `timesheet.rejected`."""
    text = _reason(reason, "reason")
    row = await _reviewable(session, actor, timesheet_id)
    await _reject(session, actor, row, text)
    return row


async def review_many(session: AsyncSession, actor: Actor, data: ReviewRequest) -> list[Timesheet]:
    """Apply every decision or none: input problems are found before anything changes, and any
    later failure (an unknown id: 404, a timesheet no longer pending: 409) aborts the request's
    transaction, naming the item in `errors`."""
    require_role(actor, Role.CLIENT)
    ids = [item.id for item in data.items]
    if len(set(ids)) != len(ids):
        raise DuplicateReviewItem("Each timesheet may appear once", errors=[
            {"field": f"items[{i}].id", "message": "duplicate", "code": DuplicateReviewItem.code}
            for i, x in enumerate(ids) if ids.index(x) != i])
    reasons = {i: _reason(item.reason, f"items[{i}].reason")
               for i, item in enumerate(data.items) if item.decision == "reject"}
    rows = {r.id: r for r in await repo.lock_many(session, ids, actor)}
    out = []
    for i, item in enumerate(data.items):
        try:
            row = rows.get(item.id)
            if row is None:
                raise TimesheetNotFound("No such timesheet")
            if item.decision == "approve":
                await _approve(session, actor, row)
            else:
                await _reject(session, actor, row, reasons[i])
        except DomainError as exc:
            exc.errors = [{"field": f"items[{i}].id", "message": exc.detail, "code": exc.code}]
            raise
        out.append(row)
    return out
