"""Every query of the timesheets domain, and its tenant scoping.

`readable(actor)`: a contractor sees the timesheets of their profile; a client user the
submitted (non-draft) timesheets of the contracts their company's account holds (one account
per company, as contracts scope it); an administrator with MFA all of them. `writable(actor)`:
the contractor's own (they edit and submit), and the client's for review.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import Select, false, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.platform.db import new_id
from mindlinks.platform.security import Actor, Role
from mindlinks.timesheets.models import Timesheet, TimesheetReminder, TimesheetStatus

T = TimesheetStatus


def readable(actor: Actor) -> Select[Timesheet]:
    stmt = select(Timesheet)
    if actor.is_admin and actor.mfa_verified:
        return stmt
    if actor.role == Role.CONTRACTOR and actor.contractor_id is not None:
        return stmt.where(Timesheet.contractor_id == actor.contractor_id)
    if actor.role == Role.CLIENT:
        # A draft is the contractor's own business until it is submitted.
        return stmt.where(Timesheet.client_user_id == actor.user_id, Timesheet.status != T.DRAFT)
    return stmt.where(false())


def writable(actor: Actor) -> Select[Timesheet]:
    """Rows the actor may change: a contractor their own, a client user its company's
    submitted ones (to review). Admins read but do not act for either party."""
    if actor.role in (Role.CONTRACTOR, Role.CLIENT):
        return readable(actor)
    return select(Timesheet).where(false())


async def get_readable(
    session: AsyncSession, actor: Actor, timesheet_id: uuid.UUID
) -> Timesheet | None:
    return (await session.execute(readable(actor).where(Timesheet.id == timesheet_id))
            ).scalar_one_or_none()


async def get_writable(
    session: AsyncSession, actor: Actor, timesheet_id: uuid.UUID
) -> Timesheet | None:
    """Locked (PostgreSQL) and reloaded, so of concurrent changes each sees the previous one's
    committed state: of 50 approvals one finds `pending`, the others `approved`."""
    stmt = (writable(actor).where(Timesheet.id == timesheet_id).with_for_update()
            .execution_options(populate_existing=True))
    return (await session.execute(stmt)).scalar_one_or_none()


async def lock_many(
    session: AsyncSession, ids: Sequence[uuid.UUID], actor: Actor | None = None
) -> list[Timesheet]:
    """Rows by id (those `actor` may write, when given), locked in id order (a fixed order:
    two bulk reviews cannot deadlock)."""
    base = writable(actor) if actor is not None else select(Timesheet)
    stmt = (base.where(Timesheet.id.in_(list(ids))).order_by(Timesheet.id)
            .with_for_update().execution_options(populate_existing=True))
    return list((await session.execute(stmt)).scalars().all())


async def page(
    session: AsyncSession, actor: Actor, *, contract_id: uuid.UUID | None, status: str | None,
    start: date | None, end: date | None, offset: int, limit: int,
) -> tuple[list[Timesheet], int]:
    stmt = readable(actor)
    if contract_id is not None:
        stmt = stmt.where(Timesheet.contract_id == contract_id)
    if status is not None:
        stmt = stmt.where(Timesheet.status == status)
    if start is not None:
        stmt = stmt.where(Timesheet.week_ending >= start)
    if end is not None:
        stmt = stmt.where(Timesheet.week_ending <= end)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = await session.execute(stmt.order_by(Timesheet.week_ending.desc(),
                                               Timesheet.created_at.desc(), Timesheet.id)
                                 .offset(offset).limit(limit))
    return list(rows.scalars().all()), int(total)


async def regular_of_week(
    session: AsyncSession, contract_id: uuid.UUID, week_ending: date
) -> Timesheet | None:
    """The week's non-amendment timesheet, if any."""
    stmt = select(Timesheet).where(Timesheet.contract_id == contract_id,
                                   Timesheet.week_ending == week_ending,
                                   Timesheet.amends_id.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def week_rows(
    session: AsyncSession, contract_id: uuid.UUID, week_ending: date
) -> list[Timesheet]:
    """Every timesheet (regular and amendments) of the contract's week."""
    stmt = select(Timesheet).where(Timesheet.contract_id == contract_id,
                                   Timesheet.week_ending == week_ending)
    return list((await session.execute(stmt)).scalars().all())


async def get(session: AsyncSession, timesheet_id: uuid.UUID) -> Timesheet | None:
    return await session.get(Timesheet, timesheet_id)


async def approved_in_period(
    session: AsyncSession, contract_id: uuid.UUID, start: date, end: date
) -> list[Timesheet]:
    stmt = (select(Timesheet)
            .where(Timesheet.contract_id == contract_id, Timesheet.status == T.APPROVED,
                   Timesheet.week_ending >= start, Timesheet.week_ending <= end)
            .order_by(Timesheet.week_ending, Timesheet.created_at, Timesheet.id))
    return list((await session.execute(stmt)).scalars().all())


# --- reminders ------------------------------------------------------------------------------


async def submitted_weeks(
    session: AsyncSession, contract_ids: Sequence[uuid.UUID], since: date
) -> set[tuple[uuid.UUID, date]]:
    """(contract, week) pairs that have a submitted regular timesheet (anything but a draft)."""
    if not contract_ids:
        return set()
    stmt = select(Timesheet.contract_id, Timesheet.week_ending).where(
        Timesheet.contract_id.in_(list(contract_ids)), Timesheet.week_ending >= since,
        Timesheet.amends_id.is_(None), Timesheet.status != T.DRAFT)
    return {(c, w) for c, w in (await session.execute(stmt)).all()}


async def reminded_weeks(
    session: AsyncSession, contract_ids: Sequence[uuid.UUID], since: date
) -> set[tuple[uuid.UUID, date]]:
    if not contract_ids:
        return set()
    stmt = select(TimesheetReminder.contract_id, TimesheetReminder.week_ending).where(
        TimesheetReminder.contract_id.in_(list(contract_ids)),
        TimesheetReminder.week_ending >= since)
    return {(c, w) for c, w in (await session.execute(stmt)).all()}


async def claim_reminder(
    session: AsyncSession, contract_id: uuid.UUID, contractor_id: uuid.UUID, week_ending: date,
    now: datetime,
) -> uuid.UUID | None:
    """Insert the (contract, week) reminder row unless one exists; its id if this call made it.
    `ON CONFLICT DO NOTHING` on both databases: a concurrent worker's row wins quietly."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    row_id = new_id()
    stmt = (insert(TimesheetReminder)
            .values(id=row_id, contract_id=contract_id, contractor_id=contractor_id,
                    week_ending=week_ending, created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["contract_id", "week_ending"])
            .returning(TimesheetReminder.id))
    return (await session.execute(stmt)).scalar_one_or_none()


async def set_reminder_event(session: AsyncSession, reminder_id: uuid.UUID,
                             event_id: uuid.UUID) -> None:
    await session.execute(update(TimesheetReminder).where(TimesheetReminder.id == reminder_id)
                          .values(event_id=event_id))
