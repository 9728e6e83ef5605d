"""Scheduled work of the notifications domain. Both jobs are idempotent: running them twice,
or in two processes at once, sends nothing twice.

- `deliver_due`: (re)send the email/SMS deliveries that are due (retries with backoff, and
  sends whose lease ran out because a process died).
- `send_digests`: one email per `daily`/`weekly` user summarising the previous period's
  notifications (UTC days; ISO weeks starting Monday). The period is part of the delivery's
  dedupe key, so a digest is created once per user and period.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

import structlog
from sqlalchemy.exc import IntegrityError

from mindlinks.notifications import recipients, templates
from mindlinks.notifications import repository as repo
from mindlinks.notifications.delivery import Notifier
from mindlinks.notifications.models import (
    Channel,
    DigestFrequency,
    NotificationDelivery,
)
from mindlinks.notifications.service import render_or_default, unsubscribe_token
from mindlinks.platform.db import Database, utcnow

log = structlog.get_logger("mindlinks.notifications.jobs")


async def deliver_due(notifier: Notifier, now: datetime | None = None, limit: int = 100) -> int:
    """Send what is due at `now`; the number sent successfully."""
    now = now or utcnow()
    sent = 0
    for delivery_id in await notifier.due_ids(now, limit):
        if await notifier.send(delivery_id, now=now):
            sent += 1
    return sent


def digest_period(frequency: str, now: datetime) -> tuple[datetime, datetime, str]:
    """The last complete period before `now`: (start, end, label)."""
    today = datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)
    if frequency == DigestFrequency.DAILY:
        return today - timedelta(days=1), today, "yesterday"
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday, "last week"


async def send_digests(notifier: Notifier, frequency: str, now: datetime | None = None) -> int:
    """Create (and send) the digests of `frequency` for the period before `now`; how many
    were created. Users with nothing in the period get no mail."""
    if frequency not in (DigestFrequency.DAILY, DigestFrequency.WEEKLY):
        raise ValueError("frequency must be daily or weekly")
    now = now or utcnow()
    start, end, label = digest_period(frequency, now)
    created: list[uuid.UUID] = []
    settings = notifier.settings
    async with notifier.db.session() as session:
        for prefs in await repo.digest_subscribers(session, frequency):
            key = f"digest:{frequency}:{prefs.user_id}:{start.date().isoformat()}"
            if await repo.delivery_exists(session, key):
                continue
            recipient = await recipients.resolve(session, prefs.user_id)
            if recipient is None:
                continue
            opted_out = {t for t, chans in (prefs.opt_outs or {}).items()
                         if Channel.EMAIL.value in chans}
            items = [n for n in await repo.notifications_between(
                session, prefs.user_id, start, end) if n.type not in opted_out]
            if not items:
                continue
            token = unsubscribe_token(notifier.secret, prefs.user_id, "digest")
            url = f"{settings.resolved_public_url}/api/notifications/unsubscribe?token={token}"
            values = {
                "recipient_name": recipient.name or recipient.email.split("@")[0],
                "app_url": settings.resolved_public_url, "action_url": None,
                "occurred_at": now.isoformat(), "unsubscribe_url": url,
                "locale": recipient.locale or templates.locale_for(
                    prefs.language, settings.notifications_default_locale),
                "timezone": recipient.timezone or settings.notifications_default_timezone,
                "items": [{"title": n.title, "message": n.message,
                           "created_at": n.created_at.isoformat()} for n in items],
                "count": len(items), "period_label": label,
            }
            out = render_or_default(
                await templates.load(session, "digest", "email", prefs.language), values,
                prefs.language)
            delivery = NotificationDelivery(
                id=uuid.uuid4(), dedupe_key=key, user_id=prefs.user_id, type="digest",
                channel=Channel.EMAIL.value, recipient=recipient.email, subject=out.subject,
                body_text=out.text_body or out.body, body_html=out.body,
                headers={"List-Unsubscribe": f"<{url}>",
                         "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
                next_attempt_at=now,
            )
            try:
                # A digest created at the same moment by another worker: skip, not fail.
                async with session.begin_nested():
                    session.add(delivery)
            except IntegrityError:
                continue
            created.append(delivery.id)
    for delivery_id in created:
        await notifier.send(delivery_id, now=now)
    log.info("digests_created", frequency=frequency, count=len(created))
    return len(created)


async def _deliver_due_job(db: Database) -> int:
    return await deliver_due(Notifier.for_database(db))


async def _daily_digest_job(db: Database) -> int:
    return await send_digests(Notifier.for_database(db), DigestFrequency.DAILY)


async def _weekly_digest_job(db: Database) -> int:
    return await send_digests(Notifier.for_database(db), DigestFrequency.WEEKLY)


# Run by the worker's daily scheduler and `mindlinks jobs run` (see mindlinks/scheduler.py).
JOBS = {
    "notifications.deliver_due": _deliver_due_job,
    "notifications.daily_digest": _daily_digest_job,
    "notifications.weekly_digest": _weekly_digest_job,
}
