"""GET /api/notifications/me/stream over real HTTP (uvicorn on loopback): in-process fan-out,
and Redis pub/sub fan-out between two app instances."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import httpx
import pytest

from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.events import emit
from tests.factories import bearer, register
from tests.notifications.conftest import (
    emit_and_deliver,
    next_sse_event,
    running_app,
    serve,
    sse_stream,
)


def add_payment_route(application):
    """A stand-in for the payments domain: a request that emits `payment.received`."""
    router = domain_router(prefix="/test")

    @router.post("/payments/{user_id}")
    async def pay(user_id: uuid.UUID, session: SessionDep) -> dict[str, str]:
        await emit(session, "payment.received", {
            "paymentId": str(uuid.uuid4()), "userId": str(user_id), "amount": 5000,
            "currency": "USD", "clientName": "ABC Corp"})
        return {"status": "ok"}

    application.include_router(router)


async def test_stream_pushes_a_notification_emitted_by_another_request(settings):
    async with running_app(settings, dispatcher_in_process=True,
                           notifications_sse_heartbeat_seconds=0.3) as (app, client):
        add_payment_route(app)
        user = await register(client, "contractor")
        headers = bearer(user["accessToken"])
        async with sse_stream(app, headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await next_sse_event(lines, "unread") == {"type": "unread", "unread": 0}

            paid = await client.post(f"/test/payments/{user['user']['id']}")
            assert paid.status_code == 200
            # The in-process dispatcher delivers it: no drain() here.
            pushed = await next_sse_event(lines, "notification")
            assert pushed["unread"] == 1
            item = pushed["notification"]
            assert item["type"] == "payment_received"
            assert item["message"] == "You received $5,000.00 from ABC Corp"
            assert item["read"] is False

            read = await client.put(f"/api/notifications/{item['id']}/read",
                                    headers=headers)
            assert read.status_code == 200
            assert await next_sse_event(lines, "unread") == {"type": "unread", "unread": 0}

            saw_heartbeat = False
            async with asyncio.timeout(10):
                async for line in lines:
                    if line == ": heartbeat":
                        saw_heartbeat = True
                        break
            assert saw_heartbeat


async def test_stream_only_carries_the_callers_notifications(settings):
    async with running_app(settings) as (app, client):
        mine = await register(client, "contractor")
        theirs = await register(client, "contractor")
        async with sse_stream(app, bearer(mine["accessToken"])) as stream:
            lines = stream.aiter_lines()
            await next_sse_event(lines, "unread")
            for user in (theirs, mine):
                await emit_and_deliver(app, "withdrawal.completed", {
                    "withdrawalId": str(uuid.uuid4()), "userId": user["user"]["id"],
                    "amount": 1, "currency": "USD"})
            pushed = await next_sse_event(lines, "notification")
            # The first event on this stream is the caller's own, not the other user's.
            got = pushed["notification"]["id"]
            inbox = (await client.get("/api/notifications/me",
                                      headers=bearer(mine["accessToken"]))).json()
            assert [n["id"] for n in inbox["data"]] == [got]


async def test_redis_fans_out_between_two_app_instances(settings, redis_url):
    prefix = f"mindlinks-test:{uuid.uuid4().hex}"
    async with running_app(settings, redis_url=redis_url,
                           notifications_redis_prefix=prefix) as (app_a, client_a), \
            running_app(settings, redis_url=redis_url,
                        notifications_redis_prefix=prefix) as (app_b, _client_b):
        user = await register(client_a, "contractor")
        async with sse_stream(app_b, bearer(user["accessToken"])) as stream:
            lines = stream.aiter_lines()
            await next_sse_event(lines, "unread")
            # Instance A creates the notification; the stream is served by instance B.
            await emit_and_deliver(app_a, "withdrawal.completed", {
                "withdrawalId": str(uuid.uuid4()), "userId": user["user"]["id"],
                "amount": 250, "currency": "USD"})
            pushed = await next_sse_event(lines, "notification")
            assert pushed["notification"]["type"] == "withdrawal_completed"
            assert pushed["unread"] == 1
            assert app_a.state.notifier.hub.listener_count(
                uuid.UUID(user["user"]["id"])) == 0


async def test_a_process_without_streams_publishes_through_redis(redis_url):
    from mindlinks.notifications.live import LiveHub

    prefix = f"mindlinks-test:{uuid.uuid4().hex}"
    server, worker = LiveHub(redis_url, prefix), LiveHub(redis_url, prefix)  # worker: no start()
    user_id = uuid.uuid4()
    await server.start()
    try:
        async with server.listen(user_id) as queue:
            # Another user's message first: Redis delivers in order, so once ours is here,
            # theirs would have been too had it leaked - no waiting for a non-event.
            await worker.publish(uuid.uuid4(), {"type": "unread", "unread": 1})
            await worker.publish(user_id, {"type": "unread", "unread": 7})
            async with asyncio.timeout(60):  # a hang guard, not a speed check
                assert await queue.get() == {"type": "unread", "unread": 7}
            assert queue.empty()
    finally:
        await worker.stop()
        await server.stop()


async def test_redis_down_at_start_falls_back_to_this_process():
    from mindlinks.notifications.live import LiveHub

    hub = LiveHub("redis://127.0.0.1:1/0", f"mindlinks-test:{uuid.uuid4().hex}")
    user_id = uuid.uuid4()
    await hub.start()  # must not raise: the app keeps serving without Redis
    try:
        async with hub.listen(user_id) as queue:
            await hub.publish(user_id, {"type": "unread", "unread": 3})
            async with asyncio.timeout(5):
                assert await queue.get() == {"type": "unread", "unread": 3}
    finally:
        await hub.stop()


# --- a stream lives only as long as its login (issue 10) --------------------------------


@contextlib.asynccontextmanager
async def open_streams(app, *headers_list):
    """Serve `app` once and open one stream per headers; each stream's line iterator."""
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as http, \
            contextlib.AsyncExitStack() as stack:
        opened = []
        for headers in headers_list:
            response = await stack.enter_async_context(
                http.stream("GET", "/api/notifications/me/stream", headers=headers))
            opened.append(response)
        yield http, opened


