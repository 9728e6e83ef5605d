"""Earnings of a contractor (seed 000 `GET /api/payments/contractor/me/earnings`).

`totalEarned` = gross credits from work: the posts of invoice holds into the wallet (code
`invoice_hold`, kind `post`) in the main currency. Two SQL aggregates, each one scan of one
table - never a Python loop over rows, nor a join of the transfers to the items, so it stays
fast over millions of transfers: GROUP BY month over `payment_transfers` (the
`(credit_account_id, created_at)` index serves the range; the total, this month and last
month are read off its rows), GROUP BY contract over the paid payroll items.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments import holds
from mindlinks.payments.models import Transfer, TransferKind
from mindlinks.payments.payroll_models import InvoiceHold, ItemStatus, PayrollItem
from mindlinks.payments.payroll_schemas import ContractAmount, Earnings, MonthAmount
from mindlinks.payments.wallet import (
    available_by_currency,
    contractor_id_of,
    main_currency,
    pending_by_currency,
)
from mindlinks.platform.db import utcnow
from mindlinks.platform.money import from_minor
from mindlinks.platform.security import Actor

MAX_CONTRACTS = 100  # the by-contract list is capped (largest first)


def _month(session: AsyncSession, column: Any) -> Any:
    """The calendar month (UTC) of a timestamp, as a value to GROUP BY. PostgreSQL truncates
    (a timestamp groups faster than the text `to_char` makes; `AT TIME ZONE 'UTC'` so the
    session's time zone cannot move a month); SQLite formats `YYYY-MM`."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("month", column.op("AT TIME ZONE")(literal_column("'UTC'")))
    return func.strftime("%Y-%m", column)


def _month_key(value: Any) -> str:
    return value if isinstance(value, str) else f"{value:%Y-%m}"


def period_start(period: str, today: date) -> datetime | None:
    day = {"all": None, "year": today.replace(month=1, day=1),
           "month": today.replace(day=1), "week": today - timedelta(days=today.weekday())}[period]
    return None if day is None else datetime.combine(day, time.min, UTC)


def _work_credits(wallet_id: Any) -> list[Any]:
    return [Transfer.credit_account_id == wallet_id, Transfer.kind == TransferKind.POST,
            Transfer.code == holds.HOLD_CODE]


async def _by_month(session: AsyncSession, wallet_id: Any, start: datetime | None,
                    last_month: datetime) -> list[tuple[str, int, int]]:
    """(month, whole month, part in the period) in one scan of the wallet's work credits;
    the months before both the period and last month are not read."""
    month = _month(session, Transfer.created_at).label("month")
    where = _work_credits(wallet_id)
    in_period: Any = Transfer.amount
    if start is not None:
        where.append(Transfer.created_at >= min(start, last_month))
        in_period = case((Transfer.created_at >= start, Transfer.amount), else_=0)
    rows = await session.execute(
        select(month, func.sum(Transfer.amount), func.sum(in_period)).where(*where)
        .group_by(month).order_by(month))
    return [(_month_key(m), int(whole), int(part or 0)) for m, whole, part in rows]


async def _by_contract(session: AsyncSession, contractor_id: Any, currency: str,
                       start: datetime | None) -> list[tuple[Any, str, int]]:
    """(contract, client name, amount), largest first: the paid payroll items - each is one
    full post of its invoice's hold into the wallet (`transfer_id`), so their sums by contract
    equal the posts' without joining 1M transfers to 1M items. One scan of the contractor's
    items (index `(contractor_id, paid_at)`), then the names of at most 100 contracts."""
    where = [PayrollItem.contractor_id == contractor_id, PayrollItem.status == ItemStatus.PAID,
             PayrollItem.currency == currency]
    if start is not None:
        where.append(PayrollItem.paid_at >= start)
    amount = func.sum(PayrollItem.amount).label("amount")
    top = (await session.execute(
        select(PayrollItem.contract_id, amount).where(*where)
        .group_by(PayrollItem.contract_id)
        .order_by(amount.desc(), PayrollItem.contract_id).limit(MAX_CONTRACTS))).all()
    if not top:
        return []
    names = {contract: name for contract, name in await session.execute(
        select(InvoiceHold.contract_id, func.max(InvoiceHold.client_name))
        .where(InvoiceHold.contractor_id == contractor_id,
               InvoiceHold.contract_id.in_([c for c, _ in top]))
        .group_by(InvoiceHold.contract_id))}
    return [(c, names.get(c, ""), int(a)) for c, a in top]


async def earnings(session: AsyncSession, actor: Actor, period: str) -> Earnings:
    contractor_id = await contractor_id_of(session, actor)
    currency = await main_currency(session, contractor_id)
    wallet = await holds.wallet_account(session, contractor_id, currency)
    today = utcnow().date()
    start = period_start(period, today)
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    months = await _by_month(session, wallet.id, start,
                             datetime.combine(last_month, time.min, UTC))
    whole = {m: w for m, w, _ in months}
    by_contract = await _by_contract(session, contractor_id, currency, start)
    available = await available_by_currency(session, contractor_id)
    pending = await pending_by_currency(session, contractor_id)
    return Earnings(
        total_earned=from_minor(sum(p for _, _, p in months), currency),
        this_month=from_minor(whole.get(f"{this_month:%Y-%m}", 0), currency),
        last_month=from_minor(whole.get(f"{last_month:%Y-%m}", 0), currency),
        pending_payments=from_minor(pending.get(currency, 0), currency),
        available_balance=from_minor(available.get(currency, 0), currency),
        currency=currency,
        earnings_by_month=[MonthAmount(month=m, amount=from_minor(p, currency))
                           for m, _, p in months if p],
        earnings_by_contract=[ContractAmount(contract_id=c, client_name=n,
                                             amount=from_minor(a, currency))
                              for c, n, a in by_contract])
