"""Every query of the invoices domain, and its tenant scoping.

`readable(actor)`: a contractor sees the invoices issued in their name, a client user those
addressed to the company they made the contract for, an administrator (with MFA) all of them.
Drafts are nobody's: a draft exists only inside the transaction that issues it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, false, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.invoices.models import (
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    InvoiceStatus,
    InvoiceStepRecord,
)
from mindlinks.platform.db import in_list, records
from mindlinks.platform.security import Actor, Role

S = InvoiceStatus


def readable(actor: Actor) -> Select[Invoice]:
    stmt = select(Invoice).where(Invoice.status != S.DRAFT)
    if actor.is_admin and actor.mfa_verified:
        return stmt
    if actor.role == Role.CONTRACTOR and actor.contractor_id is not None:
        return stmt.where(Invoice.contractor_id == actor.contractor_id)
    if actor.role == Role.CLIENT:
        return stmt.where(Invoice.client_user_id == actor.user_id)
    return stmt.where(false())


def status_filter(status: str, today: date) -> list[object]:
    """`pending`: sent and not yet due; `overdue`: marked overdue, or sent and past due (the
    daily job may not have run yet today)."""
    past_due = and_(Invoice.status == S.SENT, Invoice.due_date < today)
    if status == "all":
        return []
    if status == "pending":
        return [Invoice.status == S.SENT, Invoice.due_date >= today]
    if status == "overdue":
        return [or_(Invoice.status == S.OVERDUE, past_due)]
    if status == "sent":
        return [Invoice.status == S.SENT, Invoice.due_date >= today]
    return [Invoice.status == status]


async def page(
    session: AsyncSession, actor: Actor, *, status: str, today: date, offset: int, limit: int,
) -> tuple[Sequence[Invoice], int]:
    stmt = readable(actor).where(*status_filter(status, today))  # type: ignore[arg-type]
    total = await session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = (await session.scalars(
        stmt.order_by(Invoice.issue_date.desc(), Invoice.invoice_number.desc())
        .offset(offset).limit(limit)
    )).all()
    return rows, int(total or 0)


async def get_readable(
    session: AsyncSession, actor: Actor, invoice_id: uuid.UUID
) -> Invoice | None:
    return (await session.scalars(readable(actor).where(Invoice.id == invoice_id))).first()


async def get(session: AsyncSession, invoice_id: uuid.UUID, *, for_update: bool = False
              ) -> Invoice | None:
    stmt = select(Invoice).where(Invoice.id == invoice_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.scalars(stmt)).first()


async def lock_payable(session: AsyncSession, ids: Sequence[uuid.UUID],
                       payable: Sequence[str]) -> set[uuid.UUID]:
    rows = await session.execute(select(Invoice.id, Invoice.status)
                                 .where(in_list(session, Invoice.id, sorted(set(ids))))
                                 .order_by(Invoice.id).with_for_update())
    return {invoice_id for invoice_id, status in rows if status in payable}


# What `invoice.paid` events and `invoice_payment` journal entries need of a paid invoice.
_PAID_COLUMNS = ("id", "invoice_number", "contract_id", "contractor_id", "contractor_user_id",
                 "client_id", "client_user_id", "amount_minor", "currency", "issue_date",
                 "due_date", "paid_date", "pdf_sha256")


async def pay_many(session: AsyncSession, ids: Sequence[uuid.UUID], moves: dict[str, str],
                   paid: str, paid_at: datetime) -> list[Any]:
    """One UPDATE for the batch: those of `ids` in a status `moves` takes to `paid`; returns
    their rows (what events and the journal need)."""
    table = cast(Table, Invoice.__table__)
    stmt = (update(table)
            .where(in_list(session, table.c.id, sorted(set(ids))),
                   table.c.status.in_([old for old, new in moves.items() if new == paid]))
            .values(status=paid, paid_at=paid_at, paid_date=paid_at.date(), updated_at=paid_at)
            .returning(*(table.c[name] for name in _PAID_COLUMNS)))
    return records(await session.execute(stmt))


async def billed_timesheets(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    return [row for row in (await session.scalars(
        select(InvoiceLine.timesheet_id).where(in_list(session, InvoiceLine.invoice_id, ids),
                                               InvoiceLine.timesheet_id.is_not(None))
        .order_by(InvoiceLine.invoice_id, InvoiceLine.position))).all() if row is not None]


async def by_source(session: AsyncSession, source_key: str) -> Invoice | None:
    return (await session.scalars(select(Invoice).where(Invoice.source_key == source_key))).first()


async def existing_sources(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start:start + 500])
        found.update((await session.scalars(
            select(Invoice.source_key).where(Invoice.source_key.in_(chunk))
        )).all())
    return found


async def invoiced_timesheets(session: AsyncSession, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these timesheets are billed on an invoice that is not cancelled."""
    if not ids:
        return set()
    return {i for i in (await session.scalars(
        select(InvoiceLine.timesheet_id).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.timesheet_id.in_(ids), Invoice.status != S.CANCELLED)
    )).all() if i is not None}


