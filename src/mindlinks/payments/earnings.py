"""Earnings of a contractor (seed 000 `GET /api/payments/contractor/me/earnings`).

`totalEarned` = gross credits from work: the posts of invoice holds into the wallet (code
`invoice_hold`, kind `post`) in the main currency. They are read off the paid payroll items,
one per post, same amount, and the same instant (the payroll stamps each post with its item's
`paid_at`): one scan of one table, summed by SQL per (month, contract) - never a Python loop
over payments, nor a join of the transfers to the items, so it stays fast over millions of
them (`_series`; docs/performance.md "Earnings").
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

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


async def _series(session: AsyncSession, contractor_id: Any, currency: str,
                  start: datetime | None, last_month: datetime
                  ) -> tuple[list[tuple[str, int, int]], list[tuple[Any, int]]]:
    """Months - (month, whole month, part in the period) - and contracts - (contract, part in
    the period) - of the contractor's paid payroll items in `currency`. Each paid item is
    exactly one full post of its invoice's hold into the wallet, stamped with the item's
    `paid_at` (`book.post_many(at=)`), so these are the wallet's work credits by month and by
    contract.

    One scan: SQL sums the items by (month, contract) - at most months x contracts groups,
    whatever the number of payments - and the two series are those groups added up. (On
    PostgreSQL `GROUPING SETS` over the items ran single-process, 2.5x slower than this
    parallel scan; docs/performance.md "Earnings".) The months before both the period and last
    month are not read (index `(contractor_id, paid_at)`)."""
    month = _month(session, PayrollItem.paid_at).label("month")
    where = [PayrollItem.contractor_id == contractor_id, PayrollItem.status == ItemStatus.PAID,
             PayrollItem.currency == currency]
    in_period: Any = PayrollItem.amount
    if start is not None:
        where.append(PayrollItem.paid_at >= min(start, last_month))
        in_period = case((PayrollItem.paid_at >= start, PayrollItem.amount), else_=0)
    months: dict[str, list[int]] = {}
    contracts: dict[Any, int] = {}
    for m, contract, whole, part in await session.execute(
            select(month, PayrollItem.contract_id, func.sum(PayrollItem.amount),
                   func.sum(in_period)).where(*where).group_by(month, PayrollItem.contract_id)):
        sums = months.setdefault(_month_key(m), [0, 0])
        sums[0] += int(whole)
        sums[1] += int(part or 0)
        if part:
            contracts[contract] = contracts.get(contract, 0) + int(part)
    return ([(m, w, p) for m, (w, p) in sorted(months.items())], list(contracts.items()))


async def _names(session: AsyncSession, contractor_id: Any, contracts: list[tuple[Any, int]]
                 ) -> list[tuple[Any, str, int]]:
    """The largest `MAX_CONTRACTS` contracts (largest first) with their client's name."""
    top = sorted(contracts, key=lambda c: (-c[1], str(c[0])))[:MAX_CONTRACTS]
    if not top:
        return []
    names = {contract: name for contract, name in await session.execute(
        select(InvoiceHold.contract_id, func.max(InvoiceHold.client_name))
        .where(InvoiceHold.contractor_id == contractor_id,
               InvoiceHold.contract_id.in_([c for c, _ in top]))
        .group_by(InvoiceHold.contract_id))}
    return [(c, names.get(c, ""), a) for c, a in top]


async def earnings(session: AsyncSession, actor: Actor, period: str, *,
                   breakdown: bool = True) -> Earnings:
    """`breakdown=False`: the figures without the by-month and by-contract series (the
    by-contract aggregate is not run), for a summary that shows no chart (the contractor
    home)."""
    contractor_id = await contractor_id_of(session, actor)
    currency = await main_currency(session, contractor_id)
    today = utcnow().date()
    start = period_start(period, today)
    this_month = today.replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    months, contracts = await _series(session, contractor_id, currency, start,
                                      datetime.combine(last_month, time.min, UTC))
    whole = {m: w for m, w, _ in months}
    by_contract = await _names(session, contractor_id, contracts) if breakdown else []
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
                           for m, _, p in months if p and breakdown],
        earnings_by_contract=[ContractAmount(contract_id=c, client_name=n,
                                             amount=from_minor(a, currency))
                              for c, n, a in by_contract])
