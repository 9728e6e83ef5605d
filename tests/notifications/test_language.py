"""Notifications in the recipient's language: the `language` preference (the pages' too) picks
the Arabic catalogue (notifications/catalogue_ar.py) for the mail's subject and body, the
in-app notification and the SMS, with money and dates in the Arabic locale; without it, or
with `en`, English. Checked on the real SMTP server on loopback and on the `.eml` mailer."""

from __future__ import annotations

import email
import uuid
from datetime import timedelta
from email.policy import default as default_policy
from typing import Any

import pytest

from mindlinks.notifications import catalogue_ar, jobs, templates
from mindlinks.notifications.catalogue import KINDS, SAMPLE_VALUES
from mindlinks.platform.db import utcnow
from tests.factories import Account, mails, register
from tests.notifications.conftest import emit_and_deliver, running_app

PREFS = "/api/notifications/me/preferences"


async def _prefer(client: Any, who: Account | dict[str, Any], language: str | None) -> None:
    headers = (who if isinstance(who, Account) else Account(who)).headers
    response = await client.put(PREFS, json={"language": language}, headers=headers)
    assert response.status_code == 200, response.text


def _approved(user_id: str) -> dict[str, Any]:
    return {"timesheetId": str(uuid.uuid4()), "contractId": str(uuid.uuid4()),
            "userId": user_id, "hours": 40, "amount": "1234.5", "currency": "EUR",
            "periodStart": "2024-11-25", "periodEnd": "2024-12-01"}


async def test_an_arabic_preferring_user_gets_the_mail_in_arabic_over_smtp(
    settings: Any, smtp_server: Any,
):
    controller, inbox = smtp_server
    async with running_app(settings, smtp_host="127.0.0.1", smtp_port=controller.port,
                           public_url="https://app.mindlinks.test") as (app, client):
        arabic = await register(client, "contractor", name="Salma Adel")
        english = await register(client, "contractor", name="Ada Lovelace")
        await _prefer(client, arabic, "ar")
        await _prefer(client, english, "en")
        for who in (arabic, english):
            await emit_and_deliver(app, "timesheet.approved", _approved(who["user"]["id"]))

    received = [email.message_from_bytes(raw, policy=default_policy) for raw in inbox.messages]
    by_to = {m["To"]: m for m in received if "timesheet" in m["Subject"]
             or "سجل دوامك" in m["Subject"]}
    ar = by_to[arabic["user"]["email"]]
    assert ar["Subject"] == "تمت الموافقة على سجل دوامك"
    text = ar.get_body(("plain",)).get_content()
    html = ar.get_body(("html",)).get_content()
    assert "مرحبًا Salma Adel،" in text and "تمت الموافقة على سجل دوامك للفترة" in text
    assert '<div dir="rtl" lang="ar">' in html and "اعرضه في Mind-Links" in html
    assert "1,234.50" in text and "€" in text and "Hello" not in text  # Arabic locale money

    en = by_to[english["user"]["email"]]
    assert en["Subject"] == "Your timesheet was approved"
    assert "Hello Ada Lovelace," in en.get_body(("plain",)).get_content()


async def test_file_mailer_and_inbox_follow_the_preference_and_its_changes(
    app: Any, client: Any, contractor: Account, settings: Any,
):
    await emit_and_deliver(app, "withdrawal.requested", {
        "withdrawalId": str(uuid.uuid4()), "userId": str(contractor.id), "amount": "5000.00",
        "currency": "USD"})
    await _prefer(client, contractor, "ar")
    await emit_and_deliver(app, "withdrawal.requested", {
        "withdrawalId": str(uuid.uuid4()), "userId": str(contractor.id), "amount": "75.00",
        "currency": "USD"})
    subjects = [m["Subject"] for m in mails(settings.mail_dir, contractor.email)
                if "5,000.00" in m["Subject"] or "75.00" in m["Subject"]]
    assert subjects[0] == "Withdrawal of $5,000.00 requested"  # no preference: English
    assert subjects[1].startswith("تم طلب سحب") and "75.00" in subjects[1]
    inbox = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    titles = [n["title"] for n in inbox["data"] if n["type"] == "withdrawal_requested"]
    assert titles == ["تم طلب سحب", "Withdrawal Requested"]  # newest first


async def test_digest_in_arabic(app: Any, client: Any, contractor: Account, settings: Any):
    await _prefer(client, contractor, "ar")
    response = await client.put(PREFS, json={"digestFrequency": "daily"},
                                headers=contractor.headers)
    assert response.status_code == 200
    await emit_and_deliver(app, "withdrawal.requested", {
        "withdrawalId": str(uuid.uuid4()), "userId": str(contractor.id), "amount": "10.00",
        "currency": "USD"})
    # The day after: the period is today, with the notification above in it.
    await jobs.send_digests(app.state.notifier, "daily", now=utcnow() + timedelta(days=1))
    [digest] = [m for m in mails(settings.mail_dir, contractor.email)
                if m["Subject"].startswith("ملخصك")]
    assert digest["Subject"] == "ملخصك في Mind-Links: 1 إشعارات أمس"
    assert "تم طلب سحب" in digest.get_body(("plain",)).get_content()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_kind_has_arabic_texts_with_only_its_variables(kind: str):
    for channel in KINDS[kind].channels:
        source = templates.default_source(kind, channel, catalogue_ar.LANGUAGE)
        assert templates.validate(source) is not None  # its variables, and it renders
        rendered = templates.render(source, {**SAMPLE_VALUES, "locale": "ar"})
        assert not any("a" <= ch <= "z" for ch in (rendered.subject or "").replace(
            "Mind-Links", "")), rendered.subject  # no English left in the subject
        assert rendered.body
