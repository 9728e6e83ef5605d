"""Who a notification goes to and how to reach them, read downward through other domains'
public services: auth (email, name) and the contractor profile (phone, timezone)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth import service as auth_service
from mindlinks.contractors import service as contractors


@dataclass(frozen=True)
class Recipient:
    user_id: uuid.UUID
    email: str
    name: str | None
    role: str
    phone: str | None
    locale: str | None
    timezone: str | None


def as_uuid(value: Any) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        return None


async def _profile_details(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """Phone and timezone of the user's contractor profile; empty for other users. Profiles
    hold no locale: the configured default applies (`notifications_default_locale`)."""
    profile = await contractors.profile_by_user(session, user_id)
    if profile is None:
        return {}
    return {"phone": profile.phone, "timezone": profile.timezone}


async def resolve(session: AsyncSession, user_id: uuid.UUID | None) -> Recipient | None:
    """The recipient behind `user_id`, or None when it is unknown or not an active account."""
    if user_id is None:
        return None
    contact = await auth_service.get_user_contact(session, user_id)
    if contact is None or not contact.active:
        return None
    extra = await _profile_details(session, user_id)
    return Recipient(
        user_id=contact.user_id, email=contact.email, name=contact.name, role=contact.role,
        phone=extra.get("phone"), locale=extra.get("locale"), timezone=extra.get("timezone"),
    )
