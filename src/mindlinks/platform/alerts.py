"""System alerts: differences an operator must look at (`platform_alerts`).

Until now nothing in the platform raised an alert (audit lines record what people did; logs
scroll away), so this is the small admin-facing record the reconciliation needed: one row per
distinct problem, keyed by a stable `key` chosen by the caller, so a job that finds the same
difference again (a re-run, two workers at once) raises it once. An operator lists them with
`mindlinks alerts list` or `GET /api/admin/alerts` (admin with MFA) and closes one with
`mindlinks alerts resolve <id>`; the row stays.

`details` holds ids, amounts and references only - never names or account numbers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Index, String, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform import audit
from mindlinks.platform.db import Base, IdMixin, TimestampMixin, discard, utcnow
from mindlinks.platform.security import Actor

MAX_KEY = 255
MAX_SUMMARY = 500


class SystemAlert(IdMixin, TimestampMixin, Base):
    __tablename__ = "platform_alerts"
    __table_args__ = (Index("ix_platform_alerts_open", "resolved_at", "created_at"),)

    source: Mapped[str] = mapped_column(String(60))  # e.g. "payments.reconciliation"
    kind: Mapped[str] = mapped_column(String(60))  # e.g. "missing_at_provider"
    key: Mapped[str] = mapped_column(String(MAX_KEY), unique=True)
    severity: Mapped[str] = mapped_column(String(10), default="error")
    summary: Mapped[str] = mapped_column(String(MAX_SUMMARY))
    details: Mapped[dict[str, Any]]
    resolved_at: Mapped[datetime | None]


async def raise_alert(session: AsyncSession, *, source: str, kind: str, key: str,
                      summary: str, details: dict[str, Any] | None = None,
                      severity: str = "error") -> SystemAlert | None:
    """Record an alert in the caller's transaction; None when one with `key` exists already
    (raised earlier, or meanwhile by a concurrent transaction: the unique key decides)."""
    key = key[:MAX_KEY]
    if await session.scalar(select(SystemAlert.id).where(SystemAlert.key == key)) is not None:
        return None
    row = SystemAlert(id=uuid.uuid4(), source=source[:60], kind=kind[:60], key=key,
                      severity=severity[:10], summary=summary[:MAX_SUMMARY],
                      details=details or {}, resolved_at=None)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        discard(session, row)
        return None
    return row


async def open_alerts(session: AsyncSession, *, source: str | None = None,
                      limit: int = 100, offset: int = 0,
                      include_resolved: bool = False, resolved_only: bool = False,
                      ) -> tuple[Sequence[SystemAlert], int]:
    """Alerts (open ones unless `include_resolved`; only resolved ones with `resolved_only`),
    oldest first, and their total."""
    where: list[ColumnElement[bool]] = (
        [SystemAlert.resolved_at.is_not(None)] if resolved_only
        else [] if include_resolved else [SystemAlert.resolved_at.is_(None)])
    if source is not None:
        where.append(SystemAlert.source == source)
    total = await session.scalar(select(func.count()).select_from(SystemAlert).where(*where))
    rows = (await session.scalars(select(SystemAlert).where(*where)
                                  .order_by(SystemAlert.created_at, SystemAlert.key)
                                  .offset(offset).limit(limit))).all()
    return rows, int(total or 0)


async def count_open(session: AsyncSession) -> int:
    """Open alerts (the admin home's queue count), one indexed count."""
    return int(await session.scalar(select(func.count()).select_from(SystemAlert).where(
        SystemAlert.resolved_at.is_(None))) or 0)


async def resolve(session: AsyncSession, alert_id: uuid.UUID,
                  actor: Actor | None = None) -> bool:
    """Mark an open alert resolved; False if unknown or resolved already. One conditional
    UPDATE, so of two admins resolving at once exactly one does. With an actor (the admin
    console) who closed it goes on record; the CLI runs as the operator on the host."""
    done = await session.execute(
        update(SystemAlert).where(SystemAlert.id == alert_id, SystemAlert.resolved_at.is_(None))
        .values(resolved_at=utcnow()).execution_options(synchronize_session=False))
    if cast(CursorResult[Any], done).rowcount != 1:
        return False
    if actor is not None:
        await audit.record(session, actor, "platform.alert.resolved", "platform_alert",
                           alert_id, {"via": "web"})
    return True

