"""Every query of the notifications domain. Tenant scoping: a user reads and changes only
their own notifications (`readable`) - another user's id simply is not found."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.notifications.models import (
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationPreference,
    NotificationTemplate,
)
from mindlinks.platform.db import Database, RawQuery, utcnow
from mindlinks.platform.security import Actor


def readable(actor: Actor) -> Select[Notification]:
    return select(Notification).where(Notification.user_id == actor.user_id)


_N = Notification.__table__.c
INBOX_COLUMNS = ("id", "type", "title", "message", "read", "data", "action_url", "created_at")


def _counts(user_id: uuid.UUID, read: bool | None) -> tuple[Any, Any]:
    mine = [_N.user_id == user_id] + ([] if read is None else [_N.read == read])
    total = select(func.count()).where(*mine).scalar_subquery().label("total")
    unread = (select(func.count()).where(_N.user_id == user_id, _N.read.is_(False))
              .scalar_subquery().label("unread"))
    return total, unread


async def inbox_page(
    session: AsyncSession, user_id: uuid.UUID, *, read: bool | None, offset: int, limit: int
) -> tuple[list[Any], int, int]:
    """(rows of INBOX_COLUMNS, total, unread) in one statement - the page with both counts
    as scalar subqueries; a second one only for a page past the end (no row to carry them).
    Core columns: no entities built for rows that are only serialised."""
    total, unread = _counts(user_id, read)
    where = [_N.user_id == user_id] + ([] if read is None else [_N.read == read])
    rows = (await session.execute(
        select(*(_N[c] for c in INBOX_COLUMNS), total, unread).where(*where)
        .order_by(_N.created_at.desc(), _N.id.desc()).offset(offset).limit(limit))).all()
    if rows:
        return list(rows), int(rows[0].total), int(rows[0].unread)
    counts = (await session.execute(select(total, unread))).one()
    return [], int(counts.total), int(counts.unread)


def _inbox_query(read_filter: bool) -> RawQuery:
    user = bindparam("user_id", type_=Notification.__table__.c.user_id.type)
    mine = [_N.user_id == user] + ([_N.read == bindparam("read")] if read_filter else [])
    total = select(func.count()).where(*mine).scalar_subquery().label("total")
    unread = (select(func.count()).where(_N.user_id == user, _N.read.is_(False))
              .scalar_subquery().label("unread"))
    # A LEFT JOIN of the counts to the page, so a page past the end still carries them.
    page = (select(*(_N[c] for c in INBOX_COLUMNS)).where(*mine)
            .order_by(_N.created_at.desc(), _N.id.desc())
            .limit(bindparam("limit")).offset(bindparam("offset")).subquery())
    counts = select(total, unread).subquery()
    return RawQuery(select(*(page.c[c] for c in INBOX_COLUMNS), counts.c.total, counts.c.unread)
                    .select_from(counts.outerjoin(page, true()))
                    .order_by(page.c.created_at.desc(), page.c.id.desc()))


# Compiled once per dialect (the statement does not change, only its values).
_INBOX = {False: _inbox_query(False), True: _inbox_query(True)}


async def inbox_rows(db: Database, user_id: uuid.UUID, *, read: bool | None, offset: int,
                     limit: int) -> tuple[list[dict[str, Any]], int, int]:
    """`inbox_page` as one precompiled statement on a pooled connection: no session, no
    transaction (a read of the caller's own rows)."""
    params: dict[str, Any] = {"user_id": user_id, "limit": limit, "offset": offset}
    if read is not None:
        params["read"] = read
    rows = await _INBOX[read is not None].all(db, **params)
    total, unread = int(rows[0]["total"]), int(rows[0]["unread"])
    return [r for r in rows if r["id"] is not None], total, unread


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    return await session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read.is_(False))
    ) or 0


async def own_notification(
    session: AsyncSession, actor: Actor, notification_id: uuid.UUID
) -> Notification | None:
    return await session.scalar(readable(actor).where(Notification.id == notification_id))


