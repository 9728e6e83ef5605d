"""Digest job: one email per daily/weekly user and period, idempotent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from mindlinks.notifications import jobs
from mindlinks.notifications.models import Notification, NotificationDelivery
from tests.factories import mails
from tests.notifications.conftest import emit_and_deliver

NOW = datetime(2026, 11, 18, 7, 0, tzinfo=UTC)  # a Wednesday


async def _payment(app, user, amount):
    await emit_and_deliver(app, "payment.received", {
        "paymentId": str(uuid.uuid4()), "userId": str(user.id), "amount": amount,
        "currency": "USD", "clientName": "ABC Corp"})


async def _age_all(app, user, when):
    async with app.state.db.session() as session:
        await session.execute(update(Notification).where(Notification.user_id == user.id)
                              .values(created_at=when))


async def test_daily_digest_summarises_yesterday_once(app, client, contractor, other, settings,
                                                      notifier):
    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"digestFrequency": "daily"})
    await _payment(app, contractor, 10)
    await _payment(app, contractor, 20)
    await _age_all(app, contractor, NOW - timedelta(hours=12))  # yesterday, UTC
    await _payment(app, contractor, 30)  # today: not in yesterday's digest
    await _payment(app, other, 40)  # immediate user: no digest

    assert await jobs.send_digests(notifier, "daily", now=NOW) == 1
    assert await jobs.send_digests(notifier, "daily", now=NOW) == 0
    assert await jobs.send_digests(notifier, "weekly", now=NOW) == 0

    [digest] = [m for m in mails(settings.mail_dir, contractor.email)
                if m["Subject"].startswith("Your Mind-Links summary")]
    assert digest["Subject"] == "Your Mind-Links summary: 2 notifications yesterday"
    text = digest.get_body(("plain",)).get_content()
    assert "You received $10.00 from ABC Corp" in text
    assert "You received $20.00 from ABC Corp" in text
    assert "$30.00" not in text
    assert digest["List-Unsubscribe"]
    assert not [m for m in mails(settings.mail_dir, other.email)
                if m["Subject"].startswith("Your Mind-Links summary")]
    async with app.state.db.session() as session:
        rows = (await session.scalars(select(NotificationDelivery).where(
            NotificationDelivery.type == "digest"))).all()
    assert [(r.status, r.user_id) for r in rows] == [("sent", contractor.id)]


async def test_weekly_digest_covers_last_iso_week(app, client, contractor, notifier, settings):
    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"digestFrequency": "weekly"})
    await _payment(app, contractor, 10)
    await _age_all(app, contractor, datetime(2026, 11, 10, 12, tzinfo=UTC))  # last week's Tue
    await _payment(app, contractor, 99)
    await _age_all(app, contractor, datetime(2026, 11, 10, 12, tzinfo=UTC))

    assert await jobs.send_digests(notifier, "daily", now=NOW) == 0
    assert await jobs.send_digests(notifier, "weekly", now=NOW) == 1
    assert await jobs.send_digests(notifier, "weekly", now=NOW + timedelta(days=1)) == 0
    [digest] = [m for m in mails(settings.mail_dir, contractor.email)
                if m["Subject"].startswith("Your Mind-Links summary")]
    assert digest["Subject"] == "Your Mind-Links summary: 2 notifications last week"


async def test_no_digest_without_notifications_or_with_email_off(app, client, contractor,
                                                                   notifier):
    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"digestFrequency": "daily"})
    assert await jobs.send_digests(notifier, "daily", now=NOW) == 0
    await _payment(app, contractor, 10)
    await _age_all(app, contractor, NOW - timedelta(hours=3))
    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"emailEnabled": False})
    assert await jobs.send_digests(notifier, "daily", now=NOW) == 0


def test_digest_periods():
    assert jobs.digest_period("daily", NOW)[:2] == (
        datetime(2026, 11, 17, tzinfo=UTC), datetime(2026, 11, 18, tzinfo=UTC))
    assert jobs.digest_period("weekly", NOW)[:2] == (
        datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC))
