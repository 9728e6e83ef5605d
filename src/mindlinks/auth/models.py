"""Seed tables auth-users, auth-sessions, auth-password-resets, plus email verification and
MFA recovery codes. Tokens are stored only as SHA-256 digests."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.crypto import register_encrypted
from mindlinks.platform.db import Base, IdMixin, TimestampMixin


class UserStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    SUSPENDED = "suspended"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "auth_users"

    email: Mapped[str] = mapped_column(String(320), unique=True)  # normalised lower-case
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=UserStatus.ACTIVE)
    email_verified: Mapped[bool] = mapped_column(default=False)
    name: Mapped[str | None] = mapped_column(String(200))
    last_login: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    mfa_enabled: Mapped[bool] = mapped_column(default=False)
    # The TOTP shared secret, sealed with the user's data key (platform/crypto): a copy of
    # the database alone cannot mint codes.
    mfa_secret_enc: Mapped[str | None] = mapped_column(Text)
    # The last TOTP time step accepted: a code is never accepted twice.
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)



register_encrypted(User, "mfa_secret_enc")

class AuthSession(IdMixin, TimestampMixin, Base):
    """One refresh token. Rotation adds a row to the same `family_id` (one login); the
    access token's `sid` is the family, so revoking the family ends the login."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), index=True
    )
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    refresh_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    amr: Mapped[str] = mapped_column(String(40), default="pwd")  # space-separated methods
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip_address: Mapped[str | None] = mapped_column(String(64))  # keyed hash
    expires_at: Mapped[datetime]
    absolute_expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class PasswordReset(IdMixin, TimestampMixin, Base):
    __tablename__ = "auth_password_resets"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used: Mapped[bool] = mapped_column(default=False)
    used_at: Mapped[datetime | None]


class EmailVerification(IdMixin, TimestampMixin, Base):
    __tablename__ = "auth_email_verifications"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCode(IdMixin, TimestampMixin, Base):
    __tablename__ = "auth_mfa_recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]
