"""Withdrawals: a contractor's money out of the wallet to their bank (issue 14 §1).

Flow (docs/payments.md "Withdrawals"):
1. `request_withdrawal` (the POST, under a required Idempotency-Key) checks, each a 4xx with
   nothing changed: KYC verified; a method type with a payout provider; the contractor's own
   verified bank account without a name mismatch; at most the currency's decimals; a currency
   the contractor holds; at least the country rule's minimum and more than the fee. Then one
   pending transfer `withdrawal:{id}` wallet -> the contractor's in-flight account (the hold:
   the book refuses it, 422 `insufficient_funds`, unless the wallet's available balance - other
   withdrawals in flight counted - covers it, under a row lock), the row (`pending`) and
   `withdrawal.requested` in the outbox - all in the request's transaction.
2. The worker (`withdrawals_payouts.send_payout`, subscriber of `withdrawal.requested`) marks
   it `processing` and commits that before calling the payout provider, with `withdrawal:{id}`
   as idempotency key; then it records the provider's references. A worker killed in between
   leaves `processing` without references; the redelivered event calls again with the same key
   and gets the first payout back: never lost, never sent twice. From `processing` on, cancel
   is refused.
3. The provider's signed events (`withdrawals_payouts.apply_payout_event`): `payout.paid` posts
   the hold and moves the net amount out to the processor's clearing account and the fee to fee
   revenue (`completed`, `withdrawal.completed`); `payout.failed`/`payout.canceled` voids the
   hold at once (`failed`); `payout.failed` after `paid` returns the money with visible
   correcting transfers (`reversed`). Late, repeated or out-of-order events never move a
   withdrawal backwards.
Nothing in the book is edited: every correction is a new transfer.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import structlog
from babel.numbers import is_currency
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import service as contractors
from mindlinks.countries import service as countries
from mindlinks.kyc import service as kyc
from mindlinks.payments import book, fees, payouts, quotes, withdrawal_fx
from mindlinks.payments import withdrawals_repository as repo
from mindlinks.payments.models import Purpose
from mindlinks.payments.wallet import ContractorNotFound, contractor_id_of
from mindlinks.payments.withdrawals_models import (
    Withdrawal,
    WithdrawalStatus,
)
from mindlinks.payments.withdrawals_schemas import (
    WithdrawalCreate,
    WithdrawalMethodOut,
    WithdrawalOut,
)
from mindlinks.platform import audit
from mindlinks.platform.api import Page, PageParams
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import NotFound, TooManyRequests, ValidationFailed
from mindlinks.platform.events import outbox_rows
from mindlinks.platform.money import from_minor, to_minor
from mindlinks.platform.security import Actor
from mindlinks.platform.states import StateMachine

log = structlog.get_logger("mindlinks.payments.withdrawals")

S = WithdrawalStatus
WITHDRAWAL = StateMachine({
    S.PENDING: {S.PROCESSING, S.CANCELLED, S.FAILED},
    S.PROCESSING: {S.COMPLETED, S.FAILED},
    S.COMPLETED: {S.REVERSED},
})
HOLD_CODE = "withdrawal"


class WithdrawalNotFound(NotFound):
    code, title = "withdrawal_not_found", "Withdrawal not found"


class MethodUnavailable(ValidationFailed):
    code, title = "method_unavailable", "Withdrawal method not available"


class CurrencyNotHeld(ValidationFailed):
    code, title = "currency_not_held", "No balance in this currency"


class UnsupportedWithdrawalCurrency(ValidationFailed):
    code, title = "unsupported_currency", "Unsupported currency"


class WithdrawalLimitExceeded(TooManyRequests):
    code, title = "withdrawal_limit_exceeded", "Too many withdrawals today"


# Settings.withdrawals_per_day: the default when a caller passes none.
DEFAULT_PER_DAY = 20


class AmountBelowMinimum(ValidationFailed):
    code, title = "amount_below_minimum", "Amount below the minimum withdrawal"


class QuoteRequired(ValidationFailed):
    code, title = "quote_required", "A quote is required for this currency"


def hold_reference(withdrawal_id: uuid.UUID) -> str:
    return f"withdrawal:{withdrawal_id}"


def out(row: Withdrawal) -> WithdrawalOut:
    c = row.currency
    return WithdrawalOut(
        id=row.id, amount=from_minor(row.amount, c), currency=c,
        fee=from_minor(row.fee, c), net_amount=from_minor(row.net_amount, c),
        status=row.status, estimated_arrival=row.estimated_arrival,
        withdrawal_method=WithdrawalMethodOut(
            type=row.method_type, bank_name=row.bank_name,
            account_number=f"****{row.account_last4}" if row.account_last4 else None),
        created_at=row.created_at, requested_at=row.requested_at,
        completed_at=row.completed_at, failure_reason=row.failure_reason,
        quote_id=row.quote_id, target_amount=from_minor(row.payout_minor, row.payout_in),
        target_currency=row.payout_in)


def payload(row: Withdrawal, **extra: Any) -> dict[str, Any]:
    """Ids and amounts only (docs/events.md)."""
    return {"withdrawalId": row.id, "userId": row.user_id, "contractorId": row.contractor_id,
            "amount": str(from_minor(row.amount, row.currency)), "amountMinor": row.amount,
            "netAmount": str(from_minor(row.net_amount, row.currency)),
            "fee": str(from_minor(row.fee, row.currency)), "currency": row.currency, **extra}


def _rule(facts: dict[str, Any]) -> countries.RuleView:
    return countries.active_rule_of(quotes.payout_country(facts["country"]), facts)


def fee_and_minimum(rule: countries.RuleView, amount: int,
                    currency: str) -> tuple[fees.WithdrawalFee, int]:
    """The fee of `amount` and the minimum, both in `currency`'s minor units. The rule's flat
    fee and minimum are in its fee currency: another currency needs a quote to convert them
    (issue 14 §2 wires `quoteId` in here)."""
    if currency != rule.fee_currency:
        raise QuoteRequired(f"Withdrawals in {currency} need a quote: the fee and minimum are "
                            f"set in {rule.fee_currency}")
    return fees.withdrawal_fee(rule, amount), rule.min_withdrawal


async def request_withdrawal(session: AsyncSession, actor: Actor, body: WithdrawalCreate, *,
                             per_day: int = DEFAULT_PER_DAY) -> WithdrawalOut:
    """Hold the amount and record a `pending` withdrawal, or raise a 4xx having changed
    nothing. The amount leaves the available balance at once; the payout happens in the
    worker after commit (`withdrawal.requested`)."""
    # Every read in one statement (one round trip): the profile, the bank account, the
    # country rule, and the wallet's row lock with its sums and the newPayoutAccount flag -
    # the lock held to the commit. The checks below go in their documented order on what it
    # read; each fails the request (the transaction, the lock with it, rolls back).
    reads = await repo.request_reads(session, actor.user_id, body.withdrawal_method_id,
                                     body.currency)
    if reads is None:
        raise ContractorNotFound("No contractor profile")
    facts = reads.facts
    contractor_id = facts["contractor_id"]
    # kyc's gate reads this same column (the profile's kycStatus, written only by kyc).
    if facts["kyc_status"] != "verified":
        raise kyc.KycRequired("Identity verification required")
    provider = payouts.of(session)
    if body.method_type not in provider.methods:
        raise MethodUnavailable(f"Withdrawals by {body.method_type} are not available")
    account = contractors.payout_account_of(facts)
    currency = body.currency
    if not is_currency(currency):
        raise UnsupportedWithdrawalCurrency(f"{currency} is not a currency")
    amount = to_minor(body.amount, currency)  # 422 too_many_decimals
    held, paid_before = reads.locked, reads.paid_before
    if (wallet := held.get(Purpose.CONTRACTOR_WALLET)) is None:
        raise CurrencyNotHeld(f"You hold no {currency}")
    rule = _rule(facts)
    withdrawal_id = uuid.uuid4()
    now = utcnow()
    quoted: withdrawal_fx.QuotedTerms | None = None
    if body.quote_id is not None:
        # Taken in this transaction: its itemised fee replaces the rule's (the minimum was
        # checked when it was priced); if anything below fails, the take rolls back too.
        quoted = await withdrawal_fx.take(
            session, contractor_id=contractor_id, quote_id=body.quote_id, amount=amount,
            currency=currency, method_id=account.id, withdrawal_id=withdrawal_id, now=now)
        fee = fees.WithdrawalFee(flat=quoted.flat, percent=quoted.percent)
        fee_fx, minimum = quoted.fx, 0
    else:
        fee, minimum = fee_and_minimum(rule, amount, currency)
        fee_fx = 0
    fee_total = fee.total + fee_fx
    if amount < minimum or fee_total >= amount:
        raise AmountBelowMinimum(
            f"The minimum withdrawal is {from_minor(max(minimum, fee_total + 1), currency)} "
            f"{currency}")
    if amount > book.MAX_AMOUNT:
        raise book.InvalidAmount("Amount too large")
    if (in_flight := held.get(Purpose.WITHDRAWALS_IN_FLIGHT)) is None:
        # The first withdrawal in this currency. Created (or found, committed by a request
        # that held the wallet's lock before this one) under the wallet's lock, with an id
        # after the wallet's: every transfer locks the two in id order, wallet first, the
        # order in which this request takes them (the in-flight row by the hold's UPDATE).
        created = await book.account(session, "contractor", contractor_id,
                                     Purpose.WITHDRAWALS_IN_FLIGHT, currency,
                                     sorts_after=wallet.id)
        in_flight = book.LockedSums(created.id, created.currency, created.may_go_negative,
                                    0, 0, 0)  # a credit: its sums are not read
    shown = account.last4
    converted = quoted is not None and quoted.target_currency != currency
    row = Withdrawal(
        id=withdrawal_id, contractor_id=contractor_id, user_id=actor.user_id,
        bank_account_id=account.id, method_type=body.method_type,
        bank_name=account.bank_name[:200], account_last4=shown, amount=amount,
        fee=fee_total, fee_flat=fee.flat, fee_percent=fee.percent, fee_fx=fee_fx,
        net_amount=amount - fee_total, currency=currency, status=S.PENDING,
        payout_amount=quoted.target_amount if quoted and converted else None,
        payout_currency=quoted.target_currency if quoted and converted else None,
        rate_scaled=quoted.rate_scaled if quoted and converted else None,
        estimated_arrival=fees.estimated_arrival(now, rule),
        hold_reference=hold_reference(withdrawal_id), quote_id=body.quote_id,
        requested_at=now, created_at=now, updated_at=now)
    # The overdraft rule, checked against the sums read under the lock before anything is
    # written (422 insufficient_funds); then every write of the request in one round trip on
    # PostgreSQL: the hold (transfer + sums), the row, `withdrawal.requested` in the outbox
    # and the audit line - prebuilt Core statements with bound rows, no ORM flush.
    hold = book.hold_params(wallet, in_flight, amount=amount, code=HOLD_CODE,
                            reference=row.hold_reference, now=now)
    [event], deliveries = outbox_rows(session, "withdrawal.requested", [payload(
        row, newPayoutAccount=not paid_before, accountLast4=shown)])
    [audit_row] = audit.rows(
        actor, "payments.withdrawal.requested", "payment_withdrawal", [(row.id, {
            "amountMinor": amount, "currency": currency, "feeMinor": fee_total,
            "quoteId": str(body.quote_id) if body.quote_id else None})])
    # Velocity (RELIABILITY 32), counted while the wallet's row is locked: concurrent
    # requests of the same contractor count one after the other, so the limit is exact on
    # PostgreSQL too (the count's statement starts after the lock was granted, so it sees
    # every withdrawal committed before). Refused, the request's transaction rolls back.
    day = timedelta(days=1)
    recent, oldest = await repo.write_request(session, repo.request_params(
        row, hold, event, deliveries, audit_row, now - day),
        len(deliveries))
    if recent >= per_day:
        wait = (oldest + day - now).total_seconds() if oldest else day.total_seconds()
        raise WithdrawalLimitExceeded(
            f"At most {per_day} withdrawals in 24 hours; try again later",
            retry_after=int(wait) + 1)
    return out(row)


async def list_withdrawals(session: AsyncSession, actor: Actor, params: PageParams,
                           status: str) -> Page[WithdrawalOut]:
    contractor_id = await contractor_id_of(session, actor)
    rows, total = await repo.page(session, contractor_id, status, offset=params.offset,
                                  limit=params.limit)
    return Page[WithdrawalOut].build([out(r) for r in rows], total, params)


async def get_withdrawal(session: AsyncSession, actor: Actor,
                         withdrawal_id: uuid.UUID) -> WithdrawalOut:
    row = await repo.own(session, await contractor_id_of(session, actor), withdrawal_id)
    if row is None:
        raise WithdrawalNotFound("No such withdrawal")
    return out(row)


async def cancel(session: AsyncSession, actor: Actor, withdrawal_id: uuid.UUID) -> WithdrawalOut:
    """Cancel a `pending` withdrawal: the hold is voided, the money available again at once.
    Cancelling a cancelled one answers it again; any other state is 409
    `invalid_transition` (the payout was handed to the provider)."""
    row = await repo.own(session, await contractor_id_of(session, actor), withdrawal_id,
                         for_update=True)
    if row is None:
        raise WithdrawalNotFound("No such withdrawal")
    if row.status == S.CANCELLED:
        return out(row)
    row.status = WITHDRAWAL.check(row.status, S.CANCELLED,
                                  f"A {row.status} withdrawal cannot be cancelled")
    await book.void_pending(session, row.hold_reference)
    row.cancelled_at = utcnow()
    await session.flush()
    await audit.record(session, actor, "payments.withdrawal.cancelled", "payment_withdrawal",
                       row.id, {"amountMinor": row.amount, "currency": row.currency})
    return out(row)
