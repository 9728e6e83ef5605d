"""Tables of the contracts domain: templates, contracts, milestones, signatures, payment schedule.

Seed tables `contract-templates`, `contract-contracts` and CONTRACT_MILESTONES (seed 002 §4).
Money is kept in minor units of the contract's currency. Client companies and contractor
profiles are referenced by id (other domains), users by FK to `auth_users`.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin
from mindlinks.platform.orphans import register_file_columns


class ContractType(StrEnum):
    FIXED = "fixed"
    HOURLY = "hourly"
    MILESTONE = "milestone"


class ContractModel(StrEnum):
    DIRECT = "direct"
    EOR = "eor"


class Frequency(StrEnum):
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class ContractStatus(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    CLIENT_SIGNED = "client_signed"
    CONTRACTOR_SIGNED = "contractor_signed"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    CANCELLED = "cancelled"


class SignerRole(StrEnum):
    CLIENT = "client"
    CONTRACTOR = "contractor"


class MilestoneStatus(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class ContractTemplate(IdMixin, TimestampMixin, Base):
    __tablename__ = "contract_templates"
    __table_args__ = (Index("ix_contract_templates_type_model", "type", "model"),)

    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(20))
    template_content: Mapped[str] = mapped_column(Text)
    variables: Mapped[list[Any]]
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Contract(IdMixin, TimestampMixin, Base):
    __tablename__ = "contracts"

    client_id: Mapped[uuid.UUID] = mapped_column(index=True)  # clients' company id
    client_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id"))
    contractor_id: Mapped[uuid.UUID] = mapped_column(index=True)  # contractors' profile id
    contractor_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id"))
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract_templates.id"))
    type: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    rate_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    frequency: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    terms: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(String(20), index=True, default=ContractStatus.DRAFT)
    # The PDF sent for signature: every signature is bound to its SHA-256.
    document_key: Mapped[str | None] = mapped_column(String(512))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    # The fully signed PDF: the sent file + a signature page (incremental update) + the
    # platform's PAdES signature.
    signed_document_key: Mapped[str | None] = mapped_column(String(512))
    signed_document_sha256: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    client_signed_at: Mapped[datetime | None]
    contractor_signed_at: Mapped[datetime | None]
    activated_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(1000))
    terminated_at: Mapped[datetime | None]
    termination_effective_date: Mapped[date | None]
    termination_reason: Mapped[str | None] = mapped_column(String(1000))


class ContractMilestone(IdMixin, TimestampMixin, Base):
    __tablename__ = "contract_milestones"

    contract_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(20), default=MilestoneStatus.PENDING)
    submission_note: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[Any]]
    submitted_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_users.id"))
    approved_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(1000))
    rejected_at: Mapped[datetime | None]


class ContractSignature(IdMixin, TimestampMixin, Base):
    """One party's signature: bound to the document hash and to its journal entry."""

    __tablename__ = "contract_signatures"
    __table_args__ = (UniqueConstraint("contract_id", "role"),)

    contract_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    signer_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id"))
    signed_at: Mapped[datetime]
    document_sha256: Mapped[str] = mapped_column(String(64))
    image_key: Mapped[str] = mapped_column(String(512))
    image_sha256: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    journal_seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))


class ContractPayment(IdMixin, TimestampMixin, Base):
    """A scheduled payment date of an active contract (seed 004: "payment_schedule")."""

    __tablename__ = "contract_payment_schedule"
    __table_args__ = (UniqueConstraint("contract_id", "due_date"),)

    contract_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    due_date: Mapped[date]
    # Fixed contracts: the rate per period; hourly: None (the amount comes from timesheets).
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="scheduled")

# Keys under "contracts/" are referenced from these columns; the daily orphan-file
# sweep deletes the others (platform/orphans.py).
register_file_columns("contracts", Contract.document_key, Contract.signed_document_key,
                      ContractSignature.image_key)