async def ended(lines, timeout: float = 10) -> bool:
    """True once the server closes the stream (bounded in time)."""
    async with asyncio.timeout(timeout):
        async for _line in lines:
            pass
    return True


async def _end_login(client, app, how: str, user: dict, other_headers: dict) -> None:
    headers = bearer(user["accessToken"])
    if how == "logout":
        assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204
    elif how == "logout_all":
        assert (await client.post("/api/auth/logout-all", headers=other_headers)).status_code == 204
    elif how == "password_change":
        changed = await client.post("/api/auth/password/change", headers=other_headers, json={
            "currentPassword": user["password"], "newPassword": "another long passphrase 7"})
        assert changed.status_code == 200, changed.text
    else:
        from mindlinks.auth.models import User

        async with app.state.db.session() as s:
            row = await s.get(User, uuid.UUID(user["user"]["id"]))
            row.status = "suspended"


@pytest.mark.parametrize("how", ["logout", "logout_all", "password_change", "suspension"])
async def test_stream_ends_when_its_login_ends(settings, how):
    async with running_app(settings, notifications_sse_liveness_seconds=0.1,
                           notifications_sse_heartbeat_seconds=60) as (app, client):
        user = await register(client, "contractor")
        second = (await client.post("/api/auth/login", json={
            "email": user["user"]["email"], "password": user["password"]})).json()
        async with open_streams(app, bearer(user["accessToken"])) as (_http, [stream]):
            lines = stream.aiter_lines()
            await next_sse_event(lines, "unread")
            await _end_login(client, app, how, user, bearer(second["accessToken"]))
            # No event is needed: the periodic check notices and the server closes the stream.
            assert await ended(lines)


async def test_stream_checks_the_login_before_each_event(settings):
    # The periodic check is far away: only the per-event check can end this stream.
    async with running_app(settings, notifications_sse_liveness_seconds=3600,
                           notifications_sse_heartbeat_seconds=3600) as (app, client):
        user = await register(client, "contractor")
        payload = {"withdrawalId": str(uuid.uuid4()), "userId": user["user"]["id"],
                   "amount": 1, "currency": "USD"}
        async with open_streams(app, bearer(user["accessToken"])) as (_http, [stream]):
            lines = stream.aiter_lines()
            await next_sse_event(lines, "unread")
            await emit_and_deliver(app, "withdrawal.completed", payload)
            assert (await next_sse_event(lines, "notification"))["unread"] == 1
            await client.post("/api/auth/logout", headers=bearer(user["accessToken"]))
            await emit_and_deliver(app, "withdrawal.completed",
                                   {**payload, "withdrawalId": str(uuid.uuid4())})
            received = []
            async with asyncio.timeout(10):
                received = [line async for line in lines]
            assert not any(line.startswith("event: notification") for line in received)


async def test_open_streams_per_user_are_capped(settings):
    async with running_app(settings, notifications_max_streams_per_user=2,
                           notifications_sse_heartbeat_seconds=60) as (app, client):
        user = await register(client, "contractor")
        other = await register(client, "contractor")
        headers = bearer(user["accessToken"])
        async with open_streams(app, headers, headers) as (http, streams):
            # Keep each line iterator referenced: a collected one closes its stream.
            lines = [stream.aiter_lines() for stream in streams]
            for each in lines:
                await next_sse_event(each, "unread")
            refused = await http.get("/api/notifications/me/stream", headers=headers)
            assert refused.status_code == 429
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["code"] == "too_many_streams"
            # The cap is per user: someone else still gets a stream.
            async with http.stream("GET", "/api/notifications/me/stream",
                                   headers=bearer(other["accessToken"])) as theirs:
                assert theirs.status_code == 200  # closed at once, maybe mid-query
            await streams[0].aclose()
            user_id = uuid.UUID(user["user"]["id"])
            async with asyncio.timeout(10):  # the server notices the closed connection
                while app.state.notifier.hub.listener_count(user_id) > 1:
                    await asyncio.sleep(0.02)
            async with http.stream("GET", "/api/notifications/me/stream",
                                   headers=headers) as again:
                assert again.status_code == 200


@pytest.mark.parametrize("how", ["logout", "logout_all", "password_change", "suspension"])
async def test_a_stream_on_another_process_ends_when_its_login_ends(settings, redis_url, how):
    """RELIABILITY 44 on every process: the stream is served by instance B, the login is ended
    through instance A (they share the database and Redis, as two `serve` workers do), and B's
    periodic check closes the stream."""
    shared = {"redis_url": redis_url, "workers": 2,
              "notifications_redis_prefix": f"mindlinks-test:{uuid.uuid4().hex}",
              "notifications_sse_liveness_seconds": 0.1,
              "notifications_sse_heartbeat_seconds": 60}
    async with running_app(settings, **shared) as (app_a, client_a), \
            running_app(settings, **shared) as (app_b, _client_b):
        user = await register(client_a, "contractor")
        second = (await client_a.post("/api/auth/login", json={
            "email": user["user"]["email"], "password": user["password"]})).json()
        async with open_streams(app_b, bearer(user["accessToken"])) as (_http, [stream]):
            lines = stream.aiter_lines()
            await next_sse_event(lines, "unread")
            await _end_login(client_a, app_a, how, user, bearer(second["accessToken"]))
            assert await ended(lines)
