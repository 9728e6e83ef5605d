"""Live updates for the SSE stream: per-user fan-out of small JSON messages.

In-process by default. With `MINDLINKS_REDIS_URL` set, every message is published on the
Redis channel `<prefix>:user:<user id>` and each process relays what it receives to its own
listeners, so a notification created by the worker (or another server process) reaches a
stream served by any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import structlog

from mindlinks.platform.errors import TooManyRequests

log = structlog.get_logger("mindlinks.notifications.live")

QUEUE_SIZE = 100
RETRY_SECONDS = 2.0  # between attempts to (re)subscribe when Redis is unreachable


class TooManyStreams(TooManyRequests):
    code, title = "too_many_streams", "Too many open streams"


class LiveHub:
    def __init__(self, redis_url: str | None = None, prefix: str = "mindlinks:notifications"):
        self.redis_url = redis_url
        self.prefix = prefix
        self._listeners: dict[uuid.UUID, set[asyncio.Queue[dict[str, Any]]]] = {}
        self._redis: Any = None
        self._pubsub: Any = None
        self._task: asyncio.Task[None] | None = None

    def channel(self, user_id: uuid.UUID) -> str:
        return f"{self.prefix}:user:{user_id}"

    async def start(self) -> None:
        """Connect to Redis and wait until the subscription is confirmed (no-op without).

        Redis being down does not stop the app: the relay keeps retrying in the background,
        and meanwhile messages fan out in this process only (readiness reports Redis down)."""
        if not self.redis_url:
            return
        from redis import asyncio as aioredis

        self._redis = aioredis.from_url(self.redis_url)
        try:
            await self._subscribe()
        except Exception:
            log.warning("live_redis_unavailable", exc_info=True)
            await self._drop_subscription()
        self._task = asyncio.create_task(self._relay())

    async def _subscribe(self) -> None:
        self._pubsub = self._redis.pubsub()
        await self._pubsub.psubscribe(f"{self.prefix}:user:*")
        # The confirmation: after it, every publish reaches us.
        async with asyncio.timeout(5):
            while True:
                msg = await self._pubsub.get_message(timeout=1.0)
                if msg and msg.get("type") == "psubscribe":
                    break

    async def _drop_subscription(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        self._pubsub = None

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
        self._pubsub = self._redis = None

    async def _relay(self) -> None:
        while True:
            try:
                if self._pubsub is None:
                    await self._subscribe()
                    log.info("live_redis_subscribed")
                msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("live_redis_error", exc_info=True)
                await self._drop_subscription()
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if not msg or msg.get("type") != "pmessage":
                continue
            try:
                channel = msg["channel"].decode()
                user_id = uuid.UUID(channel.rsplit(":", 1)[1])
                self._fan_out(user_id, orjson.loads(msg["data"]))
            except (ValueError, KeyError, orjson.JSONDecodeError):
                log.warning("live_bad_message")

    async def publish(self, user_id: uuid.UUID, message: dict[str, Any]) -> None:
        """Send `message` to every open stream of `user_id`, in any process. Never raises:
        live updates are best effort (the inbox is the record)."""
        if self.redis_url and self._redis is None:
            # A process that publishes without serving streams (`mindlinks worker`) needs no
            # subscription, only a connection.
            from redis import asyncio as aioredis

            self._redis = aioredis.from_url(self.redis_url)
        if self._redis is None:
            self._fan_out(user_id, message)
            return
        try:
            await self._redis.publish(self.channel(user_id), orjson.dumps(message, default=str))
        except Exception:
            log.exception("live_publish_failed")
            self._fan_out(user_id, message)

    def _fan_out(self, user_id: uuid.UUID, message: dict[str, Any]) -> None:
        for queue in list(self._listeners.get(user_id, ())):
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                # A stalled client: drop the oldest; the next unread count corrects it.
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(message)

    def check_capacity(self, user_id: uuid.UUID, limit: int, retry_after: int = 15) -> None:
        """`TooManyStreams` when `user_id` already has `limit` streams open in this process.
        The new stream is refused rather than the oldest closed: an old tab keeps working and
        two tabs can never take turns kicking each other out."""
        if self.listener_count(user_id) >= limit:
            raise TooManyStreams(f"At most {limit} live streams may be open at once; close one.",
                                 retry_after=retry_after)

    @contextlib.asynccontextmanager
    async def listen(self, user_id: uuid.UUID) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._listeners.setdefault(user_id, set()).add(queue)
        try:
            yield queue
        finally:
            listeners = self._listeners.get(user_id)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    self._listeners.pop(user_id, None)

    def listener_count(self, user_id: uuid.UUID) -> int:
        return len(self._listeners.get(user_id, ()))
