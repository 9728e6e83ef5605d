"""Holds: the money of an issued invoice reserved in the client's escrow (issue 13 §2).

- `invoice.issued` -> a pending transfer (`hold:invoice:{id}`, code `invoice_hold`) from the
  client's escrow to the contractor's wallet: the escrow's available balance drops at once, the
  wallet shows it as pending. If the escrow is short the hold row is `awaiting_funding`, the
  client is told (`payment.funding_required`), and the hold is placed when a deposit lands -
  oldest invoice first, strictly: a newer, smaller invoice never jumps the queue.
- `invoice.cancelled` / `contract.terminated` -> the hold is voided (money back to available).
- The payroll run posts the hold to the wallet (`payroll.py`).

Everything here is idempotent (one hold row per invoice, the book's unique references), so a
redelivered event changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.invoices.models import Invoice
from mindlinks.payments import book
from mindlinks.payments.models import Purpose
from mindlinks.payments.payroll_models import FundingStatus, InvoiceHold
from mindlinks.platform.db import new_id, utcnow
from mindlinks.platform.events import emit
from mindlinks.platform.money import from_minor

HOLD_CODE = "invoice_hold"
OPEN = (FundingStatus.AWAITING_FUNDING, FundingStatus.HELD)


def hold_reference(invoice_id: uuid.UUID) -> str:
    return f"hold:invoice:{invoice_id}"


async def wallet_account(session: AsyncSession, contractor_id: uuid.UUID,
                         currency: str) -> book.Account:
    return await book.account(session, "contractor", contractor_id, Purpose.CONTRACTOR_WALLET,
                              currency)


async def hold_of(session: AsyncSession, invoice_id: uuid.UUID, *,
                  for_update: bool = False) -> InvoiceHold | None:
    query = select(InvoiceHold).where(InvoiceHold.invoice_id == invoice_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def funding_statuses(session: AsyncSession, invoice_ids: list[uuid.UUID]
                           ) -> dict[uuid.UUID, str]:
    """`fundingStatus` of these invoices (those with a hold row), for the invoice responses."""
    rows = await session.execute(select(InvoiceHold.invoice_id, InvoiceHold.status)
                                 .where(InvoiceHold.invoice_id.in_(invoice_ids)))
    return {row.invoice_id: row.status for row in rows}


async def try_hold(session: AsyncSession, row: InvoiceHold) -> bool:
    """Place the pending transfer if the escrow's available balance covers it."""
    escrow = await book.account(session, "client", row.client_id, Purpose.CLIENT_ESCROW,
                                row.currency)
    wallet = await wallet_account(session, row.contractor_id, row.currency)
    try:
        # The overdraft rule is checked before anything is written: a refusal leaves the
        # transaction clean, so no savepoint is needed.
        await book.transfer(session, debit=escrow, credit=wallet, amount=row.amount,
                            code=HOLD_CODE, reference=row.reference, pending=True)
    except book.InsufficientFunds:
        return False
    row.status = FundingStatus.HELD
    await session.flush()
    return True


async def on_invoice_issued(session: AsyncSession, invoice_id: uuid.UUID) -> InvoiceHold:
    existing = await hold_of(session, invoice_id, for_update=True)
    if existing is not None:
        return existing
    # Read-only look at the invoice row for what the event does not carry (the client's name
    # and the period): the wallet and history reads then need no query into invoices.
    invoice = await session.get(Invoice, invoice_id)
    if invoice is None or invoice.issue_date is None or invoice.due_date is None:
        raise LookupError(f"invoice {invoice_id} is not issued")
    row = InvoiceHold(
        id=new_id(), invoice_id=invoice.id, invoice_number=invoice.invoice_number,
        client_id=invoice.client_id, client_user_id=invoice.client_user_id,
        client_name=invoice.client_name[:200], contract_id=invoice.contract_id,
        contractor_id=invoice.contractor_id, contractor_user_id=invoice.contractor_user_id,
        amount=invoice.amount_minor, currency=invoice.currency,
        issue_date=invoice.issue_date, due_date=invoice.due_date,
        period_end=invoice.period_end, issued_at=invoice.issued_at or utcnow(),
        status=FundingStatus.AWAITING_FUNDING, reference=hold_reference(invoice.id))
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:  # a concurrent delivery made it
        found = await hold_of(session, invoice_id)
        assert found is not None
        return found
    # Strictly oldest first: while older invoices of this client wait, this one waits too.
    if not await _older_waiting(session, row) and await try_hold(session, row):
        return row
    await emit(session, "payment.funding_required", {
        "invoiceId": row.invoice_id, "invoiceNumber": row.invoice_number,
        "clientId": row.client_id, "clientUserId": row.client_user_id,
        "userId": row.client_user_id, "contractId": row.contract_id,
        "amount": str(from_minor(row.amount, row.currency)), "amountMinor": row.amount,
        "currency": row.currency})
    return row


async def _older_waiting(session: AsyncSession, row: InvoiceHold) -> bool:
    return await session.scalar(select(InvoiceHold.id).where(
        InvoiceHold.client_id == row.client_id, InvoiceHold.currency == row.currency,
        InvoiceHold.status == FundingStatus.AWAITING_FUNDING, InvoiceHold.id != row.id,
        InvoiceHold.issued_at <= row.issued_at).limit(1)) is not None


async def place_awaiting(session: AsyncSession, client_id: uuid.UUID, currency: str) -> int:
    """After a deposit: hold the waiting invoices, oldest first, until one does not fit."""
    waiting: Sequence[InvoiceHold] = (await session.scalars(
        select(InvoiceHold).where(InvoiceHold.client_id == client_id,
                                  InvoiceHold.currency == currency,
                                  InvoiceHold.status == FundingStatus.AWAITING_FUNDING)
        .order_by(InvoiceHold.issued_at, InvoiceHold.id).with_for_update()
        .execution_options(populate_existing=True))).all()
    placed = 0
    for row in waiting:
        if not await try_hold(session, row):
            break
        placed += 1
    return placed


async def void(session: AsyncSession, row: InvoiceHold) -> bool:
    """Release the hold (or drop the waiting one); a released (paid) hold stays as it is."""
    if row.status == FundingStatus.HELD:
        try:
            await book.void_pending(session, row.reference)
        except book.PendingResolved:
            return False  # posted meanwhile: the invoice was paid
    elif row.status != FundingStatus.AWAITING_FUNDING:
        return False
    row.status = FundingStatus.VOIDED
    await session.flush()
    return True


async def on_invoice_cancelled(session: AsyncSession, invoice_id: uuid.UUID) -> bool:
    row = await hold_of(session, invoice_id, for_update=True)
    return row is not None and await void(session, row)


async def on_contract_terminated(session: AsyncSession, contract_id: uuid.UUID) -> int:
    rows = (await session.scalars(
        select(InvoiceHold).where(InvoiceHold.contract_id == contract_id,
                                  InvoiceHold.status.in_(OPEN))
        .order_by(InvoiceHold.issued_at).with_for_update()
        .execution_options(populate_existing=True))).all()
    return sum([await void(session, row) for row in rows])
