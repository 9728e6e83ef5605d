"""Resolving an alert: once only, even when two admins press the button at the same moment,
with one audit line naming the admin who did."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from mindlinks.platform import alerts
from mindlinks.platform.audit import AuditLog
from mindlinks.platform.security import Actor, Role


def _admin() -> Actor:
    return Actor(user_id=uuid.uuid4(), email="ops@example.com", role=Role.ADMIN)


async def _raise(app: Any) -> uuid.UUID:
    async with app.state.db.session() as s:
        row = await alerts.raise_alert(s, source="test", kind="difference",
                                       key=f"test:{uuid.uuid4()}", summary="A difference")
        assert row is not None
        return row.id


async def _resolve(app: Any, alert_id: uuid.UUID, actor: Actor | None) -> bool:
    async with app.state.db.session() as s:
        return await alerts.resolve(s, alert_id, actor)


async def _audited(app: Any, alert_id: uuid.UUID) -> list[uuid.UUID | None]:
    async with app.state.db.session() as s:
        return list((await s.scalars(select(AuditLog.actor_id).where(
            AuditLog.action == "platform.alert.resolved",
            AuditLog.entity_id == str(alert_id)))).all())


async def test_an_alert_is_resolved_once_and_the_admin_is_on_record(app: Any) -> None:
    alert_id = await _raise(app)
    admin = _admin()
    assert await _resolve(app, alert_id, admin) is True
    assert await _resolve(app, alert_id, _admin()) is False  # resolved already
    assert await _resolve(app, uuid.uuid4(), admin) is False  # unknown
    assert await _audited(app, alert_id) == [admin.user_id]


async def test_the_command_line_resolves_without_an_audit_line(app: Any) -> None:
    alert_id = await _raise(app)
    assert await _resolve(app, alert_id, None) is True
    assert await _audited(app, alert_id) == []


@pytest.mark.race
async def test_two_admins_resolving_at_once_resolve_it_once(app: Any) -> None:
    alert_id = await _raise(app)
    admins = [_admin() for _ in range(8)]
    results = await asyncio.gather(*[_resolve(app, alert_id, a) for a in admins])
    assert results.count(True) == 1
    async with app.state.db.session() as s:
        audited = await s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "platform.alert.resolved",
            AuditLog.entity_id == str(alert_id)))
    assert audited == 1
