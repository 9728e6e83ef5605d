"""Tables of the invoices domain (seed 000 table `payment-invoices`).

An invoice is generated from one source - a payment-schedule period (fixed, hourly) or an
approved milestone - named by `source_key` (`schedule:<id>`, `milestone:<id>`, or
`replaces:<id>` for the reissue of a cancelled invoice), which is unique: a job run twice or an
event delivered twice finds the invoice already there. Money is minor units of `currency`.
Contracts, companies and contractors are referenced by id (other domains).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    OVERDUE = "overdue"
    PAID = "paid"
    CANCELLED = "cancelled"


class InvoiceStep(StrEnum):
    """What the overdue job did to an invoice; each is recorded once per invoice."""

    MARKED_OVERDUE = "marked_overdue"
    CLIENT_REMINDED = "client_reminded"


class Invoice(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_invoices"
    __table_args__ = (
        # Numbers are per contractor (and contain the year); NULL until issued.
        UniqueConstraint("contractor_id", "invoice_number"),
        Index("ix_payment_invoices_status_due_date", "status", "due_date"),
    )

    source_key: Mapped[str] = mapped_column(String(80), unique=True)
    contract_id: Mapped[uuid.UUID] = mapped_column(index=True)
    contractor_id: Mapped[uuid.UUID]  # indexed by the unique key it leads
    contractor_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id"))
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)  # the client company
    client_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id"))
    # Names as printed on the PDF when issued: an issued invoice never changes.
    client_name: Mapped[str] = mapped_column(String(200))
    contractor_name: Mapped[str] = mapped_column(String(200))
    contract_title: Mapped[str] = mapped_column(String(200))
    invoice_number: Mapped[str | None] = mapped_column(String(32))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.DRAFT)
    net_terms_days: Mapped[int] = mapped_column(Integer)
    period_start: Mapped[date | None]
    period_end: Mapped[date | None]
    issue_date: Mapped[date | None]
    due_date: Mapped[date | None]
    issued_at: Mapped[datetime | None]
    paid_date: Mapped[date | None]
    paid_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(1000))
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_invoices.id"))
    pdf_key: Mapped[str | None] = mapped_column(String(512))
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))


class InvoiceLine(IdMixin, TimestampMixin, Base):
    """A line of an invoice, pointing at what it bills."""

    __tablename__ = "payment_invoice_lines"

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_invoices.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    description: Mapped[str] = mapped_column(String(300))
    # Hours (or 1 for a period or milestone) in hundredths: exact, and the same on every DB.
    quantity_hundredths: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    milestone_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    timesheet_id: Mapped[uuid.UUID | None] = mapped_column(index=True)


class InvoiceCounter(TimestampMixin, Base):
    """The last number issued to a contractor in a calendar year; locked while issuing."""

    __tablename__ = "payment_invoice_counters"

    contractor_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class InvoiceStepRecord(IdMixin, TimestampMixin, Base):
    """One step a job took on an invoice (`InvoiceStep`), at most once per invoice."""

    __tablename__ = "payment_invoice_steps"
    __table_args__ = (UniqueConstraint("invoice_id", "step"),)

    invoice_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_invoices.id", ondelete="CASCADE")
    )
    step: Mapped[str] = mapped_column(String(40))
    done_at: Mapped[datetime]