async def source_count(session: AsyncSession, key: str) -> int:
    """Invoices of `key` and its supplements (`key:2`, `key:3`, ...)."""
    return int(await session.scalar(select(func.count()).select_from(Invoice).where(
        or_(Invoice.source_key == key, Invoice.source_key.like(f"{key}:%")))) or 0)


async def lines(session: AsyncSession, invoice_id: uuid.UUID) -> Sequence[InvoiceLine]:
    return (await session.scalars(
        select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position)
    )).all()


async def replacement_of(session: AsyncSession, invoice_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(select(Invoice.id).where(Invoice.replaces_id == invoice_id))


async def number_of(session: AsyncSession, invoice_id: uuid.UUID) -> str | None:
    return await session.scalar(select(Invoice.invoice_number).where(Invoice.id == invoice_id))


async def next_number(session: AsyncSession, contractor_id: uuid.UUID, year: int) -> int:
    """The contractor's next invoice number in `year`. The counter row is created if missing
    and incremented with one UPDATE, whose row lock is held until the caller's transaction
    ends: concurrent issuers queue on it, and a rolled-back issue gives its number back."""
    values = {"contractor_id": contractor_id, "year": year, "last_number": 0}
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(postgresql.insert(InvoiceCounter).values(**values)
                              .on_conflict_do_nothing())
    else:
        await session.execute(sqlite.insert(InvoiceCounter).values(**values)
                              .on_conflict_do_nothing())
    number = await session.scalar(
        update(InvoiceCounter)
        .where(InvoiceCounter.contractor_id == contractor_id, InvoiceCounter.year == year)
        .values(last_number=InvoiceCounter.last_number + 1)
        .returning(InvoiceCounter.last_number)
    )
    assert number is not None
    return int(number)


async def past_due_ids(session: AsyncSession, today: date, limit: int) -> Sequence[uuid.UUID]:
    """Sent invoices whose due date has passed, locked (skipping rows another worker holds)."""
    return (await session.scalars(
        select(Invoice.id).where(Invoice.status == S.SENT, Invoice.due_date < today)
        # Oldest first, in the (status, due_date) index's order: no sort of all past-due rows.
        .order_by(Invoice.due_date).limit(limit)
        .with_for_update(skip_locked=True)
    )).all()


async def steps_done(session: AsyncSession, ids: Sequence[uuid.UUID], step: str) -> set[uuid.UUID]:
    return set((await session.scalars(
        select(InvoiceStepRecord.invoice_id)
        .where(InvoiceStepRecord.invoice_id.in_(ids), InvoiceStepRecord.step == step)
    )).all())


async def load_many(session: AsyncSession, ids: Sequence[uuid.UUID]) -> Sequence[Invoice]:
    return (await session.scalars(select(Invoice).where(Invoice.id.in_(ids)))).all()
