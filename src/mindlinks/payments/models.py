"""Tables of the book (`payment_accounts`, `payment_transfers`) and of deposits.

The book follows TigerBeetle's model: an account keeps four running sums (pending/posted
debits and credits) in integer minor units; a transfer is an immutable row moving `amount`
from its debit account to its credit account of the same currency. The database refuses what
the code must never do (CHECK constraints): a non-positive amount, a transfer from an account to
itself, a negative sum, and a guarded account whose debits (pending counted) exceed its posted
credits - the last one is the backstop of the overdraft rule in `book.transfer`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin

# Platform-owned accounts (fee revenue, FX liquidity, the processor's clearing account) have no
# owner; they are stored under the nil UUID so the unique key also holds for them (NULLs would
# never collide in a UNIQUE constraint).
PLATFORM_OWNER = uuid.UUID(int=0)


class Purpose(StrEnum):
    CLIENT_ESCROW = "client_escrow"
    CONTRACTOR_WALLET = "contractor_wallet"
    WITHDRAWALS_IN_FLIGHT = "withdrawals_in_flight"
    PLATFORM_FEE_REVENUE = "platform_fee_revenue"
    FX_LIQUIDITY = "fx_liquidity"
    PROCESSOR_CLEARING = "processor_clearing"  # "world": where outside money enters and leaves
    ADJUSTMENTS = "adjustments"  # the other side of an admin balance adjustment


# Accounts that stand for money outside the book (or the platform's own balancing positions)
# may go negative; every account holding someone's money may not.
UNGUARDED = frozenset({Purpose.PROCESSOR_CLEARING, Purpose.FX_LIQUIDITY, Purpose.ADJUSTMENTS})


class TransferKind(StrEnum):
    SINGLE = "single"    # posted at once
    PENDING = "pending"  # a hold: reserves funds, moves nothing yet
    POST = "post"        # resolves a pending transfer, posting all or part of it
    VOID = "void"        # resolves a pending transfer, releasing it (also by expiry)


class PendingStatus(StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"
    EXPIRED = "expired"


class Account(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_accounts"
    __table_args__ = (
        UniqueConstraint("owner_type", "owner_id", "purpose", "currency"),
        CheckConstraint("debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
                        "AND credits_posted >= 0", name="sums_not_negative"),
        CheckConstraint("may_go_negative OR debits_pending + debits_posted <= credits_posted",
                        name="guarded_not_overdrawn"),
    )

    owner_type: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[uuid.UUID]
    purpose: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    may_go_negative: Mapped[bool]
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)


_EXPIRING = text("status = 'pending' AND expires_at IS NOT NULL")


class Transfer(IdMixin, TimestampMixin, Base):
    """Immutable, except `status` of a pending transfer (pending -> posted | voided | expired),
    which only records which resolving transfer exists."""

    __tablename__ = "payment_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        Index("ix_payment_transfers_debit", "debit_account_id", "created_at"),
        Index("ix_payment_transfers_credit", "credit_account_id", "created_at"),
        # Only what the expiry job reads (pending, with an expiry): posts and holds without
        # one - all of a payroll's - never touch it (migration 0018).
        Index("ix_payment_transfers_expiry", "expires_at", postgresql_where=_EXPIRING,
              sqlite_where=_EXPIRING),
    )

    reference: Mapped[str] = mapped_column(String(255), unique=True)
    code: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(10))
    debit_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_accounts.id"))
    credit_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    # A post or void names the pending transfer it resolves; unique: one resolution each.
    pending_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment_transfers.id"), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    expires_at: Mapped[datetime | None]


class DepositStatus(StrEnum):
    REQUIRES_PAYMENT = "requires_payment"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


# How far a deposit has got; a webhook never moves a deposit to a lower rank (late or
# out-of-order events), and final states (rank 2) never change. `failed` -> `succeeded` is
# allowed because Stripe lets a client retry a failed PaymentIntent with another card.
DEPOSIT_RANK = {DepositStatus.REQUIRES_PAYMENT: 0, DepositStatus.PROCESSING: 1,
                DepositStatus.FAILED: 1, DepositStatus.SUCCEEDED: 2, DepositStatus.CANCELED: 2}


class Deposit(IdMixin, TimestampMixin, Base):
    """A client's funding of its escrow through the payments provider (one PaymentIntent)."""

    __tablename__ = "payment_deposits"
    __table_args__ = (
        UniqueConstraint("provider", "provider_ref"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_deposits_client_created", "client_id", "created_at"),
    )

    client_id: Mapped[uuid.UUID]  # the client company whose escrow it funds
    requested_by: Mapped[uuid.UUID]  # the user
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=DepositStatus.REQUIRES_PAYMENT)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_transfers.id"))
    failure_reason: Mapped[str | None] = mapped_column(String(500))


class SandboxRecord(IdMixin, TimestampMixin, Base):
    """The sandbox provider's own store of money it moved (Stripe's balance transactions):
    written by the sandbox when it settles a payment, before it tells us by webhook, and read
    back by the reconciliation as the provider's side. Never written by the book."""

    __tablename__ = "payment_sandbox_records"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_sandbox_records_occurred", "occurred_at"),
    )

    record_id: Mapped[str] = mapped_column(String(60), unique=True)  # txn_sandbox_...
    kind: Mapped[str] = mapped_column(String(30))  # deposit | payout | payout_reversal
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(255))  # our book reference
    source_ref: Mapped[str] = mapped_column(String(200))  # pi_... / po_...
    occurred_at: Mapped[datetime]
