"""Subscribers of the payments domain: holds follow the invoices' and contracts' lives; a
requested withdrawal is paid out by the worker."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments import holds, withdrawals_payouts
from mindlinks.platform.events import Event, subscriber


@subscriber("invoice.issued", name="payments.hold_invoice")
async def on_invoice_issued(session: AsyncSession, event: Event) -> None:
    await holds.on_invoice_issued(session, uuid.UUID(str(event.payload["invoiceId"])))


@subscriber("invoice.cancelled", name="payments.void_invoice_hold")
async def on_invoice_cancelled(session: AsyncSession, event: Event) -> None:
    await holds.on_invoice_cancelled(session, uuid.UUID(str(event.payload["invoiceId"])))


@subscriber("contract.terminated", name="payments.void_contract_holds")
async def on_contract_terminated(session: AsyncSession, event: Event) -> None:
    await holds.on_contract_terminated(session, uuid.UUID(str(event.payload["contractId"])))


@subscriber("withdrawal.requested", name="payments.send_payout")
async def on_withdrawal_requested(session: AsyncSession, event: Event) -> None:
    # The provider is called here, in the worker, never in the request (withdrawals.py).
    await withdrawals_payouts.send_payout(session, uuid.UUID(str(event.payload["withdrawalId"])))
