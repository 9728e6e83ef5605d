"""What a client sees of its payroll runs: list, detail, CSV export, approve, the setting,
and the funding status of its invoices. Another company's run is 404 `payroll_not_found`."""

from __future__ import annotations

import csv
import io
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import service as clients
from mindlinks.payments import payroll as runs
from mindlinks.payments.payroll_models import InvoiceHold, Payroll, PayrollItem
from mindlinks.payments.payroll_schemas import (
    FundingOut,
    PayrollDetail,
    PayrollItemOut,
    PayrollOut,
)
from mindlinks.platform import audit
from mindlinks.platform.api import Page, PageParams
from mindlinks.platform.errors import NotFound
from mindlinks.platform.money import from_minor
from mindlinks.platform.security import Actor

MAX_EXPORT_ROWS = 100_000


class InvoiceHoldNotFound(NotFound):
    code = "invoice_not_found"


class PayrollNotFound(NotFound):
    code = "payroll_not_found"


def payroll_out(row: Payroll) -> PayrollOut:
    return PayrollOut(id=row.id, period=row.period, pay_date=row.pay_date,
                      contractor_count=row.contractor_count,
                      total_amount=from_minor(row.total_amount, row.currency),
                      currency=row.currency, status=row.status, approved_at=row.approved_at,
                      completed_at=row.completed_at, created_at=row.created_at)


def item_out(row: PayrollItem) -> PayrollItemOut:
    return PayrollItemOut(id=row.id, contractor_id=row.contractor_id, contract_id=row.contract_id,
                          invoice_id=row.invoice_id, amount=from_minor(row.amount, row.currency),
                          currency=row.currency, status=row.status,
                          failure_reason=row.failure_reason, paid_at=row.paid_at)


async def _company(session: AsyncSession, actor: Actor) -> uuid.UUID:
    return (await clients.own_company(session, actor)).id


async def own(session: AsyncSession, actor: Actor, payroll_id: uuid.UUID) -> Payroll:
    row = await session.scalar(select(Payroll).where(
        Payroll.id == payroll_id, Payroll.client_id == await _company(session, actor))
        .execution_options(populate_existing=True))
    if row is None:
        raise PayrollNotFound("No such payroll")
    return row


async def list_payrolls(session: AsyncSession, actor: Actor,
                        params: PageParams) -> Page[PayrollOut]:
    client_id = await _company(session, actor)
    total = await session.scalar(select(func.count()).select_from(Payroll)
                                 .where(Payroll.client_id == client_id))
    rows = (await session.scalars(select(Payroll).where(Payroll.client_id == client_id)
                                  .order_by(Payroll.pay_date.desc(), Payroll.id)
                                  .offset(params.offset).limit(params.limit))).all()
    return Page[PayrollOut].build([payroll_out(r) for r in rows], int(total or 0), params)


async def _items(session: AsyncSession, payroll_id: uuid.UUID,
                 limit: int) -> list[PayrollItem]:
    return list((await session.scalars(select(PayrollItem)
                                       .where(PayrollItem.payroll_id == payroll_id)
                                       .order_by(PayrollItem.created_at, PayrollItem.id)
                                       .limit(limit))).all())


async def detail(session: AsyncSession, actor: Actor, payroll_id: uuid.UUID,
                 item_limit: int = 1000) -> PayrollDetail:
    row = await own(session, actor, payroll_id)
    items = await _items(session, row.id, item_limit)
    return PayrollDetail(**payroll_out(row).model_dump(), items=[item_out(i) for i in items])


async def export_csv(session: AsyncSession, actor: Actor, payroll_id: uuid.UUID) -> str:
    row = await own(session, actor, payroll_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["itemId", "contractorId", "contractId", "invoiceId", "amount", "currency",
                     "status", "failureReason", "paidAt"])
    for i in await _items(session, row.id, MAX_EXPORT_ROWS):
        writer.writerow([i.id, i.contractor_id, i.contract_id, i.invoice_id,
                         from_minor(i.amount, i.currency), i.currency, i.status,
                         i.failure_reason or "", i.paid_at.isoformat() if i.paid_at else ""])
    return out.getvalue()


async def approve(session: AsyncSession, actor: Actor, payroll_id: uuid.UUID) -> PayrollDetail:
    row = await own(session, actor, payroll_id)
    await runs.approve(session, row, actor.user_id)
    await audit.record(session, actor, "payments.payroll.approved", "payment_payroll", row.id,
                       {"totalAmountMinor": row.total_amount, "currency": row.currency})
    return await detail(session, actor, payroll_id)


async def set_auto_approve(session: AsyncSession, actor: Actor, value: bool) -> bool:
    await runs.set_auto_approve(session, await _company(session, actor), value)
    return value


async def auto_approve(session: AsyncSession, actor: Actor) -> bool:
    return await runs.auto_approve(session, await _company(session, actor))


async def funding(session: AsyncSession, actor: Actor, invoice_id: uuid.UUID) -> FundingOut:
    hold = await session.scalar(select(InvoiceHold).where(
        InvoiceHold.invoice_id == invoice_id,
        InvoiceHold.client_id == await _company(session, actor)))
    if hold is None:
        raise InvoiceHoldNotFound("No such invoice")
    return FundingOut(invoice_id=hold.invoice_id, invoice_number=hold.invoice_number,
                      amount=from_minor(hold.amount, hold.currency), currency=hold.currency,
                      due_date=hold.due_date, funding_status=hold.status)