async def mark_all_read(session: AsyncSession, actor: Actor) -> int:
    now = utcnow()
    result = await session.execute(
        update(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read.is_(False))
        .values(read=True, read_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def by_event(
    session: AsyncSession, event_id: uuid.UUID, user_id: uuid.UUID
) -> Notification | None:
    return await session.scalar(select(Notification).where(
        Notification.event_id == event_id, Notification.user_id == user_id))


async def delivery_exists(session: AsyncSession, dedupe_key: str) -> bool:
    return await session.scalar(
        select(NotificationDelivery.id).where(NotificationDelivery.dedupe_key == dedupe_key)
    ) is not None


async def preferences(session: AsyncSession, user_id: uuid.UUID) -> NotificationPreference | None:
    return await session.scalar(
        select(NotificationPreference).where(NotificationPreference.user_id == user_id))


async def digest_subscribers(
    session: AsyncSession, frequency: str
) -> list[NotificationPreference]:
    return list((await session.scalars(
        select(NotificationPreference).where(
            NotificationPreference.digest_frequency == frequency,
            NotificationPreference.email_enabled.is_(True),
        )
    )).all())


async def notifications_between(
    session: AsyncSession, user_id: uuid.UUID, start: datetime, end: datetime
) -> list[Notification]:
    return list((await session.scalars(
        select(Notification).where(
            Notification.user_id == user_id, Notification.created_at >= start,
            Notification.created_at < end, Notification.type != "digest",
        ).order_by(Notification.created_at)
    )).all())


async def templates(session: AsyncSession, channel: str | None,
                    language: str | None = None) -> list[NotificationTemplate]:
    stmt = select(NotificationTemplate).order_by(
        NotificationTemplate.name, NotificationTemplate.type, NotificationTemplate.language)
    if channel:
        stmt = stmt.where(NotificationTemplate.type == channel)
    if language:
        stmt = stmt.where(NotificationTemplate.language == language)
    return list((await session.scalars(stmt)).all())


async def template_versions(session: AsyncSession, name: str, channel: str
                            ) -> dict[str, NotificationTemplate]:
    """The stored rows of one notification type on one channel, by language."""
    rows = await session.scalars(select(NotificationTemplate).where(
        NotificationTemplate.name == name, NotificationTemplate.type == channel))
    return {row.language: row for row in rows}


async def deliveries(
    session: AsyncSession, filters: dict[str, Any], offset: int, limit: int
) -> tuple[list[NotificationDelivery], int]:
    stmt = select(NotificationDelivery)
    for name, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(NotificationDelivery, name) == value)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = (await session.scalars(
        stmt.order_by(NotificationDelivery.created_at.desc(), NotificationDelivery.id.desc())
        .offset(offset).limit(limit)
    )).all()
    return list(rows), total


# --- deliveries (delivery.py): claimed with a token and a lease, so two workers never both send


def _due(now: datetime) -> Any:
    return or_(
        and_(NotificationDelivery.status == DeliveryStatus.PENDING,
             NotificationDelivery.next_attempt_at <= now),
        and_(NotificationDelivery.status == DeliveryStatus.SENDING,
             NotificationDelivery.lease_until < now),
    )


async def due_delivery_ids(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    return list((await session.scalars(
        select(NotificationDelivery.id).where(_due(now))
        .order_by(NotificationDelivery.next_attempt_at).limit(limit)
    )).all())


async def claim_delivery(
    session: AsyncSession, delivery_id: uuid.UUID, now: datetime, lease_until: datetime,
    token: uuid.UUID,
) -> NotificationDelivery | None:
    """The delivery, now `sending` under `token`, if it was due; None otherwise."""
    claimed = await session.execute(
        update(NotificationDelivery)
        .where(NotificationDelivery.id == delivery_id, _due(now))
        .values(status=DeliveryStatus.SENDING, lease_until=lease_until,
                attempts=NotificationDelivery.attempts + 1, claim_token=token)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await session.get(NotificationDelivery, delivery_id)


async def finish_delivery(
    session: AsyncSession, delivery_id: uuid.UUID, token: uuid.UUID, values: dict[str, Any]
) -> None:
    """Record the outcome, only if we still own the claim (the token we wrote)."""
    await session.execute(
        update(NotificationDelivery)
        .where(NotificationDelivery.id == delivery_id,
               NotificationDelivery.status == DeliveryStatus.SENDING,
               NotificationDelivery.claim_token == token)
        .values(**values, claim_token=None)
        .execution_options(synchronize_session=False)
    )
