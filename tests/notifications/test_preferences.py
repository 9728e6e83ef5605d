"""GET/PUT /api/notifications/me/preferences and how deliveries honour them."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from mindlinks.notifications.models import NotificationDelivery
from tests.factories import mails
from tests.notifications.conftest import emit_and_deliver


async def _deliveries(app, user_id):
    async with app.state.db.session() as session:
        rows = (await session.scalars(select(NotificationDelivery).where(
            NotificationDelivery.user_id == user_id))).all()
    return sorted((r.type, r.channel) for r in rows)


async def _inbox_types(client, user):
    body = (await client.get("/api/notifications/me", headers=user.headers)).json()
    return [n["type"] for n in body["data"]]


async def test_defaults(client, contractor):
    response = await client.get("/api/notifications/me/preferences", headers=contractor.headers)
    assert response.status_code == 200
    assert response.json() == {
        "emailEnabled": True, "smsEnabled": False, "pushEnabled": True, "inAppEnabled": True,
        "digestFrequency": "immediate", "optOuts": {},
        "securityTypes": ["company_claim_contested", "mfa_changed", "new_login", "password_reset",
                          "payout_new_account"],
        "language": None,  # the pages follow the browser until the user picks one
    }


async def test_update_is_partial_and_kept(client, contractor):
    response = await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                                json={"smsEnabled": True, "digestFrequency": "weekly",
                                      "optOuts": {"profile_updated": ["email", "email"]}})
    assert response.status_code == 200
    again = (await client.get("/api/notifications/me/preferences",
                              headers=contractor.headers)).json()
    assert again == response.json()
    assert again["smsEnabled"] is True and again["emailEnabled"] is True
    assert again["digestFrequency"] == "weekly"
    assert again["optOuts"] == {"profile_updated": ["email"]}


async def test_security_types_cannot_be_switched_off(client, contractor):
    response = await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                                json={"optOuts": {"password_reset": ["email"]}})
    assert response.status_code == 422
    assert response.json()["code"] == "security_notification_required"


async def test_invalid_updates(client, contractor):
    unknown = await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                               json={"optOuts": {"no_such_type": ["email"]}})
    bad_channel = await client.put("/api/notifications/me/preferences",
                                   headers=contractor.headers,
                                   json={"optOuts": {"profile_updated": ["fax"]}})
    bad_frequency = await client.put("/api/notifications/me/preferences",
                                     headers=contractor.headers,
                                     json={"digestFrequency": "hourly"})
    extra = await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                             json={"userId": str(uuid.uuid4())})
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_notification_type"
    assert bad_channel.status_code == 422
    assert bad_frequency.status_code == 422
    assert extra.status_code == 422


async def test_email_switch_and_type_opt_out_are_honoured(app, client, contractor, settings):
    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"optOuts": {"withdrawal_requested": ["in_app"],
                                       "withdrawal_completed": ["email"]}})
    base = {"withdrawalId": str(uuid.uuid4()), "userId": str(contractor.id), "amount": 25,
            "currency": "EUR"}
    await emit_and_deliver(app, "withdrawal.requested", base)
    await emit_and_deliver(app, "withdrawal.completed", base)

    assert await _inbox_types(client, contractor) == ["withdrawal_completed"]
    assert await _deliveries(app, contractor.id) == [("withdrawal_requested", "email")]
    subjects = [m["Subject"] for m in mails(settings.mail_dir, contractor.email)]
    assert "Withdrawal of €25.00 requested" in subjects

    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"emailEnabled": False, "inAppEnabled": False})
    await emit_and_deliver(app, "withdrawal.completed", {**base, "withdrawalId": "w2"})
    assert await _inbox_types(client, contractor) == ["withdrawal_completed"]
    assert await _deliveries(app, contractor.id) == [("withdrawal_requested", "email")]


async def test_security_notice_ignores_switches(app, client, contractor, settings):
    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"emailEnabled": False, "inAppEnabled": False,
                           "digestFrequency": "daily"})
    await emit_and_deliver(app, "withdrawal.requested", {
        "withdrawalId": str(uuid.uuid4()), "userId": str(contractor.id), "amount": 900,
        "currency": "USD", "newPayoutAccount": True, "accountLast4": "6789"})

    assert await _inbox_types(client, contractor) == ["payout_new_account"]
    assert await _deliveries(app, contractor.id) == [("payout_new_account", "email")]
    [mail] = [m for m in mails(settings.mail_dir, contractor.email)
              if m["Subject"] == "Security alert: payout to a new account"]
    assert "ending 6789" in mail.get_body(("plain",)).get_content()
    assert mail["List-Unsubscribe"] is None  # security mail has no unsubscribe


async def test_daily_digest_users_get_no_immediate_email(app, client, contractor):
    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"digestFrequency": "daily"})
    await emit_and_deliver(app, "payment.received", {
        "paymentId": str(uuid.uuid4()), "userId": str(contractor.id), "amount": 1,
        "currency": "USD"})
    assert await _inbox_types(client, contractor) == ["payment_received"]
    assert await _deliveries(app, contractor.id) == []


async def test_sms_needs_the_switch_and_a_phone_number(app, client, contractor, settings,
                                                       monkeypatch):
    from mindlinks.notifications import recipients
    from tests.notifications.conftest import sms_lines

    payload = {"paymentId": str(uuid.uuid4()), "userId": str(contractor.id), "amount": 7,
               "currency": "GBP"}
    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"smsEnabled": True})
    await emit_and_deliver(app, "payment.received", payload)  # no phone known
    assert sms_lines(settings.data_dir) == []

    async def with_phone(session, user_id):
        return {"phone": "+201001234567", "timezone": "Africa/Cairo", "locale": "en_GB"}

    monkeypatch.setattr(recipients, "_profile_details", with_phone)
    await emit_and_deliver(app, "payment.received", {**payload, "paymentId": "p2"})
    [sms] = sms_lines(settings.data_dir)
    assert sms["to"] == "+201001234567"
    assert sms["body"] == "Mind-Links: You received £7.00"

    await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                     json={"optOuts": {"payment_received": ["sms"]}})
    await emit_and_deliver(app, "payment.received", {**payload, "paymentId": "p3"})
    assert len(sms_lines(settings.data_dir)) == 1


async def test_flags_must_be_booleans(client, contractor):
    """`0`, `1`, `"yes"` or `"false"` is not a yes/no answer: refused, and nothing changes."""
    for loose in (0, 1, "yes", "false", 0.0):
        response = await client.put("/api/notifications/me/preferences",
                                    headers=contractor.headers, json={"inAppEnabled": loose})
        assert response.status_code == 422, (loose, response.text)
        assert response.json()["errors"][0]["field"] == "inAppEnabled"
    current = (await client.get("/api/notifications/me/preferences",
                                headers=contractor.headers)).json()
    assert current["inAppEnabled"] is True
    response = await client.put("/api/notifications/me/preferences", headers=contractor.headers,
                                json={"inAppEnabled": False})
    assert response.status_code == 200
    assert response.json()["inAppEnabled"] is False
