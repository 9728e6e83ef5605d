"""Admin balance adjustments: a correcting transfer between an account and the platform's
`adjustments` account (never an edit), journalled as a `balance_adjustment` entry with the
admin's id, the amount, the balance before and after, and a SHA-256 of the reason (the reason
itself may name people; the journal can never be erased).

Maker-checker (RELIABILITY 31): an adjustment above `Settings.adjustment_approval_minor` (minor
units of the account's currency) moves nothing at first. It becomes a `pending` request
(`payment_adjustment_requests`, journalled as `balance_adjustment_request`) that another admin
approves - executing it through `_execute`, the immediate adjustment's own path, once: the
request row is locked and its transfer's reference is `adjustment-request:{id}` - or that
anyone rejects; after `adjustment_approval_days` it expires and can no longer be approved."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.ledger import service as ledger
from mindlinks.payments import book
from mindlinks.payments import repository as repo
from mindlinks.payments.adjustments_models import AdjustmentRequest, AdjustmentRequestStatus
from mindlinks.payments.models import Account, Purpose
from mindlinks.payments.schemas import (
    AdjustmentCreate,
    AdjustmentOut,
    AdjustmentRequestOut,
)
from mindlinks.platform import audit
from mindlinks.platform.api import Page, PageParams
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import Conflict, NotFound, PermissionDenied
from mindlinks.platform.money import from_minor, to_minor
from mindlinks.platform.security import Actor
from mindlinks.platform.states import StateMachine

R = AdjustmentRequestStatus
ADJUSTMENT_REQUEST = StateMachine({R.PENDING: {R.APPROVED, R.REJECTED, R.EXPIRED}})
# Settings.adjustment_approval_minor / _days: the defaults when a caller passes none.
DEFAULT_APPROVAL_MINOR = 100_000
DEFAULT_APPROVAL_DAYS = 7
REQUEST_ENTRY = "balance_adjustment_request"


class AdjustmentRequestNotFound(NotFound):
    code, title = "adjustment_request_not_found", "Adjustment request not found"


class SameAdmin(PermissionDenied):
    code, title = "same_admin", "A second admin must approve"


class AdjustmentRequestExpired(Conflict):
    code, title = "adjustment_request_expired", "Adjustment request expired"


def _reason_sha256(reason: str) -> str:
    return hashlib.sha256(reason.encode()).hexdigest()


def _shown_status(row: AdjustmentRequest, now: datetime) -> str:
    if row.status == R.PENDING:
        return R.EXPIRED if row.expires_at <= now else "pending_approval"
    return row.status


def request_out(row: AdjustmentRequest, now: datetime | None = None) -> AdjustmentRequestOut:
    return AdjustmentRequestOut(
        id=row.id, account_id=row.account_id, amount=from_minor(row.amount, row.currency),
        currency=row.currency, reason=row.reason,
        status=_shown_status(row, now or utcnow()),
        requested_by=row.requested_by, decided_by=row.decided_by, decided_at=row.decided_at,
        transfer_id=row.transfer_id, created_at=row.created_at, expires_at=row.expires_at)


async def _target(session: AsyncSession, account_id: uuid.UUID) -> Account:
    target = await repo.account_by_id(session, account_id)
    if target is None or target.purpose == Purpose.ADJUSTMENTS:
        raise book.AccountNotFound("No such account")
    return target


async def _execute(session: AsyncSession, admin: Actor, target: Account, amount: int,
                   reason: str, reference: str,
                   request: AdjustmentRequest | None = None) -> AdjustmentOut:
    """The one path by which an adjustment moves money: the transfer (once per `reference`),
    its `balance_adjustment` journal entry and audit line. Approved on a request, the entry
    names the requester too (`requestedBy`, `requestId`); `adminId` is who executed it."""
    other = await book.account(session, "platform", None, Purpose.ADJUSTMENTS, target.currency)
    debit, credit = (other, target) if amount > 0 else (target, other)
    moved = await book.transfer(session, debit=debit, credit=credit, amount=abs(amount),
                                code="balance_adjustment", reference=reference)
    # Both read under the account's lock, which the transfer took: a balance read before it
    # could miss a concurrent adjustment committed meanwhile, and the journal (which can never
    # be corrected) recorded a false balanceBefore (test_concurrent_adjustments_...).
    after = (await book.balances(session, target)).posted
    before = after - amount
    payload = {
        "adminId": str(admin.user_id), "accountId": str(target.id),
        "transferId": str(moved.id), "amount": amount, "currency": target.currency,
        "balanceBefore": before, "balanceAfter": after, "reasonSha256": _reason_sha256(reason)}
    details = {"transferId": str(moved.id), "amountMinor": amount}
    if request is not None:
        payload |= {"requestId": str(request.id), "requestedBy": str(request.requested_by)}
        details |= {"requestId": str(request.id), "requestedBy": str(request.requested_by)}
    entry = await ledger.append(
        session, entry_type=ledger.EntryType.BALANCE_ADJUSTMENT, entity_type="payment_account",
        entity_id=target.id, payload=payload)
    await audit.record(session, admin, "payments.balance_adjusted", "payment_account",
                       target.id, details)
    return AdjustmentOut(transfer_id=moved.id, account_id=target.id,
                         amount=from_minor(amount, target.currency), currency=target.currency,
                         balance_before=from_minor(before, target.currency),
                         balance_after=from_minor(after, target.currency), ledger_seq=entry.seq)


async def _journal_request(session: AsyncSession, admin: Actor, row: AdjustmentRequest,
                           action: str) -> None:
    await ledger.append(session, entry_type=REQUEST_ENTRY, entity_type="payment_account",
                        entity_id=row.account_id, payload={
                            "requestId": str(row.id), "action": action,
                            "adminId": str(admin.user_id),
                            "requestedBy": str(row.requested_by),
                            "accountId": str(row.account_id), "amount": row.amount,
                            "currency": row.currency,
                            "reasonSha256": _reason_sha256(row.reason)})
    await audit.record(session, admin, f"payments.balance_adjustment.{action}",
                       "payment_adjustment_request", row.id,
                       {"accountId": str(row.account_id), "amountMinor": row.amount,
                        "currency": row.currency})


async def adjust(session: AsyncSession, admin: Actor, account_id: uuid.UUID,
                 body: AdjustmentCreate, idempotency_key: str, *,
                 approval_minor: int = DEFAULT_APPROVAL_MINOR,
                 approval_days: int = DEFAULT_APPROVAL_DAYS
                 ) -> AdjustmentOut | AdjustmentRequestOut:
    """At most `approval_minor` (absolute, minor units of the account's currency): the
    adjustment executes now (`AdjustmentOut`). Above it: a `pending_approval` request that a
    different admin must approve within `approval_days`; nothing moves yet."""
    target = await _target(session, account_id)
    amount = to_minor(body.amount, target.currency)
    if amount == 0 or abs(amount) > book.MAX_AMOUNT:
        raise book.InvalidAmount("An adjustment is a non-zero amount")
    if abs(amount) <= approval_minor:
        return await _execute(session, admin, target, amount, body.reason,
                              reference=f"adjustment:{admin.user_id}:{idempotency_key}")
    now = utcnow()
    row = AdjustmentRequest(
        account_id=target.id, amount=amount, currency=target.currency, reason=body.reason,
        requested_by=admin.user_id, status=R.PENDING, created_at=now, updated_at=now,
        expires_at=now + timedelta(days=approval_days))
    session.add(row)
    await session.flush()
    await _journal_request(session, admin, row, "requested")
    return request_out(row, now)


async def _pending(session: AsyncSession, request_id: uuid.UUID, target: str,
                   now: datetime) -> AdjustmentRequest:
    """The request, locked (a concurrent decision waits here, then sees this one's), if it
    may still go to `target`: 404 unknown, 409 decided or expired."""
    row = await repo.adjustment_request(session, request_id, for_update=True)
    if row is None:
        raise AdjustmentRequestNotFound("No such adjustment request")
    ADJUSTMENT_REQUEST.check(row.status, target,
                             f"This adjustment request is already {row.status}")
    if row.expires_at <= now:
        raise AdjustmentRequestExpired(
            "This adjustment request expired; make the adjustment again")
    return row


async def approve(session: AsyncSession, admin: Actor,
                  request_id: uuid.UUID) -> AdjustmentRequestOut:
    """Execute a pending request, exactly once, on the decision of an admin other than its
    requester (403 `same_admin`). Decided or expired: 409, nothing moves."""
    now = utcnow()
    row = await _pending(session, request_id, R.APPROVED, now)
    if row.requested_by == admin.user_id:
        raise SameAdmin("The admin who requested an adjustment cannot approve it")
    target = await _target(session, row.account_id)
    done = await _execute(session, admin, target, row.amount, row.reason,
                          reference=f"adjustment-request:{row.id}", request=row)
    row.status, row.decided_by, row.decided_at = R.APPROVED, admin.user_id, now
    row.transfer_id = done.transfer_id
    await session.flush()
    await audit.record(session, admin, "payments.balance_adjustment.approved",
                       "payment_adjustment_request", row.id,
                       {"transferId": str(done.transfer_id), "ledgerSeq": done.ledger_seq})
    return request_out(row, now)


async def reject(session: AsyncSession, admin: Actor,
                 request_id: uuid.UUID) -> AdjustmentRequestOut:
    """Refuse a pending request (any admin; its requester withdraws it this way). Nothing
    moves. Decided or expired: 409."""
    now = utcnow()
    row = await _pending(session, request_id, R.REJECTED, now)
    row.status, row.decided_by, row.decided_at = R.REJECTED, admin.user_id, now
    await session.flush()
    await _journal_request(session, admin, row, "rejected")
    return request_out(row, now)


async def list_requests(session: AsyncSession, params: PageParams,
                        status: str) -> Page[AdjustmentRequestOut]:
    now = utcnow()
    rows, total = await repo.adjustment_requests_page(
        session, R.PENDING if status == "pending_approval" else status, now,
        offset=params.offset, limit=params.limit)
    return Page[AdjustmentRequestOut].build([request_out(r, now) for r in rows], total, params)
