"""The audit trail (seed table `audit-logs`): who did what to which entity, when, from where.

Every state change of a domain calls `record(...)` in its own transaction, so an audit line
exists exactly when the change does. IPs are kept only as keyed hashes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Index, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.bulk import insert_many
from mindlinks.platform.db import Base, IdMixin, TimestampMixin, new_id, utcnow
from mindlinks.platform.middleware import request_context
from mindlinks.platform.security import Actor


class AuditLog(IdMixin, TimestampMixin, Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_entity", "entity_type", "entity_id"),
        Index("ix_audit_logs_actor", "actor_id", "created_at"),
    )

    actor_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(100), index=True)
    entity_type: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))  # keyed hash, never the IP
    user_agent: Mapped[str | None] = mapped_column(String(512))
    request_id: Mapped[str | None] = mapped_column(String(128))
    details: Mapped[dict[str, Any]]


async def record(
    session: AsyncSession,
    actor: Actor | uuid.UUID | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str | None,
    details: dict[str, Any] | None = None,
) -> AuditLog:
    """Add an audit line to the caller's transaction. `details` must hold no secrets."""
    ctx = request_context.get()
    actor_id: uuid.UUID | None = actor.user_id if isinstance(actor, Actor) else actor
    role = str(actor.role) if isinstance(actor, Actor) else None
    entry = AuditLog(
        actor_id=actor_id,
        actor_role=role,
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id) if entity_id is not None else None,
        ip_address=ctx.ip_hash if ctx else None,
        user_agent=ctx.user_agent if ctx else None,
        request_id=ctx.request_id if ctx else None,
        details=details or {},
    )
    session.add(entry)
    await session.flush()
    return entry


def rows(
    actor: Actor | uuid.UUID | None,
    action: str,
    entity_type: str,
    entries: list[tuple[uuid.UUID | str, dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The `audit_logs` rows `record_many` inserts, for a caller that sends them in a
    statement of its own (with its other writes, one round trip): (entity id, details)."""
    ctx = request_context.get()
    actor_id: uuid.UUID | None = actor.user_id if isinstance(actor, Actor) else actor
    now = utcnow()
    common = {
        "actor_id": actor_id, "actor_role": str(actor.role) if isinstance(actor, Actor) else None,
        "action": action, "entity_type": entity_type,
        "ip_address": ctx.ip_hash if ctx else None, "user_agent": ctx.user_agent if ctx else None,
        "request_id": ctx.request_id if ctx else None, "created_at": now, "updated_at": now,
    }
    return [{**common, "id": new_id(), "entity_id": str(entity_id), "details": details or {}}
            for entity_id, details in entries]


async def record_many(
    session: AsyncSession,
    actor: Actor | uuid.UUID | None,
    action: str,
    entity_type: str,
    entries: list[tuple[uuid.UUID | str, dict[str, Any]]],
) -> None:
    """`record` for many entities at once (one INSERT round trip): (entity id, details)."""
    if not entries:
        return
    await insert_many(session, cast(Table, AuditLog.__table__),
                      rows(actor, action, entity_type, entries))


async def search(
    session: AsyncSession, *, action: str | None = None, entity_type: str | None = None,
    entity_id: str | None = None, actor_id: uuid.UUID | None = None,
    since: datetime | None = None, until: datetime | None = None, offset: int = 0,
    limit: int = 50,
) -> tuple[list[AuditLog], int]:
    """The audit trail, newest first, filtered (the admin audit-log viewer). `action` matches
    a prefix (`kyc.` finds every KYC action)."""
    stmt = select(AuditLog)
    if action:
        stmt = stmt.where(AuditLog.action.startswith(action[:100], autoescape=True))
    if entity_type:
        stmt = stmt.where(AuditLog.entity_type == entity_type[:60])
    if entity_id:
        stmt = stmt.where(AuditLog.entity_id == entity_id[:64])
    if actor_id:
        stmt = stmt.where(AuditLog.actor_id == actor_id)
    if since:
        stmt = stmt.where(AuditLog.created_at >= since)
    if until:
        stmt = stmt.where(AuditLog.created_at < until)
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = await session.scalars(stmt.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
                                 .offset(offset).limit(limit))
    return list(rows), total


async def daily_counts(session: AsyncSession, since: datetime) -> dict[date, int]:
    """Audit lines per UTC day since `since` (the admin home's activity chart). Grouped in
    Python from the timestamps: a date cast differs between SQLite and PostgreSQL."""
    rows = await session.scalars(select(AuditLog.created_at).where(AuditLog.created_at >= since)
                                 .limit(100_000))
    counts: dict[date, int] = {}
    for moment in rows:
        day = moment.astimezone(UTC).date()
        counts[day] = counts.get(day, 0) + 1
    return counts
