"""Settling withdrawals: the worker's payout call (`send_payout`) and the provider's events
(`apply_payout_event`); see `withdrawals.py` for the whole flow and docs/payments.md."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import service as contractors
from mindlinks.payments import book, payouts, setup
from mindlinks.payments import withdrawals_repository as repo
from mindlinks.payments.models import Purpose
from mindlinks.payments.withdrawals import WITHDRAWAL, S, hold_reference, payload
from mindlinks.payments.withdrawals_models import PayoutDestination, Withdrawal
from mindlinks.platform import webhooks as inbox
from mindlinks.platform.db import Database, discard, utcnow
from mindlinks.platform.errors import Conflict, NotFound
from mindlinks.platform.events import emit
from mindlinks.platform.json_input import parse_json
from mindlinks.platform.security import load_secret_key
from mindlinks.settings import get_settings

log = structlog.get_logger("mindlinks.payments.withdrawals")

async def _accounts(session: AsyncSession, row: Withdrawal) -> dict[str, book.Account]:
    c = row.currency
    return {
        "wallet": await book.account(session, "contractor", row.contractor_id,
                                     Purpose.CONTRACTOR_WALLET, c),
        "in_flight": await book.account(session, "contractor", row.contractor_id,
                                        Purpose.WITHDRAWALS_IN_FLIGHT, c),
        "world": await book.account(session, "platform", None, Purpose.PROCESSOR_CLEARING, c),
        "fees": await book.account(session, "platform", None, Purpose.PLATFORM_FEE_REVENUE, c),
    }


async def _complete(session: AsyncSession, row: Withdrawal) -> None:
    row.status = WITHDRAWAL.check(row.status, S.COMPLETED)
    a = await _accounts(session, row)
    ref = row.hold_reference
    await book.post_pending(session, ref, post_reference=f"{ref}:post")
    await book.transfer(session, debit=a["in_flight"], credit=a["world"],
                        amount=row.net_amount, code="withdrawal_payout", reference=f"{ref}:payout")
    if row.fee:
        await book.transfer(session, debit=a["in_flight"], credit=a["fees"], amount=row.fee,
                            code="withdrawal_fee", reference=f"{ref}:fee")
    row.completed_at = utcnow()
    await session.flush()
    await emit(session, "withdrawal.completed", payload(row))


async def _fail(session: AsyncSession, row: Withdrawal, reason: str) -> None:
    row.status = WITHDRAWAL.check(row.status, S.FAILED)
    await book.void_pending(session, row.hold_reference)
    row.failed_at = utcnow()
    row.failure_reason = reason[:500]
    await session.flush()
    await emit(session, "withdrawal.failed", payload(row, reason=row.failure_reason))


async def _reverse(session: AsyncSession, row: Withdrawal, reason: str) -> None:
    """Paid, then failed: the money comes back in new, visible transfers (the paid ones stay)."""
    row.status = WITHDRAWAL.check(row.status, S.REVERSED)
    a = await _accounts(session, row)
    ref = row.hold_reference
    await book.transfer(session, debit=a["world"], credit=a["wallet"], amount=row.net_amount,
                        code="withdrawal_reversal", reference=f"{ref}:reversal")
    if row.fee:
        await book.transfer(session, debit=a["fees"], credit=a["wallet"], amount=row.fee,
                            code="withdrawal_fee_refund", reference=f"{ref}:fee_refund")
    row.reversed_at = utcnow()
    row.failure_reason = reason[:500]
    await session.flush()
    await emit(session, "withdrawal.reversed", payload(row, reason=row.failure_reason))


async def _save_destination(session: AsyncSession, provider: str, row: Withdrawal,
                            external_ref: str) -> None:
    dest = PayoutDestination(id=uuid.uuid4(), provider=provider,
                             bank_account_id=row.bank_account_id,
                             contractor_id=row.contractor_id, external_ref=external_ref[:200])
    try:
        async with session.begin_nested():
            session.add(dest)
            await session.flush()
    except IntegrityError:  # another worker saved it first
        discard(session, dest)


async def send_payout(session: AsyncSession, withdrawal_id: uuid.UUID) -> str:
    """The worker's step (idempotent, at-least-once): hand a pending withdrawal to the payout
    provider. Returns what it did (for logs and tests).

    This commits once, on purpose - the only place in the domain that does: `processing` (and
    everything the call needs, read under the row lock) is committed before the provider is
    called, so from then on the contractor cannot cancel a withdrawal the provider may already
    be paying, and no transaction - no row lock, no SQLite write lock - is open during the
    call. The answer is then recorded under the lock again."""
    row = await repo.by_id_for_update(session, withdrawal_id)
    if row is None:
        return "missing"
    provider = payouts.of(session)
    if row.status == S.PENDING:
        row.status = WITHDRAWAL.check(row.status, S.PROCESSING)
        row.processing_at = utcnow()
        row.provider = provider.name
        await session.flush()
    if row.status != S.PROCESSING or row.provider_payout_ref:
        return f"skipped ({row.status})"
    try:
        account = await contractors.payout_account(session, row.contractor_id,
                                                   row.bank_account_id)
    except (NotFound, Conflict) as exc:  # deleted, unverified or under review meanwhile
        await _fail(session, row, f"The bank account can no longer be paid: {exc}")
        return "failed"
    dest = await repo.destination(session, provider.name, row.bank_account_id)
    request = payouts.PayoutRequest(
        withdrawal_id=row.id, idempotency_key=hold_reference(row.id), amount=row.net_amount,
        currency=row.currency, contractor_id=row.contractor_id, bank_account_id=account.id,
        account_holder_name=account.account_holder_name, country=account.country,
        bank_currency=account.currency, iban=account.iban,
        account_number=account.account_number, routing_number=account.routing_number,
        connected_account=dest.external_ref if dest else None)
    await session.commit()
    try:
        result = await provider.create_payout(request)
    except payouts.PayoutRefused as exc:
        row = await repo.by_id_for_update(session, withdrawal_id)
        if row is not None and row.status == S.PROCESSING and not row.provider_payout_ref:
            await _fail(session, row, exc.reason)
        return "failed"
    if get_settings().env != "production":
        payouts.pause_after_call_hook()
    row = await repo.by_id_for_update(session, withdrawal_id)
    if row is None:
        return "missing"
    if result.connected_account and dest is None:
        await _save_destination(session, provider.name, row, result.connected_account)
    # The provider's event may have recorded the payout (and moved on) during the call.
    if row.provider_payout_ref in (None, result.payout_ref[:200]):
        row.provider_payout_ref = result.payout_ref[:200]
        row.provider_transfer_ref = row.provider_transfer_ref or (
            result.transfer_ref[:200] if result.transfer_ref else None)
    await session.flush()
    log.info("payout_sent", withdrawal_id=str(row.id), provider=provider.name)
    return "sent"


PAID, FAILED_EVENTS = "payout.paid", ("payout.failed", "payout.canceled")


async def apply_payout_event(session: AsyncSession, event: inbox.WebhookEvent) -> str:
    """Apply a stored `payout.*` event (payments/webhooks.py). Never moves a withdrawal
    backwards: `failed` before `paid` stays failed; `paid` then `failed` is reversed."""
    if event.kind != PAID and event.kind not in FAILED_EVENTS:
        event.note = "event type not used"
        return inbox.Status.IGNORED
    payout: dict[str, Any] = parse_json(event.raw_body)["data"]["object"]
    try:
        withdrawal_id = uuid.UUID(str((payout.get("metadata") or {}).get("withdrawalId")))
    except ValueError:
        event.note = "payout without a withdrawalId"
        return inbox.Status.IGNORED
    row = await repo.by_id_for_update(session, withdrawal_id)
    if row is None:
        event.note = "no withdrawal has this id (yet)"
        return inbox.Status.PARKED
    event.subject_id, event.owner_id = row.id, row.contractor_id
    payout_ref = str(payout.get("id") or "")
    if (row.provider not in (None, event.provider)) or (
            row.provider_payout_ref not in (None, payout_ref)):
        event.note = "the payout is not this withdrawal's"
        return inbox.Status.IGNORED
    if (payout.get("amount"), str(payout.get("currency", "")).upper()) != (
            row.net_amount, row.currency):
        event.note = f"amount {payout.get('amount')} differs from {row.net_amount}"[:500]
        return inbox.Status.PARKED
    if row.status in (S.PENDING, S.PROCESSING) and row.provider_payout_ref is None:
        # The worker's commit after the call was lost: the payout exists, record it.
        if row.status == S.PENDING:
            row.status = WITHDRAWAL.check(row.status, S.PROCESSING)
            row.processing_at = utcnow()
        row.provider = event.provider
        row.provider_payout_ref = payout_ref[:200]
    reason = str(payout.get("failure_message") or payout.get("failure_code")
                 or "The bank returned the payout")
    if event.kind == PAID and row.status == S.PROCESSING:
        await _complete(session, row)
    elif event.kind in FAILED_EVENTS and row.status == S.PROCESSING:
        await _fail(session, row, reason)
    elif event.kind == "payout.failed" and row.status == S.COMPLETED:
        await _reverse(session, row, reason)
    else:
        event.note = f"no change: withdrawal {row.status}, event {event.kind}"[:500]
        return inbox.Status.IGNORED
    return inbox.Status.HANDLED


STUCK_AFTER = timedelta(hours=1)


async def resend_stuck(db: Database, now: datetime | None = None) -> int:
    """Daily job: withdrawals that have waited over an hour without a payout reference (the
    worker's deliveries gave up while the provider was down) are sent again - with the same
    idempotency key, so a payout the provider did make is returned, not repeated. One
    transaction each; the number sent."""
    cutoff = (now or utcnow()) - STUCK_AFTER
    if payouts.installed_on(db) is None:  # `mindlinks jobs run`: a bare database
        settings = get_settings()
        setup.install_payouts(db, settings, load_secret_key(settings))
    async with db.session() as s:
        ids = await repo.stuck(s, cutoff)
    sent = 0
    for withdrawal_id in ids:
        async with db.session() as s:
            sent += await send_payout(s, withdrawal_id) == "sent"
    return sent
