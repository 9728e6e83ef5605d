"""Email through a real SMTP server, the .eml development backend, retries with backoff, the
failure record and the admin delivery log."""

from __future__ import annotations

import asyncio
import email
import uuid
from datetime import timedelta
from email.policy import default as default_policy
from typing import Any

from sqlalchemy import select

from mindlinks.notifications import jobs
from mindlinks.notifications.models import NotificationDelivery
from mindlinks.platform.db import utcnow
from tests.factories import admin_tokens, bearer, free_port, mails, register
from tests.notifications.conftest import emit_and_deliver, running_app


async def test_smtp_server_receives_the_rendered_multipart_mail(settings, smtp_server):
    controller, inbox = smtp_server
    async with running_app(settings, smtp_host="127.0.0.1", smtp_port=controller.port,
                           mail_from="Mind-Links <no-reply@mindlinks.test>",
                           public_url="https://app.mindlinks.test") as (app, client):
        user = await register(client, "contractor", name="Ada Lovelace")
        contract_id = str(uuid.uuid4())
        await emit_and_deliver(app, "timesheet.approved", {
            "timesheetId": str(uuid.uuid4()), "contractId": contract_id,
            "userId": user["user"]["id"], "hours": 40, "amount": "1234.5", "currency": "EUR",
            "periodStart": "2024-11-25", "periodEnd": "2024-12-01"})

    received = [email.message_from_bytes(raw, policy=default_policy) for raw in inbox.messages]
    [msg] = [m for m in received if not m["Subject"].startswith("Confirm your email")]
    assert msg["To"] == user["user"]["email"]
    assert msg["Subject"] == "Your timesheet was approved"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Hello Ada Lovelace," in text
    assert "Your timesheet for Nov 25, 2024 - Dec 1, 2024 was approved: €1,234.50" in text
    assert "<p>Hello Ada Lovelace,</p>" in html
    assert "€1,234.50" in html
    assert msg["List-Unsubscribe"].startswith(
        "<https://app.mindlinks.test/api/notifications/unsubscribe?token=")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "https://app.mindlinks.test/api/notifications/unsubscribe?token=" in text


async def test_html_part_escapes_payload_values(app, client, contractor, settings):
    await emit_and_deliver(app, "contract.ready_for_signature", {
        "contractId": str(uuid.uuid4()), "userId": str(contractor.id),
        "clientName": "<script>alert(1)</script>"})
    [mail] = [m for m in mails(settings.mail_dir, contractor.email)
              if m["Subject"] == "A contract is ready for your signature"]
    html = mail.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


async def test_failed_sends_are_retried_then_recorded_as_failed(settings):
    dead_port = free_port()  # nothing listens there
    async with running_app(settings, smtp_host="127.0.0.1", smtp_port=dead_port,
                           notifications_max_attempts=3,
                           notifications_retry_base_seconds=60) as (app, client):
        user = await register(client, "contractor")
        await emit_and_deliver(app, "withdrawal.completed", {
            "withdrawalId": str(uuid.uuid4()), "userId": user["user"]["id"], "amount": 10,
            "currency": "USD"})

        async def row():
            async with app.state.db.session() as session:
                return await session.scalar(select(NotificationDelivery))

        first = await row()
        assert (first.status, first.attempts) == ("pending", 1)
        assert first.last_error and "Connect" in first.last_error
        assert first.next_attempt_at > utcnow() + timedelta(seconds=40)

        notifier = app.state.notifier
        assert await jobs.deliver_due(notifier) == 0  # not due yet: nothing tried
        assert (await row()).attempts == 1
        later = utcnow() + timedelta(minutes=2)
        assert await jobs.deliver_due(notifier, now=later) == 0
        second = await row()
        assert (second.status, second.attempts) == ("pending", 2)
        assert second.next_attempt_at >= later + timedelta(seconds=100)  # backoff doubled
        await jobs.deliver_due(notifier, now=later + timedelta(minutes=5))
        third = await row()
        assert (third.status, third.attempts) == ("failed", 3)
        assert await jobs.deliver_due(notifier, now=later + timedelta(days=1)) == 0
        assert (await row()).attempts == 3

        admin = await admin_tokens(app, client)
        log = await client.get("/api/admin/notification-deliveries?status=failed",
                               headers=bearer(admin["accessToken"]))
        assert log.status_code == 200
        [entry] = log.json()["data"]
        assert log.json()["meta"]["total"] == 1
        assert entry["channel"] == "email" and entry["recipient"] == user["user"]["email"]
        assert entry["status"] == "failed" and entry["attempts"] == 3
        assert entry["lastError"] and entry["providerMessageId"] is None


