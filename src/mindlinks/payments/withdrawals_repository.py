"""Queries of withdrawals. Tenant scoping: a contractor reads only rows with their own
`contractor_id` (`own`, `page`); anything else is not found."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert, Update

from mindlinks.payments.book import LockedSums
from mindlinks.payments.models import Account, Purpose
from mindlinks.payments.withdrawals_models import (
    PayoutDestination,
    Withdrawal,
    WithdrawalStatus,
)

# The list filter -> the states it shows.
FILTERS: dict[str, tuple[str, ...]] = {
    "completed": (WithdrawalStatus.COMPLETED,),
    "processing": (WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING),
    "failed": (WithdrawalStatus.FAILED,),
    "pending": (WithdrawalStatus.PENDING,),
    "cancelled": (WithdrawalStatus.CANCELLED,),
    "reversed": (WithdrawalStatus.REVERSED,),
}
# A withdrawal in these states never paid (and never will pay) its bank account.
_NOT_PAID = (WithdrawalStatus.CANCELLED, WithdrawalStatus.FAILED)


async def own(session: AsyncSession, contractor_id: uuid.UUID, withdrawal_id: uuid.UUID, *,
              for_update: bool = False) -> Withdrawal | None:
    query = select(Withdrawal).where(Withdrawal.id == withdrawal_id,
                                     Withdrawal.contractor_id == contractor_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def by_id_for_update(session: AsyncSession, withdrawal_id: uuid.UUID) -> Withdrawal | None:
    """For the worker and webhooks only (no actor): the row, locked, read fresh."""
    return await session.scalar(select(Withdrawal).where(Withdrawal.id == withdrawal_id)
                                .with_for_update().execution_options(populate_existing=True))


async def page(session: AsyncSession, contractor_id: uuid.UUID, status: str, *, offset: int,
               limit: int) -> tuple[Sequence[Withdrawal], int]:
    where = [Withdrawal.contractor_id == contractor_id]
    if status != "all":
        where.append(Withdrawal.status.in_(FILTERS[status]))
    total = await session.scalar(select(func.count()).select_from(Withdrawal).where(*where))
    rows = (await session.scalars(select(Withdrawal).where(*where)
                                  .order_by(Withdrawal.created_at.desc(), Withdrawal.id)
                                  .offset(offset).limit(limit))).all()
    return rows, int(total or 0)


async def latest(session: AsyncSession, contractor_id: uuid.UUID) -> Withdrawal | None:
    return await session.scalar(select(Withdrawal).where(
        Withdrawal.contractor_id == contractor_id,
        Withdrawal.status.notin_((WithdrawalStatus.CANCELLED,)))
        .order_by(Withdrawal.created_at.desc(), Withdrawal.id).limit(1))


async def destination(session: AsyncSession, provider: str,
                      bank_account_id: uuid.UUID) -> PayoutDestination | None:
    return await session.scalar(select(PayoutDestination).where(
        PayoutDestination.provider == provider,
        PayoutDestination.bank_account_id == bank_account_id))


async def stuck(session: AsyncSession, before: datetime, limit: int = 500) -> list[uuid.UUID]:
    """Withdrawals requested before `before` still without a payout reference (pending, or
    processing whose provider call never got recorded), oldest first."""
    return list((await session.scalars(select(Withdrawal.id).where(
        Withdrawal.status.in_((WithdrawalStatus.PENDING, WithdrawalStatus.PROCESSING)),
        Withdrawal.provider_payout_ref.is_(None), Withdrawal.requested_at < before)
        .order_by(Withdrawal.requested_at).limit(limit))).all())


_A = cast(Table, Account.__table__)
_W = cast(Table, Withdrawal.__table__)


async def lock_wallet(session: AsyncSession, contractor_id: uuid.UUID, currency: str,
                      bank_account_id: uuid.UUID) -> tuple[dict[str, LockedSums], bool]:
    """The contractor's wallet and in-flight accounts in `currency` that exist, by purpose,
    locked (`FOR UPDATE`, in id order like every transfer's locks) with their sums read under
    the lock; and whether an earlier withdrawal went (or is going) to this bank account - one
    statement. Never creates an account."""
    paid_before = exists().where(
        _W.c.contractor_id == contractor_id, _W.c.bank_account_id == bank_account_id,
        _W.c.status.notin_(_NOT_PAID))
    rows = (await session.execute(
        select(_A.c.id, _A.c.purpose, _A.c.currency, _A.c.may_go_negative, _A.c.debits_pending,
               _A.c.debits_posted, _A.c.credits_posted, paid_before.label("paid_before"))
        .where(_A.c.owner_type == "contractor", _A.c.owner_id == contractor_id,
               _A.c.purpose.in_((Purpose.CONTRACTOR_WALLET, Purpose.WITHDRAWALS_IN_FLIGHT)),
               _A.c.currency == currency)
        .order_by(_A.c.id).with_for_update(of=_A))).all()
    locked = {row.purpose: LockedSums(row.id, row.currency, row.may_go_negative,
                                      row.debits_pending, row.debits_posted, row.credits_posted)
              for row in rows}
    return locked, any(row.paid_before for row in rows)


def insert_row(values: dict[str, object]) -> Insert:
    return insert(_W).values(values)


async def write_counting(session: AsyncSession, writes: Sequence[Insert | Update],
                         contractor_id: uuid.UUID, since: datetime
                         ) -> tuple[int, datetime | None]:
    """Send `writes` (in order) and return `count_since(contractor_id, since)` as it was
    before them. On PostgreSQL one statement: the writes as data-modifying CTEs of the count
    (they all see the statement's snapshot, so the count leaves out the row being inserted;
    foreign keys are checked at its end). Elsewhere (SQLite, one writer at a time) the
    count, then each write."""
    count = select(func.count(), func.min(_W.c.created_at)).where(
        _W.c.contractor_id == contractor_id, _W.c.created_at >= since)
    if session.get_bind().dialect.name == "postgresql":
        count = count.add_cte(*(w.cte(f"write_{i}") for i, w in enumerate(writes)))
        found, oldest = (await session.execute(count)).one()
    else:
        found, oldest = (await session.execute(count)).one()
        for write in writes:
            await session.execute(write)
    return int(found or 0), oldest
