"""The timesheets domain's public API: the contractor's side and what invoices read.

States: `draft | pending | approved | rejected | paid`. `TRANSITIONS` is the only place a status
changes; anything else is 409 `invalid_transition` and changes nothing.

- POST submits (`pending`); `"status": "draft"` saves a draft; `submit` sends a draft.
- The contractor edits while `draft`, `pending` (the seed's rule) or `rejected` (an edit
  resubmits it: `pending`).
- `approved` and `paid` are locked forever. A correction is a new *amendment* timesheet for the
  same week (`amendsId`), approved and invoiced on its own.
- The client's review (approve, reject, bulk) is in `reviews.py`; the read shapes in `views.py`.

Other domains import this module and `schemas`: `approved_for_invoicing`, `mark_paid`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import service as contractors
from mindlinks.contracts import service as contracts
from mindlinks.contracts.schemas import WorkTerms
from mindlinks.platform import audit
from mindlinks.platform.db import new_id, utcnow
from mindlinks.platform.errors import (
    Conflict,
    ForbiddenRole,
    NotFound,
    ValidationFailed,
)
from mindlinks.platform.events import emit
from mindlinks.platform.money import from_minor
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.states import StateMachine
from mindlinks.timesheets import entries as rules
from mindlinks.timesheets import repository as repo
from mindlinks.timesheets import views
from mindlinks.timesheets.models import Timesheet, TimesheetStatus
from mindlinks.timesheets.schemas import (
    EntryIn,
    TimesheetCreate,
    TimesheetLine,
    TimesheetUpdate,
)

T = TimesheetStatus

# action -> {from status: to status}
TRANSITIONS: dict[str, dict[str, str]] = {
    "edit": {T.DRAFT: T.DRAFT, T.PENDING: T.PENDING, T.REJECTED: T.PENDING},
    "submit": {T.DRAFT: T.PENDING},
    "approve": {T.PENDING: T.APPROVED},
    "reject": {T.PENDING: T.REJECTED},
    "pay": {T.APPROVED: T.PAID},
}
TIMESHEET_STATES = StateMachine.from_actions(TRANSITIONS)
LOCKED = frozenset({T.APPROVED, T.PAID})


class TimesheetNotFound(NotFound):
    code = "timesheet_not_found"


class TimesheetExists(Conflict):
    code, title = "timesheet_exists", "This week already has a timesheet"


class InvalidAmendment(ValidationFailed):
    code, title = "invalid_amendment", "Only an approved timesheet of the same week is amended"


def next_status(row: Timesheet, action: str) -> str:
    return TIMESHEET_STATES.after(row.status, action,
                                  f"A {row.status} timesheet cannot be {action}ed"
                                  if action != "submit" else
                                  f"A {row.status} timesheet cannot be submitted")


def require_role(actor: Actor, role: Role) -> None:
    if actor.role != role:
        raise ForbiddenRole("This action needs another role")


async def get_for(session: AsyncSession, actor: Actor, timesheet_id: uuid.UUID) -> Timesheet:
    """The timesheet if the actor may read it; another party's (or a client asking for a draft)
    is 404."""
    row = await repo.get_readable(session, actor, timesheet_id)
    if row is None:
        raise TimesheetNotFound("No such timesheet")
    return row


async def _writable(session: AsyncSession, actor: Actor, timesheet_id: uuid.UUID) -> Timesheet:
    row = await repo.get_writable(session, actor, timesheet_id)
    if row is None:
        raise TimesheetNotFound("No such timesheet")
    return row


async def is_party(session: AsyncSession, actor: Actor, entity_id: str) -> bool:
    """Journal access policy for entity type `timesheet` (registered in `setup.install`)."""
    try:
        return await repo.get_readable(session, actor, uuid.UUID(entity_id)) is not None
    except ValueError:
        return False


# --- the week's contents ---------------------------------------------------------------------


async def _fill(
    session: AsyncSession, row: Timesheet, terms: WorkTerms, data_entries: Sequence[EntryIn]
) -> None:
    """Validate the entries against the contract and the week's other timesheets, and set
    hours, the rate snapshot and the amount."""
    rules.check_contract(terms)
    rules.check_week(terms, row.week_ending)
    week = rules.check_entries(terms, row.week_ending, data_entries, utcnow().date())
    others = [r.entries for r in await repo.week_rows(session, row.contract_id, row.week_ending)
              if r.id != row.id and r.status not in (T.DRAFT, T.REJECTED)]
    rules.check_day_totals(week, others)
    row.entries, row.total_hundredths = week.entries, week.total_hundredths
    row.hourly_rate_minor, row.currency = terms.rate_minor, terms.currency
    row.amount_minor = rules.amount_minor(terms.rate_minor, terms.currency, week.total_hundredths)


async def _submitted(session: AsyncSession, actor: Actor, row: Timesheet, *,
                     resubmitted: bool) -> None:
    now = utcnow()
    row.submitted_at = now
    row.first_submitted_at = row.first_submitted_at or now
    row.rejected_at = row.rejected_by = row.rejection_reason = None
    await session.flush()
    # The name is optional in the event (an erased profile has none to give).
    summaries = await contractors.contractor_summaries(session, [row.contractor_id])
    name = summaries[0].name if summaries else None
    await emit(session, "timesheet.submitted", {
        "timesheetId": row.id, "contractId": row.contract_id, "contractorId": row.contractor_id,
        "userId": row.contractor_user_id, "clientId": row.client_id,
        "clientUserId": row.client_user_id, "contractorName": name,
        "weekEnding": row.week_ending.isoformat(),
        "periodStart": rules.week_start(row.week_ending).isoformat(),
        "periodEnd": row.week_ending.isoformat(),
        "hours": str(rules.hours_of(row.total_hundredths)),
        "amount": str(from_minor(row.amount_minor, row.currency)),
        "amountMinor": row.amount_minor, "currency": row.currency,
        "amendsId": row.amends_id, "resubmitted": resubmitted,
    })


async def _amended(session: AsyncSession, actor: Actor, data: TimesheetCreate) -> uuid.UUID:
    """The approved (or paid) timesheet an amendment corrects; same contract and week."""
    assert data.amends_id is not None
    target = await repo.get_readable(session, actor, data.amends_id)
    if target is None:
        raise TimesheetNotFound("No such timesheet to amend")
    if (target.contract_id != data.contract_id or target.week_ending != data.week_ending
            or target.status not in LOCKED):
        raise InvalidAmendment("amendsId must be an approved or paid timesheet of the same "
                               "contract and week", errors=[{
                                   "field": "amendsId", "code": InvalidAmendment.code,
                                   "message": "not an approved timesheet of this week"}])
    return target.id


async def create_timesheet(
    session: AsyncSession, actor: Actor, data: TimesheetCreate, *, due_days: int
) -> Timesheet:
    """The contractor's timesheet for one week of an hourly contract, submitted (`pending`,
    emits `timesheet.submitted`) or saved as a `draft`.

    404 `contract_not_found` for a contract that is not theirs; 422 for a contract that is not
    hourly/active, a weekEnding that is not a Saturday or outside the contract, entries outside
    the week or the contract, in the future, twice the same date, hours outside (0, 24] or with
    more than two decimals; 409 `timesheet_exists` for a second regular timesheet of the week.
    """
    require_role(actor, Role.CONTRACTOR)
    terms = await contracts.get_for_timesheets(session, actor, data.contract_id)
    amends_id = await _amended(session, actor, data) if data.amends_id else None
    if amends_id is None and await repo.regular_of_week(session, terms.id, data.week_ending):
        raise TimesheetExists("This week already has a timesheet; edit it, or amend it once "
                              "approved")
    row = Timesheet(
        id=new_id(), contract_id=terms.id, contractor_id=terms.contractor_id,
        contractor_user_id=terms.contractor_user_id, client_id=terms.client_id,
        client_user_id=terms.client_user_id, week_ending=data.week_ending, amends_id=amends_id,
        notes=data.notes, status=T.DRAFT if data.status == "draft" else T.PENDING,
        due_at=rules.due_at(data.week_ending, due_days),
    )
    await _fill(session, row, terms, data.entries)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent request created the week's timesheet first
        raise TimesheetExists("This week already has a timesheet") from None
    await audit.record(session, actor, "timesheet.created", "timesheet", row.id,
                       {"contractId": str(row.contract_id), "status": row.status,
                        "amendsId": str(amends_id) if amends_id else None})
    if row.status == T.PENDING:
        await _submitted(session, actor, row, resubmitted=False)
    return row


async def update_timesheet(
    session: AsyncSession, actor: Actor, timesheet_id: uuid.UUID, data: TimesheetUpdate
) -> Timesheet:
    """Replace entries and/or notes of a draft, pending or rejected timesheet (a rejected one
    goes back to `pending`); approved and paid ones are 409 `invalid_transition`."""
    require_role(actor, Role.CONTRACTOR)
    row = await _writable(session, actor, timesheet_id)
    target = next_status(row, "edit")
    terms = await contracts.get_for_timesheets(session, actor, row.contract_id)
    if data.entries is not None:
        await _fill(session, row, terms, data.entries)
    else:  # re-check the kept entries: the contract may have ended since
        rules.check_contract(terms)
    if "notes" in data.model_fields_set:
        row.notes = data.notes
    resubmitted = row.status == T.REJECTED
    row.status = target
    row.updated_at = utcnow()
    await session.flush()
    await audit.record(session, actor, "timesheet.updated", "timesheet", row.id,
                       {"fields": sorted(data.model_fields_set), "status": row.status})
    if resubmitted:
        await _submitted(session, actor, row, resubmitted=True)
    return row


async def submit_timesheet(
    session: AsyncSession, actor: Actor, timesheet_id: uuid.UUID
) -> Timesheet:
    """`draft -> pending`, after the same checks as creation; emits `timesheet.submitted`."""
    require_role(actor, Role.CONTRACTOR)
    row = await _writable(session, actor, timesheet_id)
    row.status = next_status(row, "submit")
    terms = await contracts.get_for_timesheets(session, actor, row.contract_id)
    rules.check_contract(terms)
    await _fill(session, row, terms, [EntryIn(date=date.fromisoformat(e["date"]),
                                              hours=rules.hours_of(e["hundredths"]),
                                              description=e["description"])
                                      for e in row.entries])
    await audit.record(session, actor, "timesheet.submitted", "timesheet", row.id, {})
    await _submitted(session, actor, row, resubmitted=False)
    return row


async def page(
    session: AsyncSession, actor: Actor, *, contract_id: uuid.UUID | None, status: str,
    start: date | None, end: date | None, offset: int, limit: int,
) -> tuple[list[Timesheet], int]:
    """The actor's timesheets (contractor: theirs; client: its company's submitted ones), newest
    week first; `status="all"` does not filter."""
    return await repo.page(session, actor, contract_id=contract_id,
                           status=None if status == "all" else status, start=start, end=end,
                           offset=offset, limit=limit)


# --- for the invoices domain ---------------------------------------------------------------


def line_of(row: Timesheet) -> TimesheetLine:
    return TimesheetLine(
        timesheet_id=row.id, contract_id=row.contract_id, week_ending=row.week_ending,
        hours=rules.hours_of(row.total_hundredths), hourly_rate_minor=row.hourly_rate_minor,
        amount_minor=row.amount_minor, currency=row.currency, amends_id=row.amends_id,
    )


async def approved_for_invoicing(
    session: AsyncSession, contract_id: uuid.UUID, period_start: date, period_end: date
) -> list[TimesheetLine]:
    """The contract's approved, not yet paid timesheets whose `weekEnding` is inside
    [`period_start`, `period_end`] (both included), amendments as their own lines, ordered by
    week then creation. No tenant check: the caller (a job or the invoices service) has one."""
    return [line_of(r) for r in await repo.approved_in_period(session, contract_id,
                                                              period_start, period_end)]


async def mark_paid(session: AsyncSession, timesheet_ids: list[uuid.UUID]) -> None:
    """`approved -> paid` for each id; already paid ones stay as they are (idempotent). An
    unknown id is 404 `timesheet_not_found`, one in another status 409 `invalid_transition`;
    either changes nothing."""
    ids = list(dict.fromkeys(timesheet_ids))
    if not ids:
        return
    rows = await repo.lock_many(session, ids)
    found = {r.id: r for r in rows}
    missing = [i for i in ids if i not in found]
    if missing:
        raise TimesheetNotFound(f"No timesheet {missing[0]}")
    for row in rows:
        if row.status != T.PAID:
            next_status(row, "pay")
    now = utcnow()
    changed = [r for r in rows if r.status == T.APPROVED]
    for row in changed:
        row.status, row.paid_at = T.PAID, now
    await session.flush()
    await audit.record_many(session, None, "timesheet.paid", "timesheet",
                            [(row.id, {}) for row in changed])


# For the dashboards (web/): the week's rules (a week ends on a Saturday) and the list view,
# as the API's routes use them.
SATURDAY, week_start, hours_of = rules.SATURDAY, rules.week_start, rules.hours_of
many_out = views.many_out

__all__ = ["SATURDAY", "TRANSITIONS", "approved_for_invoicing", "create_timesheet", "get_for",
           "hours_of", "many_out", "mark_paid", "submit_timesheet", "update_timesheet",
           "week_start"]


# The approval actions (web/): the module the API's review routes call. It builds on this
# module (it imports names defined above), so it is imported last; the pages reach it as
# `service.reviews`.
from mindlinks.timesheets import reviews as reviews  # noqa: E402
