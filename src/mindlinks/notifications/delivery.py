"""Sending email and SMS deliveries, and live updates after commit.

Deliveries are rows written in the transaction that created the notification. Once that
transaction commits, the `Notifier` sends them at once in the background; a failure is
retried with exponential backoff by `jobs.deliver_due` until `notifications_max_attempts`,
then recorded as `failed` with the last error. A send is claimed (status `sending` with a
lease) before the provider is called and the outcome is recorded after, so the network call
never holds a database transaction; a process dying mid-send leaves a lease that runs out and
the delivery is tried again (at least once).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.notifications import repository as repo
from mindlinks.notifications.channels import (
    ChannelError,
    Channels,
    OutgoingEmail,
)
from mindlinks.notifications.live import LiveHub
from mindlinks.notifications.models import Channel, DeliveryStatus
from mindlinks.platform.db import Database, utcnow
from mindlinks.platform.logging import describe_error
from mindlinks.settings import Settings

log = structlog.get_logger("mindlinks.notifications")

SESSION_KEY = "mindlinks.notifications"
_PENDING_KEY = "mindlinks.notifications.pending"
LEASE = timedelta(minutes=5)


@dataclass
class _Pending:
    messages: list[tuple[uuid.UUID, dict[str, Any]]] = field(default_factory=list)
    deliveries: list[uuid.UUID] = field(default_factory=list)


class Notifier:
    """The notifications domain's process-wide parts: channels, live hub, settings."""

    def __init__(self, settings: Settings, db: Database, channels: Channels, hub: LiveHub,
                 secret: bytes) -> None:
        self.settings = settings
        self.db = db
        self.channels = channels
        self.hub = hub
        self.secret = secret
        self._tasks: set[asyncio.Task[None]] = set()
        self._timers: set[Any] = set()
        # Time and the retry timer are attributes so tests can move time and fire retries
        # instead of sleeping: `call_later(delay, fn)` returns a handle with `cancel()`.
        self.clock: Callable[[], datetime] = utcnow
        self.call_later: Callable[[float, Callable[[], None]], Any] = (
            lambda delay, fn: asyncio.get_running_loop().call_later(delay, fn))

    @staticmethod
    def of(session: AsyncSession) -> Notifier:
        notifier = session.info.get(SESSION_KEY)
        if notifier is None:
            raise RuntimeError("notifications are not installed on this database's sessions")
        assert isinstance(notifier, Notifier)
        return notifier

    @staticmethod
    def for_database(db: Database) -> Notifier:
        """The notifier installed on `db`'s sessions (scheduled jobs get only the database);
        for a bare database (`mindlinks jobs run`) one built from the environment's settings."""
        notifier = db.sessionmaker.kw.get("info", {}).get(SESSION_KEY)
        if isinstance(notifier, Notifier):
            return notifier
        from mindlinks.notifications.channels import build_channels
        from mindlinks.platform.security import load_secret_key
        from mindlinks.settings import get_settings

        settings = get_settings()
        notifier = Notifier(settings, db, build_channels(settings),
                            LiveHub(settings.redis_url, settings.notifications_redis_prefix),
                            load_secret_key(settings))
        db.sessionmaker.configure(info={**(db.sessionmaker.kw.get("info") or {}),
                                        SESSION_KEY: notifier})
        return notifier

    # --- after commit ------------------------------------------------------------------

    def _pending(self, session: AsyncSession) -> _Pending:
        pending: _Pending | None = session.info.get(_PENDING_KEY)
        if pending is None:
            pending = session.info[_PENDING_KEY] = _Pending()
            sync = session.sync_session
            # SQLAlchemy's own events, so this works on every session: requests commit
            # through `platform.db.commit`, the event dispatcher calls `commit()` directly.
            event.listen(sync, "after_commit", self._on_commit, once=True)
            event.listen(sync, "after_rollback", self._on_rollback, once=True)
        return pending

    def _on_commit(self, sync_session: Any) -> None:
        pending = sync_session.info.pop(_PENDING_KEY, None)
        if event.contains(sync_session, "after_rollback", self._on_rollback):
            event.remove(sync_session, "after_rollback", self._on_rollback)
        if pending:
            self._spawn(self._after_commit(pending))

    def _on_rollback(self, sync_session: Any) -> None:
        sync_session.info.pop(_PENDING_KEY, None)
        if event.contains(sync_session, "after_commit", self._on_commit):
            event.remove(sync_session, "after_commit", self._on_commit)

    def publish_after_commit(self, session: AsyncSession, user_id: uuid.UUID,
                             message: dict[str, Any]) -> None:
        self._pending(session).messages.append((user_id, message))

    def send_after_commit(self, session: AsyncSession, delivery_id: uuid.UUID) -> None:
        self._pending(session).deliveries.append(delivery_id)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_commit(self, pending: _Pending) -> None:
        for user_id, message in pending.messages:
            await self.hub.publish(user_id, message)
        for delivery_id in pending.deliveries:
            try:
                await self.send(delivery_id)
            except Exception:
                log.exception("delivery_error", delivery_id=str(delivery_id))

    async def drain(self) -> None:
        """Wait for background work (shutdown, tests); scheduled retries are not waited for."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def close(self) -> None:
        """Cancel scheduled retries (the retry job picks them up later)."""
        for timer in list(self._timers):
            timer.cancel()
        self._timers.clear()

    def _retry_later(self, delivery_id: uuid.UUID, delay: float) -> None:
        # In-process retry at the due time, so retries happen while this process lives; if
        # it dies first, `jobs.deliver_due` sends it (the row is the truth, not the timer).
        def fire() -> None:
            self._timers.discard(handle)
            self._spawn(self.send(delivery_id))

        handle = self.call_later(delay + 0.5, fire)
        self._timers.add(handle)

    # --- sending -----------------------------------------------------------------------

    async def due_ids(self, now: datetime, limit: int = 100) -> list[uuid.UUID]:
        async with self.db.sessionmaker() as session:
            return await repo.due_delivery_ids(session, now, limit)

    async def send(self, delivery_id: uuid.UUID, now: datetime | None = None) -> bool:
        """Claim the delivery if it is due, send it, record the outcome. True when sent."""
        now_is_real = now is None
        now = now or self.clock()
        token = uuid.uuid4()
        async with self.db.session() as session:
            row = await repo.claim_delivery(session, delivery_id, now, now + LEASE, token)
            if row is None:
                return False  # sent, failed, not due yet, or another worker has it
            channel, recipient, attempts = row.channel, row.recipient, row.attempts
            email = OutgoingEmail(to=recipient, subject=row.subject or "", text=row.body_text,
                                  html=row.body_html, headers=dict(row.headers or {}))
            sms_body = row.body_text
        error: str | None = None
        error_type: str | None = None  # what the log says: a provider's message may quote
        provider_id: str | None = None  # the recipient's address; the row keeps it in full
        try:
            if channel == Channel.EMAIL:
                provider_id = await self.channels.email.send(email)
            else:
                provider_id = await self.channels.sms.send(recipient, sms_body)
        except ChannelError as exc:
            error, error_type = str(exc)[:2000], describe_error(exc)
        except Exception as exc:  # a transport bug must not lose the delivery
            error, error_type = f"{type(exc).__name__}: {exc}"[:2000], describe_error(exc)
        values: dict[str, Any]
        if error is None:
            values = {"status": DeliveryStatus.SENT, "sent_at": self.clock(), "lease_until": None,
                      "provider_message_id": provider_id, "last_error": None}
        elif attempts >= self.settings.notifications_max_attempts:
            values = {"status": DeliveryStatus.FAILED, "lease_until": None, "last_error": error}
            log.error("delivery_failed", delivery_id=str(delivery_id), channel=channel,
                      attempts=attempts, error=error_type)
        else:
            delay = self.settings.notifications_retry_base_seconds * 2 ** (attempts - 1)
            values = {"status": DeliveryStatus.PENDING, "lease_until": None, "last_error": error,
                      "next_attempt_at": now + timedelta(seconds=delay)}
            log.warning("delivery_retry", delivery_id=str(delivery_id), channel=channel,
                        attempts=attempts, error=error_type)
            if now_is_real:
                self._retry_later(delivery_id, delay)
        async with self.db.session() as session:
            await repo.finish_delivery(session, delivery_id, token, values)
        return error is None
