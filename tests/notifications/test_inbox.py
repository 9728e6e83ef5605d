"""GET /api/notifications/me, PUT /{id}/read, PUT /me/read-all (seed 000 shapes)."""

from __future__ import annotations

import uuid

from tests.notifications.conftest import emit_and_deliver


async def _payment(app, user, amount=5000.00, **extra):
    return await emit_and_deliver(app, "payment.received", {
        "paymentId": str(uuid.uuid4()), "contractId": str(uuid.uuid4()),
        "contractorId": str(uuid.uuid4()), "userId": str(user.id), "amount": amount,
        "currency": "USD", "clientName": "ABC Corp", **extra})


async def test_inbox_has_the_seed_shape_newest_first(app, client, contractor):
    await _payment(app, contractor)
    await emit_and_deliver(app, "contract.ready_for_signature", {
        "contractId": str(uuid.uuid4()), "contractorId": str(uuid.uuid4()),
        "userId": str(contractor.id), "clientName": "XYZ Ltd"})

    response = await client.get("/api/notifications/me", headers=contractor.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"total": 2, "unread": 2, "page": 1, "limit": 20, "totalPages": 1}
    newest, oldest = body["data"]
    assert set(oldest) >= {"id", "type", "title", "message", "read", "data", "createdAt"}
    assert newest["type"] == "contract_ready_to_sign"
    assert newest["title"] == "Contract Ready for Signature"
    assert newest["message"] == "XYZ Ltd has sent you a new contract"
    assert oldest["type"] == "payment_received"
    assert oldest["title"] == "Payment Received"
    assert oldest["message"] == "You received $5,000.00 from ABC Corp"
    assert oldest["read"] is False
    assert oldest["data"]["amount"] == 5000.0
    assert set(oldest["data"]) >= {"paymentId", "contractId", "amount"}


async def test_read_filter_and_pagination(app, client, contractor):
    for amount in (1, 2, 3):
        await _payment(app, contractor, amount=amount)
    first = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    oldest_id = first["data"][-1]["id"]
    assert (await client.put(f"/api/notifications/{oldest_id}/read",
                             headers=contractor.headers)).status_code == 200

    unread = (await client.get("/api/notifications/me?read=false",
                               headers=contractor.headers)).json()
    read = (await client.get("/api/notifications/me?read=true",
                             headers=contractor.headers)).json()
    page2 = (await client.get("/api/notifications/me?page=2&limit=2",
                              headers=contractor.headers)).json()

    assert [n["read"] for n in unread["data"]] == [False, False]
    assert unread["meta"]["total"] == 2 and unread["meta"]["unread"] == 2
    assert [n["id"] for n in read["data"]] == [oldest_id]
    assert read["meta"]["unread"] == 2
    assert page2["meta"] == {"total": 3, "unread": 2, "page": 2, "limit": 2, "totalPages": 2}
    assert [n["id"] for n in page2["data"]] == [oldest_id]
    bad = await client.get("/api/notifications/me?limit=1000", headers=contractor.headers)
    assert bad.status_code == 422


async def test_mark_read_and_another_users_notification(app, client, contractor, other):
    await _payment(app, contractor)
    notification = (await client.get("/api/notifications/me",
                                     headers=contractor.headers)).json()["data"][0]

    stranger = await client.put(f"/api/notifications/{notification['id']}/read",
                                headers=other.headers)
    unknown = await client.put(f"/api/notifications/{uuid.uuid4()}/read",
                               headers=contractor.headers)
    mine = await client.put(f"/api/notifications/{notification['id']}/read",
                            headers=contractor.headers)
    again = await client.put(f"/api/notifications/{notification['id']}/read",
                             headers=contractor.headers)

    assert stranger.status_code == 404
    assert stranger.json()["code"] == "notification_not_found"
    assert unknown.status_code == 404
    assert mine.status_code == 200
    assert mine.json() == {"id": notification["id"], "read": True}
    assert again.json() == {"id": notification["id"], "read": True}
    others_inbox = (await client.get("/api/notifications/me", headers=other.headers)).json()
    assert others_inbox["data"] == [] and others_inbox["meta"]["total"] == 0


async def test_read_all_counts_only_own_unread(app, client, contractor, other):
    for _ in range(3):
        await _payment(app, contractor)
    await _payment(app, other)
    first = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    await client.put(f"/api/notifications/{first['data'][0]['id']}/read",
                     headers=contractor.headers)

    response = await client.put("/api/notifications/me/read-all", headers=contractor.headers)
    again = await client.put("/api/notifications/me/read-all", headers=contractor.headers)

    assert response.status_code == 200
    assert response.json() == {"message": "All notifications marked as read", "count": 2}
    assert again.json()["count"] == 0
    inbox = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    assert inbox["meta"]["unread"] == 0
    assert (await client.get("/api/notifications/me",
                             headers=other.headers)).json()["meta"]["unread"] == 1


async def test_inbox_needs_a_token(client):
    for method, path in [("GET", "/api/notifications/me"),
                         ("PUT", "/api/notifications/me/read-all"),
                         ("GET", "/api/notifications/me/preferences"),
                         ("GET", "/api/notifications/me/stream")]:
        response = await client.request(method, path)
        assert response.status_code == 401, path


async def test_redelivered_event_creates_nothing_twice(app, client, contractor):
    from mindlinks.notifications.events import on_payment_received
    from mindlinks.platform.db import utcnow
    from mindlinks.platform.events import Event

    event = Event(uuid.uuid4(), "payment.received", {
        "paymentId": str(uuid.uuid4()), "userId": str(contractor.id), "amount": 10,
        "currency": "EUR"}, utcnow())
    for _ in range(2):
        async with app.state.db.session() as session:
            await on_payment_received(session, event)
    await app.state.notifier.drain()

    inbox = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    assert inbox["meta"]["total"] == 1
    from sqlalchemy import func, select

    from mindlinks.notifications.models import NotificationDelivery
    async with app.state.db.session() as session:
        count = await session.scalar(select(func.count()).select_from(NotificationDelivery)
                                     .where(NotificationDelivery.event_id == event.id))
    assert count == 1  # one email; SMS is off by default


async def test_unknown_recipient_is_skipped(app, client, contractor):
    await emit_and_deliver(app, "payment.received", {
        "paymentId": str(uuid.uuid4()), "userId": str(uuid.uuid4()), "amount": 1,
        "currency": "USD"})
    from sqlalchemy import select

    from mindlinks.platform.events import EventDelivery
    async with app.state.db.session() as session:
        statuses = (await session.scalars(select(EventDelivery.status).where(
            EventDelivery.subscriber == "notifications.payment_received"))).all()
    assert statuses == ["delivered"]
