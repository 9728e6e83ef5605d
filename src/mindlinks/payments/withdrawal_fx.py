"""Withdrawals under a fee and FX quote (issue 14 §2 wired into §1; docs/payments.md).

- At the request, `take` uses the quote in the request's transaction (single use; a request
  that fails later rolls the take back, so the quote stays usable): the quote's itemised fee
  replaces the rule's, and a target currency sets what the bank will receive.
- The hold stays in the source currency for the whole `amount`, so a cancel or a failure before
  the payout is paid voids it and gives back exactly what was held - no conversion to undo.
- When the payout is paid (`settle`), the hold is posted; the rule's fee goes to fee revenue;
  the rest is converted at the quote's locked rate with `conversions.convert`: net out of
  in-flight into the source FX liquidity account, the spread to fee revenue, and the target
  amount from the target FX liquidity account to the processor's clearing account in the target
  currency - the payout leaves in the target currency, and each currency sums to zero.
- Paid, then failed (`reverse`): the bank returns the target currency, so the target amount
  comes back to the contractor's wallet in that currency, and every fee (spread included) is
  refunded from fee revenue in the source currency - new, visible transfers.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments import book, conversions, quotes
from mindlinks.payments.models import Purpose
from mindlinks.payments.withdrawals_models import Withdrawal


@dataclass(frozen=True, slots=True)
class QuotedTerms:
    """What a taken quote fixes, in minor units (fees in the source currency)."""

    flat: int
    percent: int
    fx: int
    target_amount: int
    target_currency: str
    rate_scaled: int

    @property
    def total(self) -> int:
        return self.flat + self.percent + self.fx


async def take(session: AsyncSession, *, contractor_id: uuid.UUID, quote_id: uuid.UUID,
               amount: int, currency: str, method_id: uuid.UUID, withdrawal_id: uuid.UUID,
               now: datetime) -> QuotedTerms:
    """Use the quote for this withdrawal (404/409/422 as `quotes.take_quote`)."""
    row = await quotes.take_quote(session, contractor_id=contractor_id, quote_id=quote_id,
                                  amount=amount, currency=currency, method_id=method_id,
                                  now=now, withdrawal_id=withdrawal_id)
    return QuotedTerms(row.fee_flat, row.fee_percent, row.fee_fx, row.target_amount,
                       row.target_currency, row.rate_scaled)


async def _fees_and_wallet(session: AsyncSession, row: Withdrawal,
                           currency: str) -> tuple[book.Account, book.Account]:
    fees = await book.account(session, "platform", None, Purpose.PLATFORM_FEE_REVENUE,
                              row.currency)
    wallet = await book.account(session, "contractor", row.contractor_id,
                                Purpose.CONTRACTOR_WALLET, currency)
    return fees, wallet


async def settle(session: AsyncSession, row: Withdrawal, in_flight: book.Account) -> None:
    """After the hold is posted: the fee and the conversion out of in-flight (see above)."""
    assert row.converted and row.payout_amount and row.payout_currency
    ref = row.hold_reference
    fees, _ = await _fees_and_wallet(session, row, row.currency)
    if rule_fee := row.fee - row.fee_fx:
        await book.transfer(session, debit=in_flight, credit=fees, amount=rule_fee,
                            code="withdrawal_fee", reference=f"{ref}:fee")
    world = await book.account(session, "platform", None, Purpose.PROCESSOR_CLEARING,
                               row.payout_currency)
    await conversions.convert(session, source=in_flight, target=world,
                              converted=row.net_amount, spread=row.fee_fx,
                              target_amount=row.payout_amount, reference=ref)


async def reverse(session: AsyncSession, row: Withdrawal) -> None:
    """Paid, then failed: the target amount back to the wallet in the target currency, every
    fee back in the source currency."""
    assert row.converted and row.payout_amount and row.payout_currency
    ref = row.hold_reference
    world = await book.account(session, "platform", None, Purpose.PROCESSOR_CLEARING,
                               row.payout_currency)
    fees, _ = await _fees_and_wallet(session, row, row.currency)
    _, target_wallet = await _fees_and_wallet(session, row, row.payout_currency)
    _, source_wallet = await _fees_and_wallet(session, row, row.currency)
    await book.transfer(session, debit=world, credit=target_wallet, amount=row.payout_amount,
                        code="withdrawal_reversal", reference=f"{ref}:reversal")
    if row.fee:
        await book.transfer(session, debit=fees, credit=source_wallet, amount=row.fee,
                            code="withdrawal_fee_refund", reference=f"{ref}:fee_refund")
