"""The notifications domain's public API: the inbox, preferences, unsubscribe links, and
`notify()` which turns one event for one recipient into an in-app notification plus the email
and SMS deliveries the recipient's preferences allow.

Functions take the session first, flush but never commit. Live updates and sends happen only
after the caller's transaction commits (`Notifier`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import uuid
from datetime import datetime
from typing import Any

import orjson
import structlog
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from jinja2 import TemplateError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.notifications import admin, stream, templates
from mindlinks.notifications import page_reads as page_reads
from mindlinks.notifications import repository as repo
from mindlinks.notifications.catalogue import KINDS, OPTIONAL_TYPES, SECURITY_TYPES, Kind
from mindlinks.notifications.delivery import Notifier
from mindlinks.notifications.models import (
    Channel,
    DigestFrequency,
    Notification,
    NotificationDelivery,
    NotificationPreference,
)
from mindlinks.notifications.recipients import Recipient
from mindlinks.notifications.schemas import (
    NotificationOut,
    NotificationPage,
    Preferences,
    PreferencesUpdate,
    TemplateUpdate,
)
from mindlinks.platform import audit
from mindlinks.platform.api import PageParams, RowSerializer, json_response
from mindlinks.platform.db import Database, new_id, utcnow
from mindlinks.platform.errors import BadRequest, NotFound, ValidationFailed
from mindlinks.platform.security import Actor

log = structlog.get_logger("mindlinks.notifications")


class NotificationNotFound(NotFound):
    code = "notification_not_found"


class SecurityNotificationRequired(ValidationFailed):
    code = "security_notification_required"


class UnknownNotificationType(ValidationFailed):
    code = "unknown_notification_type"


class InvalidUnsubscribeToken(BadRequest):
    code = "invalid_unsubscribe_token"


# --- inbox -------------------------------------------------------------------------------


async def inbox(
    session: AsyncSession, actor: Actor, read: bool | None, params: PageParams
) -> NotificationPage:
    """The actor's notifications, newest first, with the unread count of the whole inbox."""
    rows, total, unread = await repo.inbox_page(session, actor.user_id, read=read,
                                                offset=params.offset, limit=params.limit)
    return NotificationPage.build(rows, total, unread, params)


_INBOX_ROW = RowSerializer(NotificationOut)


async def inbox_response(
    db: Database, actor: Actor, read: bool | None, params: PageParams
) -> Response:
    """`inbox` as the API serves it: one precompiled statement on a pooled connection (no
    session, no transaction), the rows written by orjson as read (no entities, no Pydantic
    validation of what the server has just built)."""
    rows, total, unread = await repo.inbox_rows(db, actor.user_id, read=read,
                                                offset=params.offset, limit=params.limit)
    return json_response({
        "data": [_INBOX_ROW.as_dict(row) for row in rows],
        "meta": {"total": total, "unread": unread, "page": params.page,
                 "limit": params.limit, "totalPages": math.ceil(total / params.limit)
                 if total else 0}})


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    return await repo.unread_count(session, user_id)


async def mark_read(
    session: AsyncSession, notifier: Notifier, actor: Actor, notification_id: uuid.UUID
) -> Notification:
    """Mark one of the actor's notifications read (idempotent). Another user's id: 404."""
    notification = await repo.own_notification(session, actor, notification_id)
    if notification is None:
        raise NotificationNotFound("Notification not found")
    if not notification.read:
        notification.read = True
        notification.read_at = utcnow()
        await session.flush()
        notifier.publish_after_commit(
            session, actor.user_id,
            {"type": "unread", "unread": await repo.unread_count(session, actor.user_id)},
        )
    return notification


async def mark_all_read(session: AsyncSession, notifier: Notifier, actor: Actor) -> int:
    """Mark every unread notification of the actor read; how many changed."""
    count = await repo.mark_all_read(session, actor)
    if count:
        notifier.publish_after_commit(session, actor.user_id, {"type": "unread", "unread": 0})
    return count


# --- preferences -------------------------------------------------------------------------


def _defaults(user_id: uuid.UUID) -> NotificationPreference:
    return NotificationPreference(
        user_id=user_id, email_enabled=True, push_enabled=True, sms_enabled=False,
        in_app_enabled=True, digest_frequency=DigestFrequency.IMMEDIATE, opt_outs={},
    )


def _view(prefs: NotificationPreference) -> Preferences:
    return Preferences(
        email_enabled=prefs.email_enabled, sms_enabled=prefs.sms_enabled,
        push_enabled=prefs.push_enabled, in_app_enabled=prefs.in_app_enabled,
        digest_frequency=prefs.digest_frequency,
        opt_outs={k: list(v) for k, v in (prefs.opt_outs or {}).items()},
        security_types=sorted(SECURITY_TYPES), language=prefs.language,
    )


async def get_preferences(session: AsyncSession, actor: Actor) -> Preferences:
    """The actor's preferences (the defaults until they change any)."""
    prefs = await repo.preferences(session, actor.user_id)
    return _view(prefs or _defaults(actor.user_id))


