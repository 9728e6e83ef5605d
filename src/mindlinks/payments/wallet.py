"""The contractor's wallet and payment history (seed 000 "Payment Service").

Definitions (docs/payments.md):
- `availableBalance` = posted credits - posted debits - pending debits of the wallet account
  (pending debits: withdrawals in flight);
- `pendingBalance` = issued, unpaid invoices (their holds, placed or awaiting funding);
- the seed's one-currency wallet shows the contractor's main currency (that of the latest
  invoice, else the primary bank account's, else USD); every currency is in `balances[]`.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import service as contractors
from mindlinks.payments import holds, withdrawals_repository
from mindlinks.payments.models import Account, Purpose
from mindlinks.payments.payroll_models import InvoiceHold, ItemStatus, PayrollItem
from mindlinks.payments.payroll_schemas import (
    CurrencyBalance,
    HistoryRow,
    LastWithdrawal,
    Wallet,
    WithdrawalMethod,
)
from mindlinks.platform.api import Page, PageParams
from mindlinks.platform.errors import NotFound
from mindlinks.platform.money import from_minor
from mindlinks.platform.security import Actor

DEFAULT_CURRENCY = "USD"
# Item status -> the seed's history status.
HISTORY_STATUS = {ItemStatus.PAID: "completed", ItemStatus.PENDING: "pending",
                  ItemStatus.FAILED: "failed"}


class ContractorNotFound(NotFound):
    code, title = "contractor_not_found", "Contractor not found"


async def contractor_id_of(session: AsyncSession, actor: Actor) -> uuid.UUID:
    profile = await contractors.profile_by_user(session, actor.user_id)
    if profile is None:
        raise ContractorNotFound("No contractor profile")
    return profile.id


async def available_by_currency(session: AsyncSession,
                                contractor_id: uuid.UUID) -> dict[str, int]:
    rows = await session.execute(select(
        Account.currency, Account.credits_posted - Account.debits_posted - Account.debits_pending)
        .where(Account.owner_type == "contractor", Account.owner_id == contractor_id,
               Account.purpose == Purpose.CONTRACTOR_WALLET))
    return {c: int(v) for c, v in rows}


async def pending_by_currency(session: AsyncSession, contractor_id: uuid.UUID) -> dict[str, int]:
    rows = await session.execute(
        select(InvoiceHold.currency, func.sum(InvoiceHold.amount))
        .where(InvoiceHold.contractor_id == contractor_id, InvoiceHold.status.in_(holds.OPEN))
        .group_by(InvoiceHold.currency))
    return {c: int(v) for c, v in rows}


async def main_currency(session: AsyncSession, contractor_id: uuid.UUID,
                        accounts: list[contractors.BankAccount] | None = None) -> str:
    latest = await session.scalar(
        select(InvoiceHold.currency).where(InvoiceHold.contractor_id == contractor_id)
        .order_by(InvoiceHold.issued_at.desc()).limit(1))
    if latest:
        return latest
    primary = [a for a in accounts or [] if a.is_primary]
    return primary[0].currency if primary and primary[0].currency else DEFAULT_CURRENCY


async def wallet(session: AsyncSession, actor: Actor) -> Wallet:
    contractor_id = await contractor_id_of(session, actor)
    accounts = await contractors.list_bank_accounts(session, actor)
    currency = await main_currency(session, contractor_id, accounts)
    available = await available_by_currency(session, contractor_id)
    pending = await pending_by_currency(session, contractor_id)
    currencies = sorted(set(available) | set(pending) | {currency})
    return Wallet(
        available_balance=from_minor(available.get(currency, 0), currency),
        pending_balance=from_minor(pending.get(currency, 0), currency),
        currency=currency,
        last_withdrawal=await _last_withdrawal(session, contractor_id),
        withdrawal_methods=[WithdrawalMethod(
            id=a.id, type="bank_transfer", bank_name=a.bank_name,
            account_number=contractors.masked(a.account_number_last4 or a.iban_last4),
            is_default=a.is_primary) for a in accounts],
        balances=[CurrencyBalance(currency=c,
                                  available_balance=from_minor(available.get(c, 0), c),
                                  pending_balance=from_minor(pending.get(c, 0), c))
                  for c in currencies])


async def _last_withdrawal(session: AsyncSession,
                           contractor_id: uuid.UUID) -> LastWithdrawal | None:
    row = await withdrawals_repository.latest(session, contractor_id)
    if row is None:
        return None
    return LastWithdrawal(amount=from_minor(row.amount, row.currency),
                          date=(row.completed_at or row.requested_at).date(), status=row.status)


def _description(hold: InvoiceHold) -> str:
    day = hold.period_end or hold.issue_date
    return f"{day:%B %Y} Payment"


async def history(session: AsyncSession, actor: Actor, params: PageParams, *, status: str,
                  contract_id: uuid.UUID | None, start: date | None,
                  end: date | None) -> Page[HistoryRow]:
    contractor_id = await contractor_id_of(session, actor)
    where = [PayrollItem.contractor_id == contractor_id]
    if status != "all":
        where.append(PayrollItem.status == {v: k for k, v in HISTORY_STATUS.items()}[status])
    if contract_id is not None:
        where.append(PayrollItem.contract_id == contract_id)
    when = func.coalesce(PayrollItem.paid_at, PayrollItem.created_at)
    if start is not None:
        where.append(func.date(when) >= start)
    if end is not None:
        where.append(func.date(when) <= end)
    base = select(PayrollItem, InvoiceHold).join(
        InvoiceHold, InvoiceHold.invoice_id == PayrollItem.invoice_id).where(*where)
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    rows = (await session.execute(base.order_by(when.desc(), PayrollItem.id)
                                  .offset(params.offset).limit(params.limit))).all()
    data = [HistoryRow(
        id=item.id, contract_id=item.contract_id, client_name=hold.client_name,
        type="monthly_payment", amount=from_minor(item.amount, item.currency),
        currency=item.currency, status=HISTORY_STATUS[ItemStatus(item.status)],
        paid_at=item.paid_at, invoice_id=item.invoice_id, description=_description(hold))
        for item, hold in rows]
    return Page[HistoryRow].build(data, int(total or 0), params)
