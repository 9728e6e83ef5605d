"""/api/admin/notification-templates: seeded defaults, edits, refusal of unknown variables,
the sandbox, previews; edited templates are used for the next notification."""

from __future__ import annotations

import uuid

from mindlinks.notifications import catalogue_ar
from mindlinks.notifications.catalogue import KINDS
from tests.factories import mails
from tests.notifications.conftest import emit_and_deliver


async def _template(client, admin, name, channel, language="en"):
    listing = (await client.get(
        f"/api/admin/notification-templates?type={channel}&language={language}",
        headers=admin.headers)).json()
    return next(t for t in listing if t["name"] == name)


async def test_every_notification_type_is_seeded(client, admin):
    response = await client.get("/api/admin/notification-templates", headers=admin.headers)
    assert response.status_code == 200
    seeded = [(t["name"], t["type"], t["language"]) for t in response.json()]
    # One version per language: English (catalogue.py) and Arabic (catalogue_ar.py).
    expected = {(k.type, c, lang) for k in KINDS.values() for c in k.channels
                for lang in ("en", "ar")}
    assert sorted(seeded) == sorted(expected)
    email = next(t for t in response.json() if t["name"] == "payment_received"
                 and t["type"] == "email" and t["language"] == "en")
    assert set(email) >= {"id", "name", "type", "language", "subject", "body", "textBody",
                          "variables", "createdAt", "updatedAt"}
    arabic = next(t for t in response.json() if t["name"] == "payment_received"
                  and t["type"] == "email" and t["language"] == "ar")
    assert arabic["subject"] == catalogue_ar.TEXTS["payment_received"][2]
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


# --- per language (issue 15): the recipient's version, else English, else the catalogue ---


async def _edit(client, admin, name, channel, language, subject, body):
    template = await _template(client, admin, name, channel, language)
    response = await client.put(f"/api/admin/notification-templates/{template['id']}",
                                headers=admin.headers, json={"subject": subject, "body": body})
    assert response.status_code == 200, response.text
    assert response.json()["language"] == language
    return template


async def _latest(client, who):
    return (await client.get("/api/notifications/me", headers=who.headers)).json()["data"][0]


async def test_each_recipient_gets_the_edited_version_in_their_language(
        app, client, admin, contractor, other):
    assert (await client.put("/api/notifications/me/preferences", json={"language": "ar"},
                             headers=other.headers)).status_code == 200
    await _edit(client, admin, "payment_received", "in_app", "en", "Money in", "EN {{ amount }}")
    arabic = await _edit(client, admin, "payment_received", "in_app", "ar", "وصل المال",
                         "AR {{ amount }}")
    for who in (contractor, other):
        await emit_and_deliver(app, "payment.received", {
            "paymentId": f"p-{who.id}", "userId": str(who.id), "amount": 7, "currency": "USD"})
    assert (await _latest(client, contractor))["title"] == "Money in"
    mine = await _latest(client, other)
    assert (mine["title"], mine["message"]) == ("وصل المال", "AR 7")

    # Without its Arabic row an Arabic recipient gets the (edited) English one...
    from mindlinks.notifications.models import NotificationTemplate

    async with app.state.db.session() as s:
        await s.delete(await s.get(NotificationTemplate, uuid.UUID(arabic["id"])))
    await emit_and_deliver(app, "payment.received", {
        "paymentId": "p-2", "userId": str(other.id), "amount": 8, "currency": "USD"})
    assert (await _latest(client, other))["title"] == "Money in"
    # ... and with neither, the built-in Arabic text.
    english = await _template(client, admin, "payment_received", "in_app", "en")
    async with app.state.db.session() as s:
        await s.delete(await s.get(NotificationTemplate, uuid.UUID(english["id"])))
    await emit_and_deliver(app, "payment.received", {
        "paymentId": "p-3", "userId": str(other.id), "amount": 9, "currency": "USD"})
    assert (await _latest(client, other))["title"] == catalogue_ar.TEXTS["payment_received"][0]


async def test_templates_are_listed_per_language(client, admin):
    arabic = (await client.get("/api/admin/notification-templates?language=ar",
                               headers=admin.headers)).json()
    assert arabic and {t["language"] for t in arabic} == {"ar"}
    refused = await client.get("/api/admin/notification-templates?language=fr",
                               headers=admin.headers)
    assert refused.status_code == 422