async def preferred_language(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    """The user's chosen page language, or None (the browser's then)."""
    prefs = await repo.preferences(session, user_id)
    return prefs.language if prefs is not None else None


async def update_preferences(
    session: AsyncSession, actor: Actor, data: PreferencesUpdate
) -> Preferences:
    """Change channel switches, digest frequency and per-type opt-outs (which replace the
    previous ones). Security notification types cannot be opted out of (422)."""
    if data.opt_outs is not None:
        for type_name in data.opt_outs:
            if type_name in SECURITY_TYPES:
                raise SecurityNotificationRequired(
                    f"{type_name!r} is a security notification and cannot be switched off")
            if type_name not in OPTIONAL_TYPES:
                raise UnknownNotificationType(f"Unknown notification type {type_name!r}")
    prefs = await repo.preferences(session, actor.user_id)
    if prefs is None:
        prefs = _defaults(actor.user_id)
        session.add(prefs)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for name, value in changes.items():
        if name == "opt_outs":
            value = {k: sorted(set(v)) for k, v in value.items() if v}
        setattr(prefs, name, value)
    await session.flush()
    await audit.record(session, actor, "notifications.preferences.updated",
                       "notification_preferences", prefs.id, {"fields": sorted(changes)})
    return _view(prefs)


def allowed_channels(
    prefs: NotificationPreference | None, kind: Kind, recipient: Recipient
) -> set[str]:
    """The channels a notification of `kind` goes out on for this recipient. Security types
    always go in-app and by email; SMS needs a phone number and the SMS switch."""
    p = prefs or _defaults(recipient.user_id)
    opted_out = set((p.opt_outs or {}).get(kind.type, ()))
    channels: set[str] = set()
    if kind.security:
        channels |= {Channel.IN_APP, Channel.EMAIL}
    else:
        if p.in_app_enabled and Channel.IN_APP not in opted_out:
            channels.add(Channel.IN_APP)
        # daily / weekly: the email comes with the digest instead.
        if (p.email_enabled and Channel.EMAIL not in opted_out
                and p.digest_frequency == DigestFrequency.IMMEDIATE):
            channels.add(Channel.EMAIL)
    if p.sms_enabled and recipient.phone and Channel.SMS not in opted_out:
        channels.add(Channel.SMS)
    return {c for c in channels if c in kind.channels}


# --- unsubscribe links -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsubscribe_token(secret: bytes, user_id: uuid.UUID, type_name: str) -> str:
    body = _b64(orjson.dumps({"u": str(user_id), "t": type_name}))
    sig = hmac.new(secret, b"unsubscribe:" + body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(sig)}"


def read_unsubscribe_token(secret: bytes, token: str) -> tuple[uuid.UUID, str]:
    try:
        body, sig = token.split(".", 1)
        expected = _b64(hmac.new(secret, b"unsubscribe:" + body.encode(),
                                 hashlib.sha256).digest())
        if not hmac.compare_digest(sig, expected):
            raise ValueError("bad signature")
        data = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return uuid.UUID(data["u"]), str(data["t"])
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
        raise InvalidUnsubscribeToken("Invalid unsubscribe link") from exc


async def unsubscribe(session: AsyncSession, secret: bytes, token: str) -> str:
    """Apply a signed unsubscribe link: stop emails of that type (a digest link stops all
    non-security email). Idempotent; security mail is never affected."""
    user_id, type_name = read_unsubscribe_token(secret, token)
    prefs = await repo.preferences(session, user_id)
    if prefs is None:
        prefs = _defaults(user_id)
        session.add(prefs)
    if type_name == "digest":
        prefs.email_enabled = False
    elif type_name in OPTIONAL_TYPES:
        outs = {k: list(v) for k, v in (prefs.opt_outs or {}).items()}
        outs[type_name] = sorted(set(outs.get(type_name, [])) | {Channel.EMAIL.value})
        prefs.opt_outs = outs
    else:
        raise InvalidUnsubscribeToken("Invalid unsubscribe link")
    await session.flush()
    await audit.record(session, user_id, "notifications.unsubscribed",
                       "notification_preferences", prefs.id, {"type": type_name})
    return type_name


# --- creating notifications --------------------------------------------------------------


def render_or_default(
    source: templates.TemplateSource, values: dict[str, Any], language: str | None = None
) -> templates.Rendered:
    try:
        return templates.render(source, values)
    except TemplateError:
        # An edited template that fails at run time must not lose the notification.
        log.exception("template_failed", name=source.name, channel=source.channel)
        return templates.render(
            templates.default_source(source.name, source.channel, language), values)


async def notify(
    session: AsyncSession,
    notifier: Notifier,
    recipient: Recipient,
    kind_type: str,
    values: dict[str, Any],
    *,
    data: dict[str, Any],
    event_id: uuid.UUID | None,
    occurred_at: datetime | None = None,
) -> Notification | None:
    """Create `recipient`'s in-app notification and the email/SMS deliveries their
    preferences allow; sent and pushed live after commit. Idempotent per (event, recipient)
    for the notification and per (event, recipient, channel) for deliveries. Returns the
    in-app notification (None if in-app is off or it already existed)."""
    kind = KINDS[kind_type]
    if event_id is not None and await repo.by_event(session, event_id, recipient.user_id):
        return None
    prefs = await repo.preferences(session, recipient.user_id)
    channels = allowed_channels(prefs, kind, recipient)
    settings = notifier.settings
    # The recipient's `language` preference (the pages' too): Arabic texts and locale.
    language = prefs.language if prefs is not None else None
    context: dict[str, Any] = {
        **values,
        "recipient_name": recipient.name or recipient.email.split("@")[0],
        "app_url": settings.resolved_public_url,
        "occurred_at": (occurred_at or utcnow()).isoformat(),
        "locale": recipient.locale or templates.locale_for(
            language, settings.notifications_default_locale),
        "timezone": recipient.timezone or settings.notifications_default_timezone,
        "unsubscribe_url": None,
        "action_url": None,
    }
    if kind.action_path:
        path = templates.render(
            templates.TemplateSource(kind.type, "in_app", None, kind.action_path, None), context
        ).body
        context["action_url"] = settings.resolved_public_url + path
    notification = None
    if Channel.IN_APP in channels:
        shown = render_or_default(
            await templates.load(session, kind.type, "in_app", language), context, language)
        notification = Notification(
            id=new_id(), user_id=recipient.user_id, type=kind.type,
            title=(shown.subject or kind.type)[:300], message=shown.body, read=False, data=data,
            action_url=context["action_url"], event_id=event_id,
        )
        session.add(notification)
        await session.flush()
        notifier.publish_after_commit(session, recipient.user_id, {
            "type": "notification",
            "notification": NotificationOut.model_validate(notification).model_dump(
                mode="json", by_alias=True),
            "unread": await repo.unread_count(session, recipient.user_id),
        })
    origin = event_id or (notification.id if notification else uuid.uuid4())
    for channel in (Channel.EMAIL, Channel.SMS):
        if channel not in channels:
            continue
        key = f"{origin}:{recipient.user_id}:{channel}"
        if await repo.delivery_exists(session, key):
            continue
        headers: dict[str, str] = {}
        values_for_channel = dict(context)
        if channel == Channel.EMAIL and not kind.security:
            token = unsubscribe_token(notifier.secret, recipient.user_id, kind.type)
            url = f"{settings.resolved_public_url}/api/notifications/unsubscribe?token={token}"
            values_for_channel["unsubscribe_url"] = url
            headers = {"List-Unsubscribe": f"<{url}>",
                       "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        source = await templates.load(session, kind.type, channel.value, language)
        out = render_or_default(source, values_for_channel, language)
        delivery = NotificationDelivery(
            id=new_id(), dedupe_key=key, user_id=recipient.user_id,
            notification_id=notification.id if notification else None, event_id=event_id,
            type=kind.type, channel=channel.value,
            recipient=recipient.email if channel == Channel.EMAIL else (recipient.phone or ""),
            subject=out.subject if channel == Channel.EMAIL else None,
            body_text=(out.text_body or out.body) if channel == Channel.EMAIL else out.body,
            body_html=out.body if channel == Channel.EMAIL else None,
            headers=headers, next_attempt_at=utcnow(),
        )
        session.add(delivery)
        await session.flush()
        notifier.send_after_commit(session, delivery.id)
    return notification


# --- the admin pages' template editor (web uses the domain through this module) -------------

TEMPLATE_LANGUAGES = templates.LANGUAGES


def template_kinds() -> list[tuple[str, tuple[str, ...]]]:
    """Every notification type with a template and its channels, by name."""
    return sorted((kind.type, tuple(kind.channels)) for kind in KINDS.values())


async def template_versions(session: AsyncSession, name: str, channel: str
                            ) -> dict[str, templates.TemplateSource]:
    """A template's text in each language (stored, or the built-in one); 404 if unknown."""
    return await admin.template_versions(session, name, channel)


async def save_template_version(session: AsyncSession, actor: Actor, name: str, channel: str,
                                language: str, data: TemplateUpdate) -> None:
    """Replace one language's version (the API's checks: 422 `unknown_template_variable`,
    `invalid_template`); audited `notifications.template.updated`."""
    await admin.save_version(session, actor, name, channel, language, data)


def open_stream(request: Request, notifier: Notifier, actor: Actor) -> StreamingResponse:
    """The actor's live stream (Server-Sent Events, `notifications/stream.py`): what
    `GET /api/notifications/me/stream` answers for a bearer token and the notifications page's
    `/notifications/stream` for the browser's cookie session. 429 `too_many_streams` past the
    per-user cap."""
    notifier.hub.check_capacity(actor.user_id, notifier.settings.notifications_max_streams_per_user)
    return StreamingResponse(
        stream.events(request, notifier, actor), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
