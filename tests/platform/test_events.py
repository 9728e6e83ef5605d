"""Outbox and dispatcher: transactional emit, retries, parking, no double delivery."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from mindlinks.platform import audit, events
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import Conflict
from mindlinks.platform.events import DeliveryStatus, Dispatcher, EventDelivery, OutboxEvent


@pytest.fixture
def registry():
    """Subscribers registered by a test are removed afterwards."""
    added: list[tuple[str, str]] = []

    def add(event_name, fn, name=None):
        name = name or f"test.{fn.__name__}.{uuid.uuid4().hex[:6]}"
        events.subscriber(event_name, name=name)(fn)
        added.append((event_name, name))
        return name

    yield add
    for event_name, name in added:
        events.unregister(event_name, name)


async def _effects(database, action):
    async with database.session() as s:
        return (await s.scalars(select(audit.AuditLog).where(audit.AuditLog.action == action))).all()


async def test_rolled_back_request_emits_nothing(app, client, database, registry):
    router = domain_router(prefix="/_probe")

    @router.post("/emit/{fail}")
    async def emit_route(fail: int, session: SessionDep) -> dict:
        await events.emit(session, "probe.happened", {"fail": fail})
        if fail:
            raise Conflict("no")
        return {"ok": True}

    app.include_router(router)
    assert (await client.post("/_probe/emit/1")).status_code == 409
    assert (await client.post("/_probe/emit/0")).status_code == 200
    async with database.session() as s:
        rows = (await s.scalars(select(OutboxEvent).where(OutboxEvent.name == "probe.happened"))).all()
    assert [r.payload for r in rows] == [{"fail": 0}]


async def test_each_subscriber_gets_the_event_once_with_its_effects(database, registry):
    async def record(session, event):
        await audit.record(session, None, f"probe.{event.payload['n']}", "probe", event.id)

    registry("probe.counted", record)
    dispatcher = Dispatcher(database)
    async with database.session() as s:
        for n in range(3):
            await events.emit(s, "probe.counted", {"n": n})
    assert await dispatcher.drain() == 3
    assert await dispatcher.drain() == 0
    for n in range(3):
        assert len(await _effects(database, f"probe.{n}")) == 1


async def test_failing_subscriber_is_retried_and_does_not_block_others(database, registry):
    calls = {"flaky": 0}

    async def flaky(session, event):
        calls["flaky"] += 1
        await audit.record(session, None, "probe.flaky.effect", "probe", event.id)
        if calls["flaky"] < 3:
            raise RuntimeError("temporary failure")

    async def steady(session, event):
        await audit.record(session, None, "probe.steady", "probe", event.id)

    flaky_name = registry("probe.retry", flaky)
    registry("probe.retry", steady)
    dispatcher = Dispatcher(database)
    async with database.session() as s:
        await events.emit(s, "probe.retry", {})
    await dispatcher.run_once()
    assert len(await _effects(database, "probe.steady")) == 1
    # The failed attempt's effects were rolled back with it.
    assert len(await _effects(database, "probe.flaky.effect")) == 0
    async with database.session() as s:
        delivery = await s.scalar(select(EventDelivery).where(EventDelivery.subscriber == flaky_name))
        assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
        assert "temporary failure" in delivery.last_error
        # Make it due now instead of waiting for the backoff.
        delivery.next_attempt_at = events.utcnow()
    await dispatcher.run_once()
    async with database.session() as s:
        d = await s.get(EventDelivery, delivery.id)
        d.next_attempt_at = events.utcnow()
    await dispatcher.run_once()
    async with database.session() as s:
        d = await s.get(EventDelivery, delivery.id)
    assert d.status == DeliveryStatus.DELIVERED and d.attempts == 3
    assert len(await _effects(database, "probe.flaky.effect")) == 1


async def test_delivery_is_parked_after_max_attempts(database, registry):
    async def broken(session, event):
        raise ValueError("always")

    name = registry("probe.broken", broken)
    dispatcher = Dispatcher(database, max_attempts=3)
    async with database.session() as s:
        await events.emit(s, "probe.broken", {})
    for _ in range(3):
        await dispatcher.run_once()
        async with database.session() as s:
            d = await s.scalar(select(EventDelivery).where(EventDelivery.subscriber == name))
            d.next_attempt_at = events.utcnow()
    async with database.session() as s:
        d = await s.scalar(select(EventDelivery).where(EventDelivery.subscriber == name))
    assert d.status == DeliveryStatus.PARKED and d.attempts == 3
    assert await dispatcher.run_once() == 0


@pytest.mark.race
async def test_concurrent_workers_never_deliver_twice(database, registry, db_backend):
    async def slowish(session, event):
        await asyncio.sleep(0.001)
        await audit.record(session, None, "probe.once", "probe", event.id)

    registry("probe.race", slowish)
    async with database.session() as s:
        for n in range(60):
            await events.emit(s, "probe.race", {"n": n})
    workers = [Dispatcher(database, batch_size=7) for _ in range(4)]

    async def work(d):
        total = 0
        for _ in range(40):
            total += await d.run_once()
        return total

    delivered = await asyncio.gather(*(work(w) for w in workers))
    assert sum(delivered) == 60
    async with database.session() as s:
        per_event = (await s.execute(
            select(audit.AuditLog.entity_id, func.count())
            .where(audit.AuditLog.action == "probe.once")
            .group_by(audit.AuditLog.entity_id))).all()
    assert len(per_event) == 60 and all(count == 1 for _, count in per_event)


async def test_expired_lease_is_reclaimed_and_the_stale_worker_cannot_finish(database, registry):
    started = asyncio.Event()
    release = asyncio.Event()

    async def stuck(session, event):
        await audit.record(session, None, "probe.lease", "probe", event.id)
        started.set()
        await release.wait()

    registry("probe.lease", stuck)
    async with database.session() as s:
        await events.emit(s, "probe.lease", {})
    first = Dispatcher(database, lease_seconds=0)
    claimed = await first._claim()
    assert len(claimed) == 1
    # The lease (0 s) has run out: a second worker reclaims and delivers.
    release.set()
    second = Dispatcher(database)
    assert await second.run_once() == 1
    # The first worker's late completion is refused and its effects rolled back.
    assert await first._deliver(*claimed[0]) is False
    assert len(await _effects(database, "probe.lease")) == 1


async def test_in_process_dispatcher_delivers_after_commit(settings, registry):
    import httpx

    from mindlinks.app import create_app

    got = asyncio.Event()

    async def notice(session, event):
        got.set()

    registry("probe.live", notice)
    # The poll is an hour away: only the commit's wake-up can deliver within this test.
    application = create_app(settings.model_copy(update={"dispatcher_in_process": True,
                                                         "dispatcher_poll_seconds": 3600}))
    router = domain_router()

    @router.post("/_probe/live")
    async def live(session: SessionDep) -> dict:
        await events.emit(session, "probe.live", {})
        return {}

    application.include_router(router)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.post("/_probe/live")
            assert response.status_code == 200
            # Woken by the commit. The timeout only stops a broken wake-up from hanging the
            # suite: it is far below the poll interval and far above any delivery time.
            await asyncio.wait_for(got.wait(), timeout=120)
