"""Admin balance adjustments: a correcting transfer between an account and the platform's
`adjustments` account (never an edit), journalled as a `balance_adjustment` entry with the
admin's id, the amount, the balance before and after, and a SHA-256 of the reason (the reason
itself may name people; the journal can never be erased)."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.ledger import service as ledger
from mindlinks.payments import book
from mindlinks.payments import repository as repo
from mindlinks.payments.models import Purpose
from mindlinks.payments.schemas import AdjustmentCreate, AdjustmentOut
from mindlinks.platform import audit
from mindlinks.platform.money import from_minor, to_minor
from mindlinks.platform.security import Actor


async def adjust(session: AsyncSession, admin: Actor, account_id: uuid.UUID,
                 body: AdjustmentCreate, idempotency_key: str) -> AdjustmentOut:
    target = await repo.account_by_id(session, account_id)
    if target is None or target.purpose == Purpose.ADJUSTMENTS:
        raise book.AccountNotFound("No such account")
    amount = to_minor(body.amount, target.currency)
    if amount == 0 or abs(amount) > book.MAX_AMOUNT:
        raise book.InvalidAmount("An adjustment is a non-zero amount")
    other = await book.account(session, "platform", None, Purpose.ADJUSTMENTS, target.currency)
    debit, credit = (other, target) if amount > 0 else (target, other)
    moved = await book.transfer(session, debit=debit, credit=credit, amount=abs(amount),
                                code="balance_adjustment",
                                reference=f"adjustment:{admin.user_id}:{idempotency_key}")
    # Both read under the account's lock, which the transfer took: a balance read before it
    # could miss a concurrent adjustment committed meanwhile, and the journal (which can never
    # be corrected) recorded a false balanceBefore (test_concurrent_adjustments_...).
    after = (await book.balances(session, target)).posted
    before = after - amount
    entry = await ledger.append(
        session, entry_type=ledger.EntryType.BALANCE_ADJUSTMENT, entity_type="payment_account",
        entity_id=target.id, payload={
            "adminId": str(admin.user_id), "accountId": str(target.id),
            "transferId": str(moved.id), "amount": amount, "currency": target.currency,
            "balanceBefore": before, "balanceAfter": after,
            "reasonSha256": hashlib.sha256(body.reason.encode()).hexdigest()})
    await audit.record(session, admin, "payments.balance_adjusted", "payment_account",
                       target.id, {"transferId": str(moved.id), "amountMinor": amount})
    return AdjustmentOut(transfer_id=moved.id, account_id=target.id,
                         amount=from_minor(amount, target.currency), currency=target.currency,
                         balance_before=from_minor(before, target.currency),
                         balance_after=from_minor(after, target.currency), ledger_seq=entry.seq)
