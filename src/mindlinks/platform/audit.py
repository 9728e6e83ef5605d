"""The audit trail (seed table `audit-logs`): who did what to which entity, when, from where.

Every state change of a domain calls `record(...)` in its own transaction, so an audit line
exists exactly when the change does. IPs are kept only as keyed hashes.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from sqlalchemy import Index, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin, utcnow
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
    ctx = request_context.get()
    actor_id: uuid.UUID | None = actor.user_id if isinstance(actor, Actor) else actor
    now = utcnow()
    common = {
        "actor_id": actor_id, "actor_role": str(actor.role) if isinstance(actor, Actor) else None,
        "action": action, "entity_type": entity_type,
        "ip_address": ctx.ip_hash if ctx else None, "user_agent": ctx.user_agent if ctx else None,
        "request_id": ctx.request_id if ctx else None, "created_at": now, "updated_at": now,
    }
    await session.execute(insert(cast(Table, AuditLog.__table__)), [
        {**common, "id": uuid.uuid4(), "entity_id": str(entity_id), "details": details or {}}
        for entity_id, details in entries])
