"""/api/admin/notification-templates: seeded defaults, edits, refusal of unknown variables,
the sandbox, previews; edited templates are used for the next notification."""

from __future__ import annotations

import uuid

from mindlinks.notifications.catalogue import KINDS
from tests.factories import mails
from tests.notifications.conftest import emit_and_deliver


async def _template(client, admin, name, channel):
    listing = (await client.get(f"/api/admin/notification-templates?type={channel}",
                                headers=admin.headers)).json()
    return next(t for t in listing if t["name"] == name)


async def test_every_notification_type_is_seeded(client, admin):
    response = await client.get("/api/admin/notification-templates", headers=admin.headers)
    assert response.status_code == 200
    seeded = {(t["name"], t["type"]) for t in response.json()}
    expected = {(k.type, c) for k in KINDS.values() for c in k.channels}
    assert seeded == expected
    email = next(t for t in response.json()
                 if t["name"] == "payment_received" and t["type"] == "email")
    assert set(email) >= {"id", "name", "type", "subject", "body", "textBody", "variables",
                          "createdAt", "updatedAt"}
    assert "amount" in email["variables"] and "currency" in email["variables"]
    assert email["textBody"] and "<p>" in email["body"]
    sms = (await client.get("/api/admin/notification-templates?type=sms",
                            headers=admin.headers)).json()
    assert {t["type"] for t in sms} == {"sms"}


async def test_edited_template_is_used(app, client, admin, contractor, settings):
    template = await _template(client, admin, "payment_received", "in_app")
    response = await client.put(
        f"/api/admin/notification-templates/{template['id']}", headers=admin.headers,
        json={"subject": "Money in", "body": "{{ amount | money(currency) }} landed, "
                                             "{{ recipient_name }}!"})
    assert response.status_code == 200
    assert response.json()["subject"] == "Money in"

    await emit_and_deliver(app, "payment.received", {
        "paymentId": "p1", "userId": str(contractor.id), "amount": 12.5, "currency": "USD"})
    [item] = (await client.get("/api/notifications/me", headers=contractor.headers)).json()["data"]
    assert item["title"] == "Money in"
    assert item["message"] == "$12.50 landed, Ada Lovelace!"


async def test_unknown_variables_are_refused(client, admin):
    template = await _template(client, admin, "payment_received", "email")
    for field, value in [("body", "<p>{{ password_hash }}</p>"),
                         ("subject", "Hi {{ user.email }}"),
                         ("textBody", "{% for x in secrets %}{{ x }}{% endfor %}")]:
        body = {"subject": "s", "body": "<p>b</p>", "textBody": "t", field: value}
        response = await client.put(f"/api/admin/notification-templates/{template['id']}",
                                    headers=admin.headers, json=body)
        assert response.status_code == 422, field
        assert response.json()["code"] == "unknown_template_variable"
    # A variable of another notification type is unknown here too.
    response = await client.put(f"/api/admin/notification-templates/{template['id']}",
                                headers=admin.headers, json={"body": "{{ kyc_status }}"})
    assert response.json()["code"] == "unknown_template_variable"
    unchanged = await client.get(f"/api/admin/notification-templates/{template['id']}",
                                 headers=admin.headers)
    assert unchanged.json()["body"] == template["body"]


async def test_broken_and_unsafe_templates_are_refused(client, admin):
    template = await _template(client, admin, "payment_received", "email")
    syntax = await client.put(f"/api/admin/notification-templates/{template['id']}",
                              headers=admin.headers, json={"body": "{% if amount %}open"})
    unsafe = await client.put(
        f"/api/admin/notification-templates/{template['id']}", headers=admin.headers,
        json={"body": "{{ currency.__class__.__mro__[1].__subclasses__() }}"})
    assert syntax.status_code == 422 and syntax.json()["code"] == "invalid_template"
    assert unsafe.status_code == 422 and unsafe.json()["code"] == "invalid_template"


async def test_preview(client, admin):
    template = await _template(client, admin, "payment_received", "email")
    stored = await client.post(f"/api/admin/notification-templates/{template['id']}/preview",
                               headers=admin.headers, json={})
    assert stored.status_code == 200
    assert stored.json()["subject"] == "You received $5,000.00"
    assert "ABC Corp" in stored.json()["body"] and "ABC Corp" in stored.json()["textBody"]

    german = await client.post(
        f"/api/admin/notification-templates/{template['id']}/preview", headers=admin.headers,
        json={"subject": "{{ amount | money(currency) }} am {{ occurred_at | datetime }}",
              "variables": {"amount": 1234.5, "currency": "EUR"}, "locale": "de_DE",
              "timezone": "Europe/Berlin"})
    assert german.json()["subject"] == "1.234,50\xa0€ am 01.12.2024, 10:30:00"

    refused = await client.post(f"/api/admin/notification-templates/{template['id']}/preview",
                                headers=admin.headers, json={"body": "{{ nope }}"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "unknown_template_variable"


async def test_templates_are_admin_only(client, contractor):
    assert (await client.get("/api/admin/notification-templates",
                             headers=contractor.headers)).status_code == 403
    assert (await client.get("/api/admin/notification-templates")).status_code == 401
    missing = await client.get(f"/api/admin/notification-templates/{uuid.uuid4()}",
                               headers=contractor.headers)
    assert missing.status_code == 403


async def test_unknown_template_id(client, admin):
    response = await client.get(f"/api/admin/notification-templates/{uuid.uuid4()}",
                                headers=admin.headers)
    assert response.status_code == 404 and response.json()["code"] == "template_not_found"


async def test_unsubscribe_link_opts_out_of_that_type(app, client, contractor, settings):
    payload = {"withdrawalId": "w1", "userId": str(contractor.id), "amount": 3,
               "currency": "USD"}
    await emit_and_deliver(app, "withdrawal.completed", payload)
    [mail] = [m for m in mails(settings.mail_dir, contractor.email)
              if m["List-Unsubscribe"]]
    url = mail["List-Unsubscribe"].strip("<>")
    path = url.split("127.0.0.1:8000", 1)[1]

    page = await client.get(path)
    assert page.status_code == 200 and "<form method=\"post\"" in page.text
    assert (await client.get("/api/notifications/me/preferences",
                             headers=contractor.headers)).json()["optOuts"] == {}
    done = await client.post(path, content="List-Unsubscribe=One-Click",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200
    assert done.json() == {"message": "You will no longer receive these emails",
                           "type": "withdrawal_completed"}
    prefs = (await client.get("/api/notifications/me/preferences",
                              headers=contractor.headers)).json()
    assert prefs["optOuts"] == {"withdrawal_completed": ["email"]}

    await emit_and_deliver(app, "withdrawal.completed", {**payload, "withdrawalId": "w2"})
    assert len([m for m in mails(settings.mail_dir, contractor.email)
                if m["List-Unsubscribe"]]) == 1

    tampered = await client.post(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert tampered.status_code == 400
    assert tampered.json()["code"] == "invalid_unsubscribe_token"
