"""Queries of withdrawals. Tenant scoping: a contractor reads only rows with their own
`contractor_id` (`own`, `page`); anything else is not found."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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


async def wallet_accounts(session: AsyncSession, contractor_id: uuid.UUID,
                          currency: str) -> dict[str, Account]:
    """The contractor's wallet and in-flight accounts in `currency` that exist, by purpose
    (one query; never created here)."""
    rows = (await session.scalars(select(Account).where(
        Account.owner_type == "contractor", Account.owner_id == contractor_id,
        Account.purpose.in_((Purpose.CONTRACTOR_WALLET, Purpose.WITHDRAWALS_IN_FLIGHT)),
        Account.currency == currency))).all()
    return {row.purpose: row for row in rows}


async def paid_to_before(session: AsyncSession, contractor_id: uuid.UUID,
                         bank_account_id: uuid.UUID) -> bool:
    """Whether an earlier withdrawal went (or is going) to this bank account."""
    return await session.scalar(select(Withdrawal.id).where(
        Withdrawal.contractor_id == contractor_id,
        Withdrawal.bank_account_id == bank_account_id,
        Withdrawal.status.notin_((WithdrawalStatus.CANCELLED, WithdrawalStatus.FAILED)))
        .limit(1)) is not None


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


async def count_since(session: AsyncSession, contractor_id: uuid.UUID,
                      since: datetime) -> tuple[int, datetime | None]:
    """How many withdrawals the contractor asked for since `since` (whatever became of them),
    and when the oldest of them was asked for."""
    count, oldest = (await session.execute(
        select(func.count(), func.min(Withdrawal.created_at)).where(
            Withdrawal.contractor_id == contractor_id, Withdrawal.created_at >= since))).one()
    return int(count or 0), oldest
