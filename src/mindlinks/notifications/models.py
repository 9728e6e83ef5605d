"""Seed tables notification-notifications, notification-templates and NOTIFICATION_PREFERENCES
(seed 002 §7), plus the delivery log of the email and SMS channels."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin, utcnow


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    IN_APP = "in_app"


class DigestFrequency(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Notification(IdMixin, TimestampMixin, Base):
    """One in-app notification of one user. `event_id` makes a redelivered event a no-op."""

    __tablename__ = "notification_notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        Index("ix_notification_notifications_inbox", "user_id", "read", "created_at"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    read: Mapped[bool] = mapped_column(default=False)
    read_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    action_url: Mapped[str | None] = mapped_column(String(500))
    event_id: Mapped[uuid.UUID | None]


class NotificationPreference(IdMixin, TimestampMixin, Base):
    """A user's channel switches. No row means the defaults (`service.DEFAULT_PREFERENCES`)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), unique=True
    )
    email_enabled: Mapped[bool] = mapped_column(default=True)
    push_enabled: Mapped[bool] = mapped_column(default=True)
    sms_enabled: Mapped[bool] = mapped_column(default=False)
    in_app_enabled: Mapped[bool] = mapped_column(default=True)
    digest_frequency: Mapped[str] = mapped_column(String(10), default=DigestFrequency.IMMEDIATE)
    # notification type -> channels switched off for that type, e.g. {"profile_updated": ["email"]}
    opt_outs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # The seed's user-preferences `language` ("en", "ar"): the web pages' language. None = not
    # chosen, the browser's Accept-Language decides.
    language: Mapped[str | None] = mapped_column(String(10))


class NotificationTemplate(IdMixin, TimestampMixin, Base):
    """An admin-editable template. `name` is the notification type (or `digest`); `type` is the
    channel; `language` the recipients' language it is for ("en", "ar": one row per language,
    see `templates.load` for the fallback). Email templates have an HTML `body` and a
    plain-text `text_body`."""

    __tablename__ = "notification_templates"
    __table_args__ = (UniqueConstraint("name", "type", "language"),)

    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(10), index=True)
    # Rows from before 0017 were the English ones.
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text)
    variables: Mapped[list[Any]] = mapped_column(default=list)
    updated_by: Mapped[uuid.UUID | None]


class NotificationDelivery(IdMixin, TimestampMixin, Base):
    """One email or SMS to send, rendered when it was created so retries send the same thing.
    `dedupe_key` ("<event id>:<user id>:<channel>", "digest:...") makes creation idempotent."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_at"),)

    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_users.id", ondelete="CASCADE"), index=True
    )
    notification_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(
            "notification_notifications.id", ondelete="SET NULL",
            name="fk_notification_deliveries_notification",
        )
    )
    event_id: Mapped[uuid.UUID | None]
    type: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claim_token: Mapped[uuid.UUID | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
