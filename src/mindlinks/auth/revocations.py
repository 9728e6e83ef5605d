"""The revocation set: which logins (token families) ended and which users are suspended, held
in every serving process so that an authenticated request needs no database query to know its
token is still good.

- Written synchronously, before the revoking transaction commits, by the only two places that
  end logins (`repository.revoke_family` / `revoke_user_sessions`: logout, logout-all, password
  change and reset, refresh-token reuse, suspension) and by suspension itself. Writing before
  the commit fails closed: a revocation whose transaction then fails still ends the login.
- With Redis (`redis_url`): each entry is also stored there (families with a TTL, suspended
  users in a set) and published; every process applies the message and acknowledges it, and
  the writer waits for all acknowledgements (bounded) before its response goes out. So a
  revoked token fails on the very next request, whichever process serves it.
- Loaded at start-up from the database (the source of truth) and Redis, after subscribing.
- A revoked family is remembered for one access-token lifetime (plus clock skew): afterwards
  every access token of it has expired anyway. Access tokens never outlive their login's
  absolute expiry (`sessions._access_token`).

Without Redis the set is per process, which is exact only when one process serves requests:
with several workers and no Redis the app checks the database on every request instead
(`app.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import orjson
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth.models import AuthSession, User, UserStatus
from mindlinks.platform.db import Database, utcnow

log = structlog.get_logger("mindlinks.auth.revocations")

CHANNEL = "mindlinks:revocations"
ACK_CHANNEL = "mindlinks:revocations:ack"
FAMILY_KEY = "mindlinks:revoked-family:"
SUSPENDED_KEY = "mindlinks:suspended-users"
SKEW_SECONDS = 60
ACK_TIMEOUT_SECONDS = 2.0


class Revocations:
    def __init__(self, db: Database, *, redis_url: str | None, access_ttl_seconds: int) -> None:
        self.db = db
        self.redis_url = redis_url
        self.keep_seconds = access_ttl_seconds + SKEW_SECONDS
        self.families: dict[uuid.UUID, float] = {}  # family -> forget after (epoch seconds)
        self.suspended: set[uuid.UUID] = set()
        self.instance = os.urandom(8).hex()
        self._redis: Any = None
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._starting: asyncio.Lock | None = None
        self._acks: dict[str, tuple[int, asyncio.Future[None]]] = {}
        self._next_prune = 0.0
        self.channel = CHANNEL
        self.ack_channel = ACK_CHANNEL

    # --- reads (every authenticated request) ------------------------------------------

    def is_revoked(self, family_id: uuid.UUID) -> bool:
        until = self.families.get(family_id)
        return until is not None and until > time.time()

    def is_suspended(self, user_id: uuid.UUID) -> bool:
        return user_id in self.suspended

    @property
    def ready(self) -> bool:
        """Loaded (and subscribed, with Redis): checked before each read."""
        return self._ready.is_set()

    async def ensure_started(self) -> None:
        if self._ready.is_set():
            return
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if not self._ready.is_set():
                await self.start()

    # --- life cycle ---------------------------------------------------------------------

    async def try_start(self) -> None:
        """At start-up: a database or Redis that is down must not stop the app from starting
        (readiness reports it); the set is then loaded by the first authenticated request,
        which fails until it can be - never accepting a token unchecked."""
        try:
            await self.ensure_started()
        except Exception:
            log.warning("revocations_not_loaded", exc_info=True)

    async def start(self) -> None:
        if self._ready.is_set():
            return
        try:
            await self._start()
        except BaseException:
            await self.stop()  # nothing half-started stays behind; the next call starts over
            raise
        self._ready.set()

    async def _start(self) -> None:
        if self.redis_url:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(self.redis_url)
            # Pub/sub channels are shared by every database number of a server: the number
            # is part of the name, so two deployments (or test runs) on one server never mix.
            db_number = self._redis.connection_pool.connection_kwargs.get("db", 0)
            self.channel = f"{CHANNEL}:{db_number}"
            self.ack_channel = f"{ACK_CHANNEL}:{db_number}"
            self._pubsub = self._redis.pubsub()
            # Subscribe first, load second: nothing published in between is missed.
            await self._pubsub.subscribe(self.channel, self.ack_channel)
            self._listener = asyncio.create_task(self._listen())
        await self._load()

    async def stop(self) -> None:
        listener, pubsub, redis = self._listener, self._pubsub, self._redis
        self._listener = self._pubsub = self._redis = None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        with contextlib.suppress(Exception):
            if pubsub is not None:
                await pubsub.aclose()
            if redis is not None:
                await redis.aclose()

    async def _load(self) -> None:
        async with self.db.session() as session:
            rows = await session.execute(
                select(AuthSession.family_id, AuthSession.revoked_at).where(
                    AuthSession.revoked_at > utcnow() - timedelta(seconds=self.keep_seconds))
            )
            for family_id, revoked_at in rows:
                if revoked_at is not None:
                    self._remember(family_id, revoked_at.timestamp() + self.keep_seconds)
            self.suspended.update(await session.scalars(
                select(User.id).where(User.status == UserStatus.SUSPENDED)))
        await self._load_redis()

    async def _load_redis(self) -> None:
        now = time.time()
        if self._redis is not None:
            async for key in self._redis.scan_iter(match=FAMILY_KEY + "*", count=1000):
                ttl = await self._redis.ttl(key)
                family = uuid.UUID(key.decode()[len(FAMILY_KEY):])
                self._remember(family, now + max(ttl, 0))
            self.suspended.update(uuid.UUID(m.decode())
                                  for m in await self._redis.smembers(SUSPENDED_KEY))

    # --- writes -------------------------------------------------------------------------

    def _remember(self, family_id: uuid.UUID, until: float) -> None:
        if until > self.families.get(family_id, 0.0):
            self.families[family_id] = until

    def _prune(self) -> None:
        now = time.time()
        if now < self._next_prune:
            return
        self._next_prune = now + 60
        for family, until in list(self.families.items()):
            if until <= now:
                del self.families[family]

    def _apply(self, message: dict[str, Any]) -> None:
        until = time.time() + self.keep_seconds
        for family in message.get("families", ()):
            self._remember(uuid.UUID(family), until)
        for user in message.get("suspend", ()):
            self.suspended.add(uuid.UUID(user))
        for user in message.get("unsuspend", ()):
            self.suspended.discard(uuid.UUID(user))

    async def publish(self, *, families: Sequence[uuid.UUID] = (),
                      suspend: Sequence[uuid.UUID] = (),
                      unsuspend: Sequence[uuid.UUID] = ()) -> None:
        """Apply here, store in Redis and wait until every subscribed process applied it."""
        message: dict[str, Any] = {
            "families": [str(f) for f in families], "suspend": [str(u) for u in suspend],
            "unsuspend": [str(u) for u in unsuspend]}
        self._apply(message)
        self._prune()
        if not self.redis_url:
            return
        await self.ensure_started()
        nonce = f"{self.instance}:{os.urandom(8).hex()}"
        message["nonce"] = nonce
        async with self._redis.pipeline(transaction=True) as pipe:
            for family in message["families"]:
                pipe.set(FAMILY_KEY + family, b"1", ex=self.keep_seconds)
            if message["suspend"]:
                pipe.sadd(SUSPENDED_KEY, *message["suspend"])
            if message["unsuspend"]:
                pipe.srem(SUSPENDED_KEY, *message["unsuspend"])
            await pipe.execute()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks[nonce] = (0, done)
        try:
            receivers = await self._redis.publish(self.channel, orjson.dumps(message))
            self._acks[nonce] = (receivers, done)
            if receivers == 0:
                return
            self._count_ack(nonce, 0)
            await asyncio.wait_for(done, ACK_TIMEOUT_SECONDS)
        except TimeoutError:
            # A process that does not answer is stuck or gone; the entries are in Redis for
            # it (and for any process starting now).
            log.warning("revocation_ack_timeout", nonce=nonce)
        finally:
            self._acks.pop(nonce, None)

    def _count_ack(self, nonce: str, add: int) -> None:
        entry = self._acks.get(nonce)
        if entry is None:
            return
        expected, done = entry
        received = getattr(done, "received", 0) + add
        done.received = received  # type: ignore[attr-defined]
        if expected and received >= expected and not done.done():
            done.set_result(None)

    async def _listen(self) -> None:
        while True:
            try:
                async for raw in self._pubsub.listen():
                    if raw.get("type") != "message":
                        continue
                    if raw["channel"].decode() == self.ack_channel:
                        self._count_ack(raw["data"].decode(), 1)
                        continue
                    message = orjson.loads(raw["data"])
                    self._apply(message)
                    await self._redis.publish(self.ack_channel, message["nonce"])
            except asyncio.CancelledError:
                raise
            except Exception:
                # Messages published while the subscription was down are lost: once it is
                # back, what Redis holds is read again.
                log.warning("revocation_listener_failed", exc_info=True)
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):
                    await self._load_redis()


def of(session: AsyncSession) -> Revocations | None:
    """The revocation set of the app this session belongs to (set by `install`)."""
    return session.info.get("revocations")


def install(db: Database, revocations: Revocations) -> None:
    """Every session of `db` (requests, jobs) carries the set, so the repository's revoking
    queries can record into it."""
    db.sessionmaker.configure(info={**db.sessionmaker.kw.get("info", {}),
                                    "revocations": revocations})
