"""Recipients read through other domains: the contractor profile's phone and timezone, and
the real `contractor.profile.updated` event of the contractors domain."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from mindlinks.platform.events import OutboxEvent, emit
from tests.notifications.conftest import sms_lines


async def test_profile_update_notifies_by_sms_in_the_profiles_timezone(app, client, contractor,
                                                                        settings):
    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"smsEnabled": True})
    response = await client.put("/api/contractors/me", headers=contractor.headers,
                                json={"phone": "+201001234567", "timezone": "Africa/Cairo"})
    assert response.status_code == 200, response.text
    await app.state.dispatcher.drain()
    await app.state.notifier.drain()

    inbox = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    [item] = inbox["data"]
    assert item["type"] == "profile_updated"
    assert item["message"].startswith("Your profile was updated (")
    assert "phone" in item["message"] and "timezone" in item["message"]
    [sms] = sms_lines(settings.data_dir)
    assert sms["to"] == "+201001234567"

    # A security notice at 10:00 UTC reads 12:00 in Cairo (UTC+2 in November).
    async with app.state.db.session() as session:
        event_id = await emit(session, "auth.login.new_device", {
            "userId": str(contractor.id), "device": "Firefox on Linux"})
        await session.flush()
        await session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id)
                              .values(occurred_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC)))
    await app.state.dispatcher.drain()
    await app.state.notifier.drain()
    inbox = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    newest = inbox["data"][0]
    assert newest["type"] == "new_login"
    assert newest["message"].startswith(
        "New sign-in to your account from Firefox on Linux on Nov 20, 2026, 12:00:00\u202fPM.")
