"""The HTTP adapters against respx-mocked SendGrid and Twilio, and the development SMS file."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from mindlinks.notifications.channels import (
    ChannelError,
    FileSmsBackend,
    OutgoingEmail,
    SendGridEmailTransport,
    TwilioSmsBackend,
    build_channels,
)

EMAIL = OutgoingEmail(to="ada@example.com", subject="Payment Received", text="You received",
                      html="<p>You received</p>",
                      headers={"List-Unsubscribe": "<https://x/unsub>"})


@pytest.fixture
def sendgrid_settings(settings):
    return settings.model_copy(update={
        "notifications_email_backend": "sendgrid", "sendgrid_api_key": "SG.test-key",
        "mail_from": "Mind-Links <no-reply@mindlinks.test>"})


@pytest.fixture
def twilio_settings(settings):
    return settings.model_copy(update={
        "notifications_sms_backend": "twilio", "twilio_account_sid": "AC123",
        "twilio_auth_token": "secret-token", "twilio_from_number": "+15005550006"})


@respx.mock
async def test_sendgrid_posts_v3_mail_send(sendgrid_settings):
    route = respx.post("https://api.sendgrid.com/v3/mail/send").mock(
        return_value=httpx.Response(202, headers={"X-Message-Id": "sg-msg-1"}))

    message_id = await build_channels(sendgrid_settings).email.send(EMAIL)

    assert message_id == "sg-msg-1"
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer SG.test-key"
    assert json.loads(request.content) == {
        "personalizations": [{"to": [{"email": "ada@example.com"}]}],
        "from": {"email": "no-reply@mindlinks.test", "name": "Mind-Links"},
        "subject": "Payment Received",
        "content": [{"type": "text/plain", "value": "You received"},
                    {"type": "text/html", "value": "<p>You received</p>"}],
        "headers": {"List-Unsubscribe": "<https://x/unsub>"},
    }


@respx.mock
async def test_sendgrid_errors_become_channel_errors(sendgrid_settings):
    respx.post("https://api.sendgrid.com/v3/mail/send").mock(return_value=httpx.Response(
        400, json={"errors": [{"message": "The from address does not match a verified Sender",
                               "field": "from"}]}))
    with pytest.raises(ChannelError, match="HTTP 400: The from address does not match"):
        await SendGridEmailTransport(sendgrid_settings).send(EMAIL)

    respx.post("https://api.sendgrid.com/v3/mail/send").mock(
        side_effect=httpx.ConnectTimeout("timed out"))
    with pytest.raises(ChannelError, match="ConnectTimeout"):
        await SendGridEmailTransport(sendgrid_settings).send(EMAIL)


def test_sendgrid_needs_a_key(settings):
    with pytest.raises(ValueError, match="SENDGRID_API_KEY"):
        build_channels(settings.model_copy(update={"notifications_email_backend": "sendgrid"}))


@respx.mock
async def test_twilio_posts_a_message(twilio_settings):
    route = respx.post(
        "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
    ).mock(return_value=httpx.Response(201, json={"sid": "SM42", "status": "queued"}))

    sid = await build_channels(twilio_settings).sms.send("+201001234567", "Mind-Links: hi")

    assert sid == "SM42"
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Basic " + __import__("base64").b64encode(
        b"AC123:secret-token").decode()
    assert parse_qs(request.content.decode()) == {
        "To": ["+201001234567"], "From": ["+15005550006"], "Body": ["Mind-Links: hi"]}


@respx.mock
async def test_twilio_errors_become_channel_errors(twilio_settings):
    respx.post("https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json").mock(
        return_value=httpx.Response(400, json={
            "code": 21211, "message": "The 'To' number +1 is not a valid phone number."}))
    with pytest.raises(ChannelError, match="21211 The 'To' number"):
        await TwilioSmsBackend(twilio_settings).send("+1", "x")


async def test_file_sms_backend_appends_json_lines(tmp_path):
    backend = FileSmsBackend(tmp_path / "sms")
    first = await backend.send("+201001234567", "one")
    second = await backend.send("+201001234568", "two")
    lines = [json.loads(x) for x in (tmp_path / "sms" / "outbox.jsonl").read_text().splitlines()]
    assert [(x["id"], x["to"], x["body"]) for x in lines] == [
        (first, "+201001234567", "one"), (second, "+201001234568", "two")]
    assert first != second


@respx.mock
async def test_sendgrid_is_used_end_to_end(settings):
    from tests.factories import register
    from tests.notifications.conftest import emit_and_deliver, running_app

    respx.route(host="testserver").pass_through()
    route = respx.post("https://api.sendgrid.com/v3/mail/send").mock(
        return_value=httpx.Response(202, headers={"X-Message-Id": "sg-77"}))
    async with running_app(settings, notifications_email_backend="sendgrid",
                           sendgrid_api_key="SG.k") as (app, client):
        user = await register(client, "contractor")
        await emit_and_deliver(app, "payment.received", {
            "paymentId": "p1", "userId": user["user"]["id"], "amount": 5000, "currency": "USD",
            "clientName": "ABC Corp"})
        from sqlalchemy import select

        from mindlinks.notifications.models import NotificationDelivery
        async with app.state.db.session() as session:
            row = await session.scalar(select(NotificationDelivery))
    body = json.loads(route.calls.last.request.content)
    assert body["subject"] == "You received $5,000.00"
    assert row.status == "sent" and row.provider_message_id == "sg-77"
