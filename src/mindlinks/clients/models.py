"""Seed tables client-companies, client-documents, client-invitations, plus the
client-contractor relationship an accepted invitation creates.

The company's tax id is stored only encrypted (`tax_id_enc`, platform/crypto.py, subject key
of the company) with a masked hint for display. Invitation tokens are stored only as SHA-256
digests. Contractors are referenced by id: their rows belong to the contractors domain.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform import crypto
from mindlinks.platform.db import Base, IdMixin, TimestampMixin
from mindlinks.platform.orphans import register_file_columns


class VerificationStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class RegistryStatus(StrEnum):
    """Outcome of the last business-registry lookup."""

    MATCHED = "matched"
    NOT_FOUND = "not_found"
    INACTIVE = "inactive"  # found, but dissolved / not active in the registry
    UNAVAILABLE = "unavailable"  # the registry could not be reached


class DocumentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ClientCompany(IdMixin, TimestampMixin, Base):
    __tablename__ = "client_companies"

    # One company per client user (seed GSI userId-index).
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_users.id", ondelete="RESTRICT"), unique=True
    )
    legal_name: Mapped[str] = mapped_column(String(200))
    trading_name: Mapped[str | None] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), index=True)
    business_type: Mapped[str] = mapped_column(String(40))
    company_number: Mapped[str | None] = mapped_column(String(64))
    tax_id_enc: Mapped[str] = mapped_column(Text)
    tax_id_hint: Mapped[str] = mapped_column(String(12))  # `****1234`
    address: Mapped[dict[str, Any]]
    website: Mapped[str | None] = mapped_column(String(300))
    logo_key: Mapped[str | None] = mapped_column(String(512))
    verification_status: Mapped[str] = mapped_column(
        String(20), default=VerificationStatus.PENDING, index=True
    )
    verification_reason: Mapped[str | None] = mapped_column(String(500))
    verified_at: Mapped[datetime | None]
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_users.id"))
    reviewed_at: Mapped[datetime | None]
    registry_status: Mapped[str | None] = mapped_column(String(20))
    registry_checked_at: Mapped[datetime | None]
    business_registry_data: Mapped[dict[str, Any] | None]
    # Days between an invoice's issue and due dates (the seed's example: 14).
    invoice_net_terms_days: Mapped[int] = mapped_column(default=14, server_default="14")
    # The registry entry this company matched (`gb:00000001`): a second account claiming the
    # same entry goes to manual review (clients.service, docs/clients.md).
    registry_key: Mapped[str | None] = mapped_column(String(120), index=True)


crypto.register_encrypted(ClientCompany, "tax_id_enc")


class ClientDocument(IdMixin, TimestampMixin, Base):
    __tablename__ = "client_documents"

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("client_companies.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(255))  # sanitised original name, display only
    s3_key: Mapped[str] = mapped_column(String(512), unique=True)
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default=DocumentStatus.PENDING, index=True)
    review_reason: Mapped[str | None] = mapped_column(String(500))
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_users.id"))
    reviewed_at: Mapped[datetime | None]


class ClientInvitation(IdMixin, TimestampMixin, Base):
    __tablename__ = "client_invitations"
    __table_args__ = (Index("ix_client_invitations_client_email", "client_id", "email"),)

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("client_companies.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(320))  # normalised lower-case
    name: Mapped[str | None] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(String(2000))
    # SHA-256 of the token (seed `invitationToken`, unique); the token itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=InvitationStatus.PENDING)
    expires_at: Mapped[datetime]
    sent_at: Mapped[datetime]
    send_count: Mapped[int] = mapped_column(default=1)
    invited_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id"))
    accepted_at: Mapped[datetime | None]
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_users.id"))
    revoked_at: Mapped[datetime | None]


class ClientContractor(IdMixin, TimestampMixin, Base):
    """A contractor working with a client company; created by an accepted invitation."""

    __tablename__ = "client_contractors"
    __table_args__ = (UniqueConstraint("client_id", "contractor_id"),)

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("client_companies.id", ondelete="CASCADE"), index=True
    )
    # The contractors domain's profile id, as `contractors.service` gave it on acceptance. No
    # database FK yet: a cross-branch `depends_on` fails tests/platform/test_migrations.py's
    # "every head applied" check.
    contractor_id: Mapped[uuid.UUID] = mapped_column(index=True)
    contractor_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id"))
    invitation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("client_invitations.id", ondelete="SET NULL")
    )

# Keys under "clients/" are referenced from these columns; the daily orphan-file
# sweep deletes the others (platform/orphans.py).
register_file_columns("clients", ClientCompany.logo_key, ClientDocument.s3_key)
