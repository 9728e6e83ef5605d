"""Seed tables contractor-profiles (with seed 003's business profile), contractor-bank-details
(several accounts, micro-deposit verification), contractor-tax-info, licences, insurance
policies, documents and the achievements catalogue with each contractor's progress.

Sensitive fields (`*_enc`) hold `platform/crypto.py` ciphertexts, registered for rotation; the
masks shown to users come from the separate `*_last4` columns, so listing never decrypts.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.crypto import register_encrypted
from mindlinks.platform.db import Base, IdMixin, TimestampMixin
from mindlinks.platform.orphans import register_file_columns


class KycStatus(StrEnum):
    NOT_STARTED = "not_started"
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class ContractorStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


class ContractorProfile(IdMixin, TimestampMixin, Base):
    __tablename__ = "contractor_profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), unique=True
    )
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))  # E.164
    country: Mapped[str | None] = mapped_column(String(2))  # ISO 3166-1 alpha-2
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA
    avatar_key: Mapped[str | None] = mapped_column(String(512))
    kyc_status: Mapped[str] = mapped_column(String(20), default=KycStatus.NOT_STARTED)
    status: Mapped[str] = mapped_column(String(20), default=ContractorStatus.ACTIVE)
    # Business profile (seed 003).
    legal_name: Mapped[str | None] = mapped_column(String(200))
    dba_name: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(300))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    address_city: Mapped[str | None] = mapped_column(String(100))
    address_state: Mapped[str | None] = mapped_column(String(100))
    address_postal_code: Mapped[str | None] = mapped_column(String(20))
    address_country: Mapped[str | None] = mapped_column(String(2))
    # Set by the `contract.signed` subscriber (the contracts domain owns contracts).
    first_contract_signed_at: Mapped[datetime | None]


class BankVerificationStatus(StrEnum):
    PENDING = "pending_verification"
    VERIFIED = "verified"
    FAILED = "failed"


class BankAccount(IdMixin, TimestampMixin, Base):
    __tablename__ = "contractor_bank_details"
    __table_args__ = (
        Index("ix_contractor_bank_details_owner", "contractor_id", "deleted_at"),
        # At most one primary account per contractor, whatever races the API sees.
        Index("uq_contractor_bank_details_primary", "contractor_id", unique=True,
              postgresql_where=text("is_primary AND deleted_at IS NULL"),
              sqlite_where=text("is_primary AND deleted_at IS NULL")),
    )

    contractor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_profiles.id", ondelete="CASCADE")
    )
    account_holder_name: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str] = mapped_column(String(200))
    currency: Mapped[str] = mapped_column(String(3))
    country: Mapped[str] = mapped_column(String(2))
    account_type: Mapped[str] = mapped_column(String(20), default="checking")
    swift_code: Mapped[str | None] = mapped_column(String(11))
    account_number_enc: Mapped[str | None] = mapped_column(Text)
    account_number_last4: Mapped[str | None] = mapped_column(String(4))
    routing_number_enc: Mapped[str | None] = mapped_column(Text)
    routing_number_last4: Mapped[str | None] = mapped_column(String(4))
    iban_enc: Mapped[str | None] = mapped_column(Text)
    iban_last4: Mapped[str | None] = mapped_column(String(4))
    is_primary: Mapped[bool] = mapped_column(default=False)
    verification_method: Mapped[str] = mapped_column(String(20), default="micro-deposit")
    status: Mapped[str] = mapped_column(String(30), default=BankVerificationStatus.PENDING)
    # The two micro-deposit amounts, encrypted: compared on verify, never shown.
    micro_deposits_enc: Mapped[str | None] = mapped_column(Text)
    micro_deposits_sent_at: Mapped[datetime | None]
    verification_attempts: Mapped[int] = mapped_column(default=0)
    verified_at: Mapped[datetime | None]
    # The holder is not the contractor's legal name: held for review, no withdrawals.
    name_mismatch: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None]


register_encrypted(BankAccount, "account_number_enc", "routing_number_enc", "iban_enc",
                   "micro_deposits_enc")


class ContractorDocument(IdMixin, TimestampMixin, Base):
    """Every stored file of a contractor (tax forms, licences, later contracts, invoices)."""

    __tablename__ = "contractor_documents"
    __table_args__ = (Index("ix_contractor_documents_owner", "contractor_id", "created_at"),)

    contractor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_profiles.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(40))
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    original_name: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # The entity the file belongs to (tax info, contract, invoice), by id.
    entity_id: Mapped[uuid.UUID | None]


class TaxInfoStatus(StrEnum):
    PENDING_REVIEW = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class TaxInfo(IdMixin, TimestampMixin, Base):
    __tablename__ = "contractor_tax_info"
    __table_args__ = (Index("ix_contractor_tax_info_owner", "contractor_id", "submitted_at"),)

    contractor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_profiles.id", ondelete="CASCADE")
    )
    tax_id_enc: Mapped[str] = mapped_column(Text)
    tax_id_last4: Mapped[str] = mapped_column(String(4))
    tax_country: Mapped[str] = mapped_column(String(2))
    entity_type: Mapped[str] = mapped_column(String(20), default="individual")
    tax_form_type: Mapped[str] = mapped_column(String(10))
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_documents.id", ondelete="RESTRICT")
    )
    status: Mapped[str] = mapped_column(String(20), default=TaxInfoStatus.PENDING_REVIEW)
    submitted_at: Mapped[datetime]
    signed_on: Mapped[date]
    expires_at: Mapped[datetime | None]
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[uuid.UUID | None]
    review_reason: Mapped[str | None] = mapped_column(String(1000))


register_encrypted(TaxInfo, "tax_id_enc")


class CredentialStatus(StrEnum):
    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    EXPIRED = "expired"


class License(IdMixin, TimestampMixin, Base):
    __tablename__ = "contractor_licenses"
    __table_args__ = (UniqueConstraint("contractor_id", "state", "license_number"),)

    contractor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_profiles.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(100))
    license_number: Mapped[str] = mapped_column(String(100))
    license_type: Mapped[str | None] = mapped_column(String(100))
    expiration_date: Mapped[date | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default=CredentialStatus.UNVERIFIED)
    verified_at: Mapped[datetime | None]
    # The scan of the licence, if the contractor attached one (credential_documents.py).
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(
        "contractor_documents.id", ondelete="SET NULL", name="fk_contractor_licenses_document"))


class InsuranceStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    FAILED = "failed"
    EXPIRED = "expired"


class InsurancePolicy(IdMixin, TimestampMixin, Base):
    __tablename__ = "contractor_insurance_policies"

    contractor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_profiles.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40), default="manual")
    policy_number: Mapped[str] = mapped_column(String(100))
    coverage_types: Mapped[list[Any]]
    expiration_date: Mapped[date] = mapped_column(index=True)
    verification_status: Mapped[str] = mapped_column(String(20), default=InsuranceStatus.PENDING)
    additional_insured: Mapped[bool] = mapped_column(default=False)
    last_checked_at: Mapped[datetime | None]
    # The certificate of insurance, if attached (credential_documents.py).
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(
        "contractor_documents.id", ondelete="SET NULL",
        name="fk_contractor_insurance_policies_document"))


class Achievement(IdMixin, TimestampMixin, Base):
    """The catalogue (seeded by the migration)."""

    __tablename__ = "contractor_achievement_catalogue"

    key: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(String(500))
    category: Mapped[str] = mapped_column(String(20))  # completion|quality|speed|referral
    max_progress: Mapped[int] = mapped_column(default=1)
    sort_order: Mapped[int] = mapped_column(default=0)


class ContractorAchievement(TimestampMixin, Base):
    __tablename__ = "contractor_achievements"

    contractor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    achievement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_achievement_catalogue.id", ondelete="CASCADE"), primary_key=True
    )
    progress: Mapped[int] = mapped_column(default=0)
    max_progress: Mapped[int] = mapped_column(default=1)
    unlocked_at: Mapped[datetime | None]


class AchievementCredit(IdMixin, TimestampMixin, Base):
    """One unit of progress per (achievement, source): a timesheet approved twice, or an event
    delivered twice, counts once."""

    __tablename__ = "contractor_achievement_credits"
    __table_args__ = (UniqueConstraint("contractor_id", "achievement_key", "source_id"),)

    contractor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_profiles.id", ondelete="CASCADE")
    )
    achievement_key: Mapped[str] = mapped_column(String(60))
    source_id: Mapped[str] = mapped_column(String(100))

# Keys under "contractors/" are referenced from these columns; the daily orphan-file
# sweep deletes the others (platform/orphans.py).
register_file_columns("contractors", ContractorProfile.avatar_key,
                      ContractorDocument.storage_key)
