"""The inbox of provider webhooks, shared by every domain that receives them (one table,
`platform_webhook_events`).

A domain's webhook route verifies the signature itself (each provider signs differently),
then calls `store_once`, which inserts the delivery under the unique `(domain, provider,
event_id)` in a savepoint: a duplicate - even a concurrent one - hits the constraint and is
reported as such, so the caller acknowledges it (2xx) and changes nothing. A stored event is
applied by its domain's handler, found by convention:
`mindlinks.<domain>.webhooks.handle_stored(session, row)`, returning the outcome
(`handled | ignored | parked`).

Out of order: a `parked` event (nothing it applies to yet, e.g. the webhook outran the commit of
the row it names) is handled again when the provider redelivers it, and `replay` runs any stored
event again (`mindlinks webhooks replay <id>`). Handlers are idempotent and never move a
subject backwards, so a late or repeated event changes nothing.
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from enum import StrEnum
from typing import cast

from sqlalchemy import Index, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform import audit
from mindlinks.platform.db import Base, IdMixin, TimestampMixin, discard, utcnow
from mindlinks.platform.errors import NotFound

MAX_BODY_CHARS = 256 * 1024


class Status(StrEnum):
    RECEIVED = "received"
    HANDLED = "handled"
    IGNORED = "ignored"
    PARKED = "parked"


class WebhookEvent(IdMixin, TimestampMixin, Base):
    __tablename__ = "platform_webhook_events"
    __table_args__ = (
        UniqueConstraint("domain", "provider", "event_id"),
        Index("ix_platform_webhook_events_owner", "domain", "owner_id", "created_at"),
        Index("ix_platform_webhook_events_object", "domain", "object_ref"),
    )

    domain: Mapped[str] = mapped_column(String(30))
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(100), default="event")  # "payment_intent.succeeded"
    object_ref: Mapped[str | None] = mapped_column(String(200))  # the provider's object id
    subject_id: Mapped[uuid.UUID | None]  # our row it applied to (deposit, kyc session)
    owner_id: Mapped[uuid.UUID | None]  # whose it is (client company, contractor)
    occurred_at: Mapped[datetime | None]  # the provider's event time
    raw_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=Status.RECEIVED, index=True)
    handled_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(500))


Handler = Callable[[AsyncSession, WebhookEvent], Awaitable[str]]


def _handler(domain: str) -> Handler:
    module = importlib.import_module(f"mindlinks.{domain}.webhooks")
    return cast(Handler, module.handle_stored)


async def store_once(session: AsyncSession, *, domain: str, provider: str, event_id: str,
                     kind: str, body: bytes, object_ref: str | None = None,
                     occurred_at: datetime | None = None) -> tuple[WebhookEvent, bool]:
    """Insert the delivery; (row, True) when new, (the stored row, False) for a duplicate."""
    row = WebhookEvent(id=uuid.uuid4(), domain=domain, provider=provider,
                       event_id=event_id[:200], kind=kind[:100],
                       object_ref=object_ref[:200] if object_ref else None,
                       occurred_at=occurred_at,
                       raw_body=body.decode("utf-8", "replace")[:MAX_BODY_CHARS],
                       status=Status.RECEIVED)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        discard(session, row)
        stored = await by_event(session, domain, provider, event_id[:200], for_update=True)
        assert stored is not None
        return stored, False
    return row, True


async def by_event(session: AsyncSession, domain: str, provider: str, event_id: str, *,
                   for_update: bool = False) -> WebhookEvent | None:
    query = select(WebhookEvent).where(WebhookEvent.domain == domain,
                                       WebhookEvent.provider == provider,
                                       WebhookEvent.event_id == event_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def handle(session: AsyncSession, row: WebhookEvent) -> str:
    """Apply a stored event with its domain's handler and record the outcome."""
    outcome = await _handler(row.domain)(session, row)
    row.status = outcome
    row.handled_at = utcnow()
    await session.flush()
    return outcome


async def by_id(session: AsyncSession, row_id: uuid.UUID, *, domain: str | None = None,
                for_update: bool = False) -> WebhookEvent | None:
    query = select(WebhookEvent).where(WebhookEvent.id == row_id)
    if domain is not None:
        query = query.where(WebhookEvent.domain == domain)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


class WebhookNotFound(NotFound):
    code, title = "webhook_not_found", "Webhook not found"


async def replay(session: AsyncSession, row_id: uuid.UUID) -> WebhookEvent:
    row = await by_id(session, row_id, for_update=True)
    if row is None:
        raise WebhookNotFound("No such stored webhook")
    await audit.record(session, None, "webhook.replayed", "webhook_event", row.id,
                       {"domain": row.domain, "previousStatus": row.status})
    await handle(session, row)
    return row
