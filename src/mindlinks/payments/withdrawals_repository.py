"""Queries of withdrawals. Tenant scoping: a contractor reads only rows with their own
`contractor_id` (`own`, `page`); anything else is not found."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert, Update

from mindlinks.payments.book import HOLD_WRITES, LockedSums
from mindlinks.payments.models import Account, Purpose
from mindlinks.payments.withdrawals_models import (
    PayoutDestination,
    Withdrawal,
    WithdrawalStatus,
)
from mindlinks.platform.audit import AuditLog
from mindlinks.platform.db import named_insert
from mindlinks.platform.events import EventDelivery, OutboxEvent

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


# The wallet and in-flight accounts of (contractor, currency), locked in id order, with whether
# an earlier withdrawal went (or is going) to the bank account (built once, parameters bound).
_LOCK_WALLET = (
    select(_A.c.id, _A.c.purpose, _A.c.currency, _A.c.may_go_negative, _A.c.debits_pending,
           _A.c.debits_posted, _A.c.credits_posted, exists().where(
               _W.c.contractor_id == bindparam("contractor_id"),
               _W.c.bank_account_id == bindparam("bank_account_id"),
               _W.c.status.notin_(_NOT_PAID)).label("paid_before"))
    .where(_A.c.owner_type == "contractor", _A.c.owner_id == bindparam("contractor_id"),
           _A.c.purpose.in_((Purpose.CONTRACTOR_WALLET, Purpose.WITHDRAWALS_IN_FLIGHT)),
           _A.c.currency == bindparam("currency"))
    .order_by(_A.c.id).with_for_update(of=_A))


async def lock_wallet(session: AsyncSession, contractor_id: uuid.UUID, currency: str,
                      bank_account_id: uuid.UUID) -> tuple[dict[str, LockedSums], bool]:
    """The contractor's wallet and in-flight accounts in `currency` that exist, by purpose,
    locked (`FOR UPDATE`, in id order like every transfer's locks) with their sums read under
    the lock; and whether an earlier withdrawal went (or is going) to this bank account - one
    statement. Never creates an account."""
    rows = (await session.execute(_LOCK_WALLET, {
        "contractor_id": contractor_id, "currency": currency,
        "bank_account_id": bank_account_id})).all()
    locked = {row.purpose: LockedSums(row.id, row.currency, row.may_go_negative,
                                      row.debits_pending, row.debits_posted, row.credits_posted)
              for row in rows}
    return locked, any(row.paid_before for row in rows)



_OUTBOX = cast(Table, OutboxEvent.__table__)
_DELIVERIES = cast(Table, EventDelivery.__table__)
_AUDIT = cast(Table, AuditLog.__table__)
_COUNT = select(func.count(), func.min(_W.c.created_at)).where(
    _W.c.contractor_id == bindparam("count_contractor_id"),
    _W.c.created_at >= bindparam("count_since", type_=_W.c.created_at.type))


def request_params(withdrawal: Withdrawal, hold: dict[str, Any], event: dict[str, Any],
                   deliveries: list[dict[str, Any]], audit_row: dict[str, Any],
                   since: datetime) -> dict[str, Any]:
    """The parameters of `write_request`'s statements: each row's columns under its prefix
    (the withdrawal is a transient ORM object: its attribute names are its column names)."""
    row = {name: getattr(withdrawal, name) for name in _COLUMNS["w"]}
    params = {**hold, "count_contractor_id": withdrawal.contractor_id, "count_since": since}
    for prefix, values in (("w_", row), ("e_", event), ("a_", audit_row),
                           *((f"d{i}_", d) for i, d in enumerate(deliveries))):
        params.update({prefix + name: values.get(name) for name in _COLUMNS[prefix[0]]})
    return params


_COLUMNS = {"w": _W.columns.keys(), "e": _OUTBOX.columns.keys(),
            "d": _DELIVERIES.columns.keys(), "a": _AUDIT.columns.keys()}


@functools.cache
def _writes(deliveries: int) -> tuple[Insert | Update, ...]:
    """The request's writes in order: the hold (transfer, sums), the withdrawal, the event,
    its `deliveries` deliveries (one per subscriber), the audit line."""
    return (*HOLD_WRITES, named_insert(_W, "w_"), named_insert(_OUTBOX, "e_"),
            *(named_insert(_DELIVERIES, f"d{i}_") for i in range(deliveries)),
            named_insert(_AUDIT, "a_"))


@functools.cache
def _writes_counting(deliveries: int) -> Executable:
    """PostgreSQL: the writes as data-modifying CTEs of the count, one statement."""
    return _COUNT.add_cte(*(w.cte(f"write_{i}") for i, w in enumerate(_writes(deliveries))))


async def write_request(session: AsyncSession, params: dict[str, Any], deliveries: int
                        ) -> tuple[int, datetime | None]:
    """Write a withdrawal request (`request_params`) and return how many withdrawals the
    contractor asked for since `since` before it, and when the oldest of them was asked for.

    On PostgreSQL one statement: the writes are data-modifying CTEs of the count (they all
    see the statement's snapshot, so the count leaves out the row being inserted; foreign
    keys are checked at its end). Elsewhere (SQLite, one writer at a time) the count, then
    each write."""
    if session.get_bind().dialect.name == "postgresql":
        found, oldest = (await session.execute(_writes_counting(deliveries), params)).one()
    else:
        found, oldest = (await session.execute(_COUNT, params)).one()
        for write in _writes(deliveries):
            await session.execute(write, params)
    return int(found or 0), oldest
