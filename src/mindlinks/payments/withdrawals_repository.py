"""Queries of withdrawals. Tenant scoping: a contractor reads only rows with their own
`contractor_id` (`own`, `page`); anything else is not found."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert, Update

from mindlinks.contractors import service as contractors
from mindlinks.countries import service as countries
from mindlinks.payments.book import HOLD_WRITES, LockedSums
from mindlinks.payments.models import Account, Purpose
from mindlinks.payments.withdrawals_models import (
    PayoutDestination,
    Withdrawal,
    WithdrawalStatus,
)
from mindlinks.platform.audit import AuditLog
from mindlinks.platform.db import RawQuery, named_insert
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


_LOCKED = ("id", "purpose", "currency", "may_go_negative", "debits_pending", "debits_posted",
           "credits_posted")


def _request_reads() -> RawQuery:
    """Every read of a withdrawal request, one statement (built once, parameters bound):
    - `facts`: the contractor of `user_id` with the bank account `bank_account_id`
      (`contractors.payout_reads`) and the rule of its country (`countries.rule_join`);
    - `locked`: that contractor's wallet and in-flight accounts in `currency`, locked
      (`FOR UPDATE`, in id order like every transfer's locks) with their sums read under the
      lock - MATERIALIZED, so the locks are taken as a statement of their own would;
    - `paid_before`: whether an earlier withdrawal went (or is going) to that bank account.
    One row per locked account (`acct_*`), or one row with NULL `acct_*` if the contractor
    holds neither; none without a profile."""
    payout = contractors.payout_reads(bindparam("user_id"),
                                      bindparam("bank_account_id")).subquery("payout")
    facts = (select(payout, *countries.rule_columns())
             .select_from(countries.rule_join(payout, payout.c.country)).cte("facts"))
    locked = (select(*(_A.c[c] for c in _LOCKED))
              .where(_A.c.owner_type == "contractor",
                     _A.c.owner_id == select(facts.c.contractor_id).scalar_subquery(),
                     # OR / AND of comparisons, not IN: RawQuery binds no expanding lists.
                     or_(_A.c.purpose == Purpose.CONTRACTOR_WALLET,
                         _A.c.purpose == Purpose.WITHDRAWALS_IN_FLIGHT),
                     _A.c.currency == bindparam("currency"))
              .order_by(_A.c.id).with_for_update(of=_A)
              .cte("locked").prefix_with("MATERIALIZED"))
    paid_before = exists().where(_W.c.contractor_id == facts.c.contractor_id,
                                 _W.c.bank_account_id == bindparam("bank_account_id"),
                                 *(_W.c.status != status for status in _NOT_PAID))
    return RawQuery(select(facts, *(locked.c[c].label(f"acct_{c}") for c in _LOCKED),
                           paid_before.label("paid_before"))
                    .select_from(facts.outerjoin(locked, true())).order_by(locked.c.id))


_REQUEST_READS = _request_reads()


@dataclass(frozen=True)
class RequestReads:
    facts: dict[str, Any]  # `contractors.payout_reads` + `countries.rule_columns` columns
    locked: dict[str, LockedSums]  # by purpose
    paid_before: bool


async def request_reads(session: AsyncSession, user_id: uuid.UUID,
                        bank_account_id: uuid.UUID, currency: str) -> RequestReads | None:
    """`_request_reads` in the session's transaction (the locks last until it ends); None
    without a contractor profile. Never creates an account."""
    rows = await _REQUEST_READS.all(session, user_id=user_id, bank_account_id=bank_account_id,
                                    currency=currency)
    if not rows:
        return None
    locked = {row["acct_purpose"]: LockedSums(*(row[f"acct_{c}"] for c in _LOCKED if
                                                c != "purpose"))
              for row in rows if row["acct_id"] is not None}
    return RequestReads(rows[0], locked, any(row["paid_before"] for row in rows))


_OUTBOX = cast(Table, OutboxEvent.__table__)
_DELIVERIES = cast(Table, EventDelivery.__table__)
_AUDIT = cast(Table, AuditLog.__table__)
_COUNT = select(func.count().label("found"), func.min(_W.c.created_at).label("oldest")).where(
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
def _writes_counting(deliveries: int) -> RawQuery:
    """PostgreSQL: the writes as data-modifying CTEs of the count, one statement, sent on the
    session's connection without SQLAlchemy's execution path (~0.2-0.3 ms of CPU a request
    here: the statement has ~60 parameters)."""
    return RawQuery(_COUNT.add_cte(*(w.cte(f"write_{i}")
                                     for i, w in enumerate(_writes(deliveries)))))


async def write_request(session: AsyncSession, params: dict[str, Any], deliveries: int
                        ) -> tuple[int, datetime | None]:
    """Write a withdrawal request (`request_params`) and return how many withdrawals the
    contractor asked for since `since` before it, and when the oldest of them was asked for.

    On PostgreSQL one statement: the writes are data-modifying CTEs of the count (they all
    see the statement's snapshot, so the count leaves out the row being inserted; foreign
    keys are checked at its end). Elsewhere (SQLite, one writer at a time) the count, then
    each write."""
    if session.get_bind().dialect.name == "postgresql":
        counted = await _writes_counting(deliveries).first(session, **params)
        assert counted is not None  # an aggregate: always one row
        found, oldest = counted["found"], counted["oldest"]
    else:
        found, oldest = (await session.execute(_COUNT, params)).one()
        for write in _writes(deliveries):
            await session.execute(write, params)
    return int(found or 0), oldest
