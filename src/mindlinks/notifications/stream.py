"""The body of `GET /api/notifications/me/stream`: Server-Sent Events for one login.

A stream lives as long as the login that opened it: before every event it sends, and every
`notifications_sse_liveness_seconds` while idle, it asks auth's liveness check (the same
`ActorLoader` every request goes through) whether the login is still alive, and ends when it
is not - after logout, logout-all, suspension, password change or reset.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import orjson
from fastapi import Request

from mindlinks.notifications import repository as repo
from mindlinks.notifications.delivery import Notifier
from mindlinks.platform.errors import PermissionDenied, Unauthorized
from mindlinks.platform.security import Actor

T = TypeVar("T")


def _sse(event: str, data: object) -> str:
    return f"event: {event}\ndata: {orjson.dumps(data).decode()}\n\n"


async def _to_completion(work: Awaitable[T]) -> T:
    """Run a database read to its end even when the client goes away meanwhile: a session
    cancelled mid-transaction is not returned cleanly and, on SQLite, keeps the write lock
    (`BEGIN IMMEDIATE`) until it is garbage-collected, stalling every other request."""
    return await asyncio.shield(asyncio.ensure_future(work))


async def _still_signed_in(request: Request, notifier: Notifier, actor: Actor) -> bool:
    """The one liveness check of an open stream: auth's per-request check, re-run."""
    claims = {"sub": str(actor.user_id), "sid": str(actor.session_id)}

    async def check() -> bool:
        async with notifier.db.sessionmaker() as session:
            try:
                await request.app.state.actor_loader(session, claims)
            except (Unauthorized, PermissionDenied):
                return False
        return True

    return await _to_completion(check())


async def _unread(notifier: Notifier, actor: Actor) -> int:
    async with notifier.db.sessionmaker() as session:
        return await repo.unread_count(session, actor.user_id)


async def events(request: Request, notifier: Notifier, actor: Actor) -> AsyncIterator[str]:
    settings = notifier.settings
    heartbeat = settings.notifications_sse_heartbeat_seconds
    every = settings.notifications_sse_liveness_seconds
    loop = asyncio.get_running_loop()
    # The endpoint checked the cap already; streams opened at the same moment are checked
    # again here, with no await between the check and `listen` registering this one.
    if notifier.hub.listener_count(actor.user_id) >= settings.notifications_max_streams_per_user:
        return
    async with notifier.hub.listen(actor.user_id) as queue:
        # Listening before counting: nothing created in between is missed.
        unread = await _to_completion(_unread(notifier, actor))
        yield "retry: 3000\n\n" + _sse("unread", {"type": "unread", "unread": unread})
        next_check, next_beat = loop.time() + every, loop.time() + heartbeat
        while True:
            message = None
            try:
                wait = max(0.0, min(next_check, next_beat) - loop.time())
                message = await asyncio.wait_for(queue.get(), timeout=wait)
            except TimeoutError:
                pass
            now = loop.time()
            if message is not None or now >= next_check:
                if not await _still_signed_in(request, notifier, actor):
                    return
                next_check = now + every
            if message is not None:
                yield _sse(str(message.get("type", "message")), message)
            elif now >= next_beat:
                if await request.is_disconnected():
                    return
                yield ": heartbeat\n\n"
                next_beat = now + heartbeat
