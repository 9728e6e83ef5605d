"""Transactional outbox, subscribers and the dispatcher.

`emit()` writes the event and one delivery row per subscriber in the caller's transaction,
so state and events never disagree and a rolled-back request emits nothing. The dispatcher
claims due deliveries (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional UPDATE that only
one claimer can win on both databases), runs the subscriber in its own transaction and marks
the delivery done *in that same transaction* - so a subscriber's database effects happen
exactly once even if two workers race or a lease runs out. Failures back off exponentially;
after `MAX_ATTEMPTS` the delivery is parked for an operator.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
import structlog
from sqlalchemy import (
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.bulk import insert_many, is_postgres
from mindlinks.platform.db import (
    Base,
    Database,
    IdMixin,
    TimestampMixin,
    after_commit,
    new_id,
    utcnow,
)
from mindlinks.platform.logging import describe_error

log = structlog.get_logger("mindlinks.events")

MAX_ATTEMPTS = 8


class OutboxEvent(IdMixin, TimestampMixin, Base):
    __tablename__ = "platform_outbox_events"

    name: Mapped[str] = mapped_column(String(120))  # unindexed: no query selects by name
    payload: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryStatus:
    PENDING = "pending"
    PROCESSING = "processing"
    DELIVERED = "delivered"
    PARKED = "parked"


class EventDelivery(IdMixin, TimestampMixin, Base):
    __tablename__ = "platform_event_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscriber"),
        Index("ix_platform_event_deliveries_due", "status", "next_attempt_at"),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("platform_outbox_events.id", ondelete="CASCADE")
    )
    subscriber: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    claim_token: Mapped[uuid.UUID | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]


@dataclass(frozen=True)
class Event:
    id: uuid.UUID
    name: str
    payload: dict[str, Any]
    occurred_at: datetime


Handler = Callable[[AsyncSession, Event], Awaitable[None]]

# event name -> {subscriber name -> handler}
_subscribers: dict[str, dict[str, Handler]] = {}
_wakers: set[asyncio.Event] = set()


def subscriber(event_name: str, *, name: str | None = None) -> Callable[[Handler], Handler]:
    """Register `fn(session, event)` for `event_name`. Handlers must be idempotent: delivery
    is at least once (their own DB effects are exactly once, see module doc)."""

    def register(fn: Handler) -> Handler:
        key = name or f"{fn.__module__}.{fn.__qualname__}"
        _subscribers.setdefault(event_name, {})[key] = fn
        return fn

    return register


def subscribers_of(event_name: str) -> dict[str, Handler]:
    return dict(_subscribers.get(event_name, {}))


def subscriptions() -> dict[str, list[tuple[str, str]]]:
    """Every registered subscription: event name -> [(subscriber name, handler's module)]
    (read by the architecture page, so it shows what the running code wires)."""
    return {event: sorted((key, fn.__module__) for key, fn in handlers.items())
            for event, handlers in sorted(_subscribers.items()) if handlers}


def unregister(event_name: str, name: str) -> None:
    _subscribers.get(event_name, {}).pop(name, None)


async def emit(session: AsyncSession, name: str, payload: dict[str, Any]) -> uuid.UUID:
    """Record `name` with `payload` in the caller's transaction; delivered after commit."""
    # Round-trip through orjson so UUIDs, datetimes and Decimals become plain JSON now,
    # not at delivery time.
    data = orjson.loads(orjson.dumps(payload, default=str))
    event = OutboxEvent(id=new_id(), name=name, payload=data, occurred_at=utcnow())
    session.add(event)
    # No ORM relationship links the two (lazy loading is banned), so the unit of work would
    # not order the inserts by the foreign key: write the event first.
    await session.flush()
    for sub in subscribers_of(name):
        session.add(EventDelivery(event_id=event.id, subscriber=sub))
    await session.flush()

    async def _wake() -> None:
        for waker in list(_wakers):
            waker.set()

    after_commit(session, _wake)
    return event.id


async def emit_many(
    session: AsyncSession, name: str, payloads: list[dict[str, Any]]
) -> list[uuid.UUID]:
    """`emit` for a batch of events of one name: two INSERT round trips, not two per event
    (jobs that emit one event per row of a large batch)."""
    if not payloads:
        return []
    events, deliveries = outbox_rows(session, name, payloads, encoded=is_postgres(session))
    # The tables, not the entities: one statement each (unnest arrays on PostgreSQL), no ORM
    # bulk-insert bookkeeping.
    await insert_many(session, cast(Table, OutboxEvent.__table__), events)
    await insert_many(session, cast(Table, EventDelivery.__table__), deliveries)
    return [row["id"] for row in events]


def outbox_rows(
    session: AsyncSession, name: str, payloads: list[dict[str, Any]], *, encoded: bool = False
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows `emit_many` inserts - (events, their deliveries), the events to be written
    first - for a caller that sends them in a statement of its own with its other writes (one
    round trip). The dispatchers are woken after commit, as by `emit`.

    `encoded=True` (for `bulk.insert_many` on PostgreSQL): each payload is its JSON text
    already (an `orjson.Fragment`, which `orjson.dumps` writes as it is), not the plain data
    decoded back from that text - one encoding per event instead of encode, decode, encode;
    the server stores the same jsonb."""
    now = utcnow()
    subscribers = list(subscribers_of(name))
    plain = (lambda p: orjson.Fragment(orjson.dumps(p, default=str))) if encoded else (
        lambda p: orjson.loads(orjson.dumps(p, default=str)))
    events = [{"id": new_id(), "name": name, "payload": plain(p),
               "occurred_at": now, "created_at": now, "updated_at": now} for p in payloads]
    deliveries = [{"id": new_id(), "event_id": row["id"], "subscriber": sub,
                   "status": DeliveryStatus.PENDING, "attempts": 0, "next_attempt_at": now,
                   "created_at": now, "updated_at": now}
                  for row in events for sub in subscribers]

    async def _wake() -> None:
        for waker in list(_wakers):
            waker.set()

    after_commit(session, _wake)
    return events, deliveries


def _backoff(attempts: int) -> timedelta:
    base = min(2 ** attempts, 3600)
    return timedelta(seconds=base * random.uniform(0.8, 1.2))  # noqa: S311 - jitter only


class Dispatcher:
    """Delivers due events to subscribers. Several may run at once (processes or tasks)."""

    def __init__(
        self, db: Database, *, batch_size: int = 50, lease_seconds: int = 120,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.db = db
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.wakeup = asyncio.Event()

    async def _claim(self) -> list[tuple[uuid.UUID, uuid.UUID]]:
        now = utcnow()
        due = or_(
            and_(
                EventDelivery.status == DeliveryStatus.PENDING,
                EventDelivery.next_attempt_at <= now,
            ),
            and_(
                EventDelivery.status == DeliveryStatus.PROCESSING,
                EventDelivery.lease_until < now,
            ),
        )
        token = uuid.uuid4()
        async with self.db.session() as session:
            ids = (
                await session.scalars(
                    select(EventDelivery.id)
                    .where(due)
                    .order_by(EventDelivery.next_attempt_at)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not ids:
                return []
            claimed = (
                await session.scalars(
                    update(EventDelivery)
                    .where(EventDelivery.id.in_(ids), due)
                    .values(
                        status=DeliveryStatus.PROCESSING,
                        lease_until=now + self.lease,
                        claim_token=token,
                        attempts=EventDelivery.attempts + 1,
                    )
                    .returning(EventDelivery.id)
                )
            ).all()
        return [(delivery_id, token) for delivery_id in claimed]

    async def _deliver(self, delivery_id: uuid.UUID, token: uuid.UUID) -> bool:
        async with self.db.sessionmaker() as session:
            delivery = await session.get(EventDelivery, delivery_id)
            if delivery is None:
                return False
            row = await session.get(OutboxEvent, delivery.event_id)
            assert row is not None
            event = Event(row.id, row.name, row.payload, row.occurred_at)
            subscriber_name, attempts = delivery.subscriber, delivery.attempts
            handler = _subscribers.get(event.name, {}).get(subscriber_name)
            try:
                if handler is None:
                    raise LookupError(f"no subscriber {subscriber_name!r} is registered")
                await handler(session, event)
                done = await session.execute(
                    update(EventDelivery)
                    .where(EventDelivery.id == delivery_id, EventDelivery.claim_token == token)
                    .values(status=DeliveryStatus.DELIVERED, delivered_at=utcnow(),
                            lease_until=None, last_error=None)
                    .execution_options(synchronize_session=False)
                )
                if done.rowcount != 1:  # type: ignore[attr-defined]
                    # Our lease ran out and another worker owns it now: undo our effects.
                    await session.rollback()
                    return False
                await session.commit()
                return True
            except Exception as exc:
                await session.rollback()
                error = f"{type(exc).__name__}: {exc}"[:2000]
                log.warning("subscriber_failed", event_name=event.name, subscriber=subscriber_name,
                            attempts=attempts, error=describe_error(exc))
        parked = attempts >= self.max_attempts
        async with self.db.session() as session:
            await session.execute(
                update(EventDelivery)
                .where(EventDelivery.id == delivery_id, EventDelivery.claim_token == token)
                .values(
                    status=DeliveryStatus.PARKED if parked else DeliveryStatus.PENDING,
                    next_attempt_at=utcnow() + _backoff(attempts),
                    lease_until=None,
                    last_error=error,
                )
            )
        if parked:
            log.error("delivery_parked", event_name=event.name, subscriber=subscriber_name)
        return False

    async def run_once(self) -> int:
        """Claim and deliver one batch; the number of deliveries that succeeded."""
        delivered = 0
        for delivery_id, token in await self._claim():
            if await self._deliver(delivery_id, token):
                delivered += 1
        return delivered

    async def drain(self, max_rounds: int = 100) -> int:
        """Deliver until nothing is due (tests and `mindlinks worker --once`)."""
        total = 0
        for _ in range(max_rounds):
            claimed_any = await self.run_once()
            total += claimed_any
            if not claimed_any:
                break
        return total

    async def run_forever(self, poll_seconds: float, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set. Stopping is graceful: set `stop` and the wake-up (see
        `stop_gracefully`) and the delivery in progress finishes first. A cancellation that the
        database driver turns into another error while a session closes (SQLAlchemy reports it
        as PendingRollbackError) must not keep the loop alive: `stop` is checked again before
        every wait, and the wait itself ends when `stop` is set."""
        _wakers.add(self.wakeup)
        try:
            while not stop.is_set():
                try:
                    await self.run_once()
                except Exception:
                    log.exception("dispatcher_error")
                if stop.is_set():
                    break
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), timeout=poll_seconds)
        finally:
            _wakers.discard(self.wakeup)

    async def stop_gracefully(self, task: asyncio.Task[None], stop: asyncio.Event,
                              grace_seconds: float = 10.0) -> None:
        """Let the running delivery finish (its subscriber's effects and the delivery record
        commit together), then end; cancel only if it overstays `grace_seconds`."""
        stop.set()
        self.wakeup.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=grace_seconds)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
