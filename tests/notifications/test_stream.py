"""GET /api/notifications/me/stream over real HTTP (uvicorn on loopback): in-process fan-out,
and Redis pub/sub fan-out between two app instances."""

from __future__ import annotations

import asyncio
import uuid

from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.events import emit
from tests.factories import bearer, register
from tests.notifications.conftest import (
    emit_and_deliver,
    next_sse_event,
    running_app,
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
            await worker.publish(user_id, {"type": "unread", "unread": 7})
            await worker.publish(uuid.uuid4(), {"type": "unread", "unread": 1})
            async with asyncio.timeout(10):
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
