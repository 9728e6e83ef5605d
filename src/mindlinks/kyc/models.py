"""Tables of the KYC domain (seed 001/002 `kyc-sessions`, `kyc-documents`; seed 003
`verification_payloads` lives in the platform's webhook inbox). Contractor profiles and users
are referenced by id only."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin
from mindlinks.platform.orphans import register_file_columns
from mindlinks.platform.webhooks import WebhookEvent


class SessionStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    VERIFIED = "verified"
    REJECTED = "rejected"
    RESUBMISSION_REQUESTED = "resubmission_requested"
    EXPIRED = "expired"


FINAL_STATUSES = frozenset({SessionStatus.VERIFIED, SessionStatus.REJECTED, SessionStatus.EXPIRED})
OPEN_STATUSES = frozenset({SessionStatus.PENDING, SessionStatus.PROCESSING,
                           SessionStatus.RESUBMISSION_REQUESTED})


class VerificationLevel(StrEnum):
    BASIC = "basic"
    STANDARD = "standard"
    ENHANCED = "enhanced"


class DocumentType(StrEnum):
    PASSPORT = "passport"
    NATIONAL_ID = "national_id"
    DRIVERS_LICENSE = "drivers_license"
    SELFIE = "selfie"
    PROOF_OF_ADDRESS = "proof_of_address"


ID_DOCUMENT_TYPES = frozenset({DocumentType.PASSPORT, DocumentType.NATIONAL_ID,
                               DocumentType.DRIVERS_LICENSE})


class DocumentStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class PayloadStatus(StrEnum):
    RECEIVED = "received"
    HANDLED = "handled"
    IGNORED = "ignored"  # a late decision on a final session: kept, changes nothing
    PARKED = "parked"  # no session matches: waits for review / replay


class KycSession(IdMixin, TimestampMixin, Base):
    __tablename__ = "kyc_sessions"
    __table_args__ = (
        Index("ix_kyc_sessions_contractor_created", "contractor_id", "created_at"),
        Index("ix_kyc_sessions_status_created", "status", "created_at"),
        UniqueConstraint("provider", "provider_session_id",
                         name="uq_kyc_sessions_provider_session"),
    )

    contractor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_profiles.id", ondelete="RESTRICT"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id", ondelete="RESTRICT"))
    provider: Mapped[str] = mapped_column(String(20))
    # The provider's session id (seed `veriffSessionId`); the sandbox uses our own id.
    provider_session_id: Mapped[str | None] = mapped_column(String(100))
    session_url: Mapped[str | None] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(30), default=SessionStatus.PENDING)
    verification_level: Mapped[str] = mapped_column(String(20),
                                                    default=VerificationLevel.STANDARD)
    expires_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # The decision as the provider (or an admin) gave it: status, code, reason, reasonCode,
    # decisionTime, source.
    verification_result: Mapped[dict[str, Any] | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_users.id"))


class KycDocument(IdMixin, TimestampMixin, Base):
    __tablename__ = "kyc_documents"
    __table_args__ = (Index("ix_kyc_documents_contractor_created", "contractor_id", "created_at"),)

    contractor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contractor_profiles.id", ondelete="RESTRICT"))
    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("kyc_sessions.id", ondelete="RESTRICT"), index=True)
    document_type: Mapped[str] = mapped_column(String(30))
    # Seed `s3Key`: kept after retention deleted the file (`file_deleted_at`), with the hash.
    s3_key: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.PENDING)
    expiry_date: Mapped[date | None]
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_users.id"))
    reviewed_at: Mapped[datetime | None]
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    file_deleted_at: Mapped[datetime | None]


# The inbox of provider webhooks (seed 003 `verification_payloads`) is the platform's shared
# inbox (`platform_webhook_events`, rows with domain "kyc"): `object_ref` is the provider's
# session id, `subject_id` our KYC session, `owner_id` the contractor profile.
VerificationPayload = WebhookEvent


# Keys under "kyc/" are referenced from these columns; the daily orphan-file
# sweep deletes the others (platform/orphans.py).
register_file_columns("kyc", KycDocument.s3_key)
