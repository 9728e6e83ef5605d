"""Earnings of a contractor (seed 000 `GET /api/payments/contractor/me/earnings`).

`totalEarned` = gross credits from work: the posts of invoice holds into the wallet (code
`invoice_hold`, kind `post`) in the main currency. Every figure is one SQL aggregate over
`payment_transfers` (GROUP BY month, or by contract through the payroll item that made the
post) - never a Python loop over rows, so it stays fast over millions of transfers (the
`(credit_account_id, created_at)` index serves the range).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments import holds
from mindlinks.payments.models import Transfer, TransferKind
from mindlinks.payments.payroll_models import InvoiceHold, PayrollItem
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
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def period_start(period: str, today: date) -> datetime | None:
    day = {"all": None, "year": today.replace(month=1, day=1),
           "month": today.replace(day=1), "week": today - timedelta(days=today.weekday())}[period]
    return None if day is None else datetime.combine(day, time.min, UTC)


def _work_credits(wallet_id: Any) -> list[Any]:
    return [Transfer.credit_account_id == wallet_id, Transfer.kind == TransferKind.POST,
            Transfer.code == holds.HOLD_CODE]


async def _totals(session: AsyncSession, wallet_id: Any, start: datetime | None,
                  this_month: datetime, last_month: datetime) -> tuple[int, int, int]:
    """(period total, this month, last month) in one scan: conditional sums."""
    amount = Transfer.amount
    in_period = amount if start is None else case((Transfer.created_at >= start, amount))
    row = (await session.execute(select(
        func.coalesce(func.sum(in_period), 0),
        func.coalesce(func.sum(case((Transfer.created_at >= this_month, amount))), 0),
        func.coalesce(func.sum(case((and_(Transfer.created_at >= last_month,
                                          Transfer.created_at < this_month), amount))), 0),
    ).where(*_work_credits(wallet_id)))).one()
    return int(row[0]), int(row[1]), int(row[2])


async def earnings(session: AsyncSession, actor: Actor, period: str, *,
                   breakdown: bool = True) -> Earnings:
    """`breakdown=False`: the figures without the by-month and by-contract series (two
    aggregates fewer), for a summary that shows no chart (the contractor home)."""
    contractor_id = await contractor_id_of(session, actor)
    currency = await main_currency(session, contractor_id)
    wallet = await holds.wallet_account(session, contractor_id, currency)
    today = utcnow().date()
    start = period_start(period, today)
    this_month = datetime.combine(today.replace(day=1), time.min, UTC)
    last_month = datetime.combine((today.replace(day=1) - timedelta(days=1)).replace(day=1),
                                  time.min, UTC)
    where = _work_credits(wallet.id)
    if start is not None:
        where.append(Transfer.created_at >= start)
    by_month: Sequence[Any] = []
    by_contract: Sequence[Any] = []
    if breakdown:
        month = _month(session, Transfer.created_at).label("month")
        by_month = (await session.execute(
            select(month, func.sum(Transfer.amount)).where(*where).group_by(month)
            .order_by(month))).all()
        amount = func.sum(Transfer.amount).label("amount")
        by_contract = (await session.execute(
            select(PayrollItem.contract_id, func.max(InvoiceHold.client_name), amount)
            .select_from(Transfer)
            .join(PayrollItem, PayrollItem.transfer_id == Transfer.id)
            .join(InvoiceHold, InvoiceHold.invoice_id == PayrollItem.invoice_id)
            .where(*where).group_by(PayrollItem.contract_id)
            .order_by(amount.desc(), PayrollItem.contract_id).limit(MAX_CONTRACTS))).all()
    available = await available_by_currency(session, contractor_id)
    pending = await pending_by_currency(session, contractor_id)
    total, this, last = await _totals(session, wallet.id, start, this_month, last_month)
    return Earnings(
        total_earned=from_minor(total, currency),
        this_month=from_minor(this, currency),
        last_month=from_minor(last, currency),
        pending_payments=from_minor(pending.get(currency, 0), currency),
        available_balance=from_minor(available.get(currency, 0), currency),
        currency=currency,
        earnings_by_month=[MonthAmount(month=m, amount=from_minor(int(a), currency))
                           for m, a in by_month],
        earnings_by_contract=[ContractAmount(contract_id=c, client_name=n,
                                             amount=from_minor(int(a), currency))
                              for c, n, a in by_contract])