async def test_retry_job_sends_once_the_channel_is_back(settings, smtp_server):
    controller, inbox = smtp_server
    async with running_app(settings, smtp_host="127.0.0.1", smtp_port=free_port()) as (app, c):
        user = await register(c, "contractor")
        await emit_and_deliver(app, "withdrawal.completed", {
            "withdrawalId": str(uuid.uuid4()), "userId": user["user"]["id"], "amount": 10,
            "currency": "USD"})
        # The SMTP server "comes back": point the transport at the live one.
        app.state.notifier.channels.email.backend.settings = settings.model_copy(update={
            "smtp_host": "127.0.0.1", "smtp_port": controller.port})
        later = utcnow() + timedelta(hours=1)
        assert await jobs.deliver_due(app.state.notifier, now=later) == 1
        assert await jobs.deliver_due(app.state.notifier, now=later) == 0
        async with app.state.db.session() as session:
            row = await session.scalar(select(NotificationDelivery))
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None
    assert row.provider_message_id and row.provider_message_id.startswith("<")
    assert len([m for m in inbox.messages if b"withdrawal" in m.lower()]) == 1


async def test_delivery_log_is_admin_only(app, client, contractor):
    response = await client.get("/api/admin/notification-deliveries", headers=contractor.headers)
    assert response.status_code == 403
    assert (await client.get("/api/admin/notification-deliveries")).status_code == 401


async def test_delivery_log_filters(app, client, contractor, other, admin):
    for user in (contractor, other):
        await emit_and_deliver(app, "payment.received", {
            "paymentId": str(uuid.uuid4()), "userId": str(user.id), "amount": 1,
            "currency": "USD"})
    response = await client.get(f"/api/admin/notification-deliveries?userId={contractor.id}",
                                headers=admin.headers)
    body = response.json()
    assert body["meta"]["total"] == 1
    assert body["data"][0]["userId"] == str(contractor.id)
    assert body["data"][0]["status"] == "sent"
    assert body["data"][0]["type"] == "payment_received"


async def test_the_process_retries_on_its_own_until_failed(settings):
    """A failed send schedules its own retry in the process (backoff doubling), until the last
    attempt marks it failed - driven by a clock the test moves and timers it fires."""
    async with running_app(settings, smtp_host="127.0.0.1", smtp_port=free_port(),
                           notifications_max_attempts=3,
                           notifications_retry_base_seconds=60) as (app, client):
        notifier = app.state.notifier
        ahead = [timedelta(0)]  # how far the test has moved the clock past real time
        timers: list[tuple[float, Any]] = []
        notifier.clock = lambda: utcnow() + ahead[0]

        def call_later(delay: float, fire: Any) -> Any:
            timers.append((delay, fire))
            return asyncio.get_running_loop().call_later(3600, lambda: None)  # never due here

        notifier.call_later = call_later

        user = await register(client, "contractor")
        await emit_and_deliver(app, "withdrawal.completed", {
            "withdrawalId": str(uuid.uuid4()), "userId": user["user"]["id"], "amount": 10,
            "currency": "USD"})
        for attempt, backoff in ((1, 60), (2, 120)):
            async with app.state.db.session() as session:
                row = await session.scalar(select(NotificationDelivery))
            assert (row.status, row.attempts) == ("pending", attempt)
            [(delay, fire)] = timers
            timers.clear()
            assert delay >= backoff
            ahead[0] += timedelta(seconds=delay)
            fire()
            await notifier.drain()
        async with app.state.db.session() as session:
            row = await session.scalar(select(NotificationDelivery))
        assert (row.status, row.attempts) == ("failed", 3) and row.last_error
        assert timers == []  # nothing scheduled after the last attempt


async def test_scheduled_jobs_are_registered_and_run(app, contractor):
    from mindlinks.scheduler import collect_jobs, run_jobs

    assert {"notifications.deliver_due", "notifications.daily_digest",
            "notifications.weekly_digest"} <= set(collect_jobs())
    results = await run_jobs(app.state.db, ["notifications.deliver_due",
                                            "notifications.daily_digest",
                                            "notifications.weekly_digest"])
    assert results == {"notifications.deliver_due": 0, "notifications.daily_digest": 0,
                       "notifications.weekly_digest": 0}


async def test_jobs_work_on_a_bare_database(app, contractor, database, settings, monkeypatch):
    """`mindlinks jobs run` gives jobs a plain Database: the notifier comes from settings."""
    from mindlinks.scheduler import run_jobs

    monkeypatch.setenv("MINDLINKS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MINDLINKS_DATABASE_URL", settings.resolved_database_url)
    async with app.state.db.session() as session:
        session.add(NotificationDelivery(
            dedupe_key=f"manual:{uuid.uuid4()}", user_id=contractor.id, type="payment_received",
            channel="email", recipient=contractor.email, subject="Queued earlier",
            body_text="hello", body_html=None, headers={}, next_attempt_at=utcnow()))
    assert await run_jobs(database, ["notifications.deliver_due"]) == {
        "notifications.deliver_due": 1}
    assert [m["Subject"] for m in mails(settings.mail_dir, contractor.email)
            if m["Subject"] == "Queued earlier"] == ["Queued earlier"]
