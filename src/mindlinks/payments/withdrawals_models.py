"""Tables of withdrawals (seed 000 table `payment-withdrawals`) and of the payout provider's
destinations.

- `payment_withdrawals`: one row per request. The money is in the book, never here: the row
  names the pending transfer (`withdrawal:{id}`) that holds it in the contractor's in-flight
  account and copies what the answer shows (bank name, last 4 digits) so a read needs no query
  into contractors. `amount` is what leaves the wallet; `fee + net_amount = amount`.
- `payment_payout_destinations`: the provider's account for one bank account (Stripe Connect's
  connected account `acct_...`), created on the first payout to it and reused after.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin


class WithdrawalStatus(StrEnum):
    PENDING = "pending"        # held, waiting for the worker; the contractor may cancel
    PROCESSING = "processing"  # handed to the payout provider
    COMPLETED = "completed"    # the provider paid it out
    FAILED = "failed"          # the provider refused or failed it before paying: hold voided
    CANCELLED = "cancelled"    # cancelled by the contractor while pending: hold voided
    REVERSED = "reversed"      # paid, then reported failed: a correcting transfer returned it


class WithdrawalMethodType(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    PAYPAL = "paypal"
    WISE = "wise"


class Withdrawal(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_withdrawals"
    __table_args__ = (
        CheckConstraint("amount > 0 AND fee >= 0 AND net_amount > 0 "
                        "AND fee + net_amount = amount", name="amounts_add_up"),
        UniqueConstraint("provider", "provider_payout_ref"),
        Index("ix_payment_withdrawals_contractor_created", "contractor_id", "created_at"),
        Index("ix_payment_withdrawals_status", "status", "created_at"),
    )

    contractor_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]  # the contractor's user account (notifications)
    bank_account_id: Mapped[uuid.UUID]  # contractors' bank account (bankDetailsId)
    method_type: Mapped[str] = mapped_column(String(20))
    bank_name: Mapped[str] = mapped_column(String(200))
    account_last4: Mapped[str | None] = mapped_column(String(4))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units, leaves the wallet
    fee: Mapped[int] = mapped_column(BigInteger)
    fee_flat: Mapped[int] = mapped_column(BigInteger)
    fee_percent: Mapped[int] = mapped_column(BigInteger)
    net_amount: Mapped[int] = mapped_column(BigInteger)  # what the bank account receives
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=WithdrawalStatus.PENDING)
    estimated_arrival: Mapped[date]
    hold_reference: Mapped[str] = mapped_column(String(100), unique=True)
    quote_id: Mapped[uuid.UUID | None]  # an FX quote it was made under (issue 14 §2)
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_transfer_ref: Mapped[str | None] = mapped_column(String(200))  # stripeTransferId
    provider_payout_ref: Mapped[str | None] = mapped_column(String(200))  # stripePayoutId
    requested_at: Mapped[datetime]
    processing_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    reversed_at: Mapped[datetime | None]
    failure_reason: Mapped[str | None] = mapped_column(String(500))


class PayoutDestination(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_payout_destinations"
    __table_args__ = (UniqueConstraint("provider", "bank_account_id"),)

    provider: Mapped[str] = mapped_column(String(20))
    bank_account_id: Mapped[uuid.UUID]
    contractor_id: Mapped[uuid.UUID] = mapped_column(index=True)
    external_ref: Mapped[str] = mapped_column(String(200))  # acct_...
