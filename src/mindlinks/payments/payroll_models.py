"""Tables of holds, payroll runs and the payroll setting (issue 13 §2 "Holds", §3).

- `payment_invoice_holds`: one row per issued invoice - which pending transfer reserves its
  money in the client's escrow (`hold:invoice:{id}`), or that it is still awaiting funding.
  It also copies the invoice's parties and dates so the wallet, history and earnings reads
  need no query into the invoices domain.
- `payment_payrolls` (seed 002 PAYMENT_PAYROLL): per client company, pay date and currency.
- `payment_payroll_items` (PAYMENT_PAYROLL_ITEMS): one per invoice paid by a run. The money
  moves under the reference `payroll:invoice:{invoiceId}` (per invoice, not per run), so a
  re-run, a concurrent run or a retry in a later run can never pay an invoice twice.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin


class FundingStatus(StrEnum):
    AWAITING_FUNDING = "awaiting_funding"  # escrow was short when the invoice was issued
    HELD = "held"                          # the pending transfer reserves the money
    RELEASED = "released"                  # posted to the contractor's wallet (invoice paid)
    VOIDED = "voided"                      # invoice cancelled or contract terminated


class InvoiceHold(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_invoice_holds"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # The awaiting-funding queue of a client, oldest invoice first.
        Index("ix_payment_invoice_holds_client_status", "client_id", "status", "issued_at"),
        Index("ix_payment_invoice_holds_contractor", "contractor_id", "status"),
        Index("ix_payment_invoice_holds_due", "status", "due_date"),
    )

    invoice_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    invoice_number: Mapped[str | None] = mapped_column(String(40))
    client_id: Mapped[uuid.UUID]
    client_user_id: Mapped[uuid.UUID | None]
    client_name: Mapped[str] = mapped_column(String(200))
    contract_id: Mapped[uuid.UUID] = mapped_column(index=True)
    contractor_id: Mapped[uuid.UUID]
    contractor_user_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[date]
    due_date: Mapped[date]
    period_end: Mapped[date | None]
    issued_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(100))  # of the pending transfer


class PayrollStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PROCESSING = "processing"
    COMPLETED = "completed"
    PARTIALLY_FAILED = "partially_failed"


class ItemStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"


class Payroll(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_payrolls"
    __table_args__ = (
        # One run per client, pay date and currency, however many workers start it.
        UniqueConstraint("client_id", "pay_date", "currency"),
        Index("ix_payment_payrolls_client_date", "client_id", "pay_date"),
        Index("ix_payment_payrolls_status", "status", "pay_date"),
    )

    client_id: Mapped[uuid.UUID]
    pay_date: Mapped[date]
    period: Mapped[str] = mapped_column(String(7))  # "YYYY-MM" of the pay date
    currency: Mapped[str] = mapped_column(String(3))
    contractor_count: Mapped[int] = mapped_column(default=0)
    total_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units
    status: Mapped[str] = mapped_column(String(20), default=PayrollStatus.DRAFT)
    approved_by: Mapped[uuid.UUID | None]
    approved_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class PayrollItem(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_payroll_items"
    __table_args__ = (
        UniqueConstraint("payroll_id", "invoice_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payment_payroll_items_invoice_status", "invoice_id", "status"),
        Index("ix_payment_payroll_items_contractor", "contractor_id", "paid_at"),
    )

    payroll_id: Mapped[uuid.UUID]  # indexed by the unique key it leads
    contractor_id: Mapped[uuid.UUID]
    contract_id: Mapped[uuid.UUID]
    invoice_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default=ItemStatus.PENDING)
    failure_reason: Mapped[str | None] = mapped_column(String(40))
    transfer_id: Mapped[uuid.UUID | None]  # the post that credited the wallet
    paid_at: Mapped[datetime | None]


class PayrollSetting(TimestampMixin, Base):
    """A client company's payroll choice; without a row, runs are approved automatically."""

    __tablename__ = "payment_payroll_settings"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    auto_approve: Mapped[bool] = mapped_column(default=True)
