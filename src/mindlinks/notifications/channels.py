"""Delivery channels behind one interface each.

Email reuses `platform/email.py` (the `.eml` file backend and SMTP via aiosmtplib) and adds
SendGrid's v3 HTTP API. SMS: a development file backend (JSON lines under
`<data_dir>/sms`) and Twilio's Messages API. Every transport returns the provider's message
id, or raises `ChannelError` (the delivery is retried with backoff, then marked failed).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

import httpx
import structlog

from mindlinks.platform.email import (
    EmailBackend,
    FileEmailBackend,
    SMTPEmailBackend,
    build_message,
)
from mindlinks.settings import Settings

log = structlog.get_logger("mindlinks.notifications")


class ChannelError(Exception):
    """A send failed; the message says why (never the message body)."""


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class EmailTransport(Protocol):
    async def send(self, email: OutgoingEmail) -> str | None: ...


class SmsTransport(Protocol):
    async def send(self, to: str, body: str) -> str | None: ...


class PlatformEmailTransport:
    """The platform's backends (`.eml` files, SMTP): a multipart/alternative message built by
    `build_message`; the provider id is our Message-ID."""

    def __init__(self, settings: Settings, backend: EmailBackend) -> None:
        self.settings = settings
        self.backend = backend

    async def send(self, email: OutgoingEmail) -> str | None:
        message: EmailMessage = build_message(
            sender=self.settings.mail_from, to=email.to, subject=email.subject,
            text=email.text, html=email.html, headers=email.headers,
        )
        try:
            await self.backend.send(message)
        except Exception as exc:
            raise ChannelError(f"{type(exc).__name__}: {exc}") from exc
        return str(message["Message-ID"])


class SendGridEmailTransport:
    """SendGrid v3 `POST /v3/mail/send`; 202 carries the id in `X-Message-Id`."""

    def __init__(self, settings: Settings) -> None:
        if not settings.sendgrid_api_key:
            raise ValueError("MINDLINKS_SENDGRID_API_KEY is required for the sendgrid backend")
        self.settings = settings
        self.api_key = settings.sendgrid_api_key

    def payload(self, email: OutgoingEmail) -> dict[str, object]:
        name, address = parseaddr(self.settings.mail_from)
        sender: dict[str, str] = {"email": address}
        if name:
            sender["name"] = name
        content = [{"type": "text/plain", "value": email.text}]
        if email.html:
            content.append({"type": "text/html", "value": email.html})
        body: dict[str, object] = {
            "personalizations": [{"to": [{"email": email.to}]}],
            "from": sender,
            "subject": email.subject,
            "content": content,
        }
        if email.headers:
            body["headers"] = dict(email.headers)
        return body

    async def send(self, email: OutgoingEmail) -> str | None:
        url = f"{self.settings.sendgrid_base_url.rstrip('/')}/v3/mail/send"
        try:
            async with httpx.AsyncClient(
                timeout=self.settings.notifications_http_timeout_seconds
            ) as http:
                response = await http.post(
                    url, json=self.payload(email),
                    headers={"Authorization": f"Bearer {self.api_key}"},
                )
        except httpx.HTTPError as exc:
            raise ChannelError(f"sendgrid: {type(exc).__name__}: {exc}") from exc
        if response.status_code not in (200, 202):
            raise ChannelError(f"sendgrid: HTTP {response.status_code}: {_errors(response)}")
        return response.headers.get("x-message-id")


class FileSmsBackend:
    """Development SMS: one JSON line per message in `<data_dir>/sms/outbox.jsonl`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def path(self) -> Path:
        return self.directory / "outbox.jsonl"

    async def send(self, to: str, body: str) -> str | None:
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = f"dev-{uuid.uuid4().hex}"
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": message_id, "to": to, "body": body}) + "\n")
        log.info("sms_written", to=_mask_phone(to), id=message_id)
        return message_id


class TwilioSmsBackend:
    """Twilio `POST /2010-04-01/Accounts/{sid}/Messages.json` (form-encoded, basic auth)."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token
                and settings.twilio_from_number):
            raise ValueError("Twilio needs MINDLINKS_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and "
                             "_FROM_NUMBER")
        self.settings = settings
        self.sid = settings.twilio_account_sid
        self.token = settings.twilio_auth_token
        self.sender = settings.twilio_from_number

    async def send(self, to: str, body: str) -> str | None:
        url = (f"{self.settings.twilio_base_url.rstrip('/')}/2010-04-01/Accounts/"
               f"{self.sid}/Messages.json")
        try:
            async with httpx.AsyncClient(
                timeout=self.settings.notifications_http_timeout_seconds
            ) as http:
                response = await http.post(
                    url, data={"To": to, "From": self.sender, "Body": body},
                    auth=(self.sid, self.token),
                )
        except httpx.HTTPError as exc:
            raise ChannelError(f"twilio: {type(exc).__name__}: {exc}") from exc
        if response.status_code not in (200, 201):
            raise ChannelError(f"twilio: HTTP {response.status_code}: {_errors(response)}")
        sid = response.json().get("sid")
        return str(sid) if sid else None


def _errors(response: httpx.Response) -> str:
    """The provider's error text, short (SendGrid: errors[].message; Twilio: message)."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        if isinstance(data.get("errors"), list):
            return "; ".join(str(e.get("message", e)) for e in data["errors"])[:300]
        if "message" in data:
            return f"{data.get('code', '')} {data['message']}".strip()[:300]
    return str(data)[:300]


def _mask_phone(number: str) -> str:
    return f"****{number[-4:]}" if len(number) > 4 else "****"


@dataclass
class Channels:
    email: EmailTransport
    sms: SmsTransport


def build_channels(settings: Settings) -> Channels:
    """The transports chosen by settings (`auto`: SMTP when a host is set, else files)."""
    backend = settings.notifications_email_backend
    if backend == "auto":
        backend = "smtp" if settings.smtp_host else "file"
    email: EmailTransport
    if backend == "sendgrid":
        email = SendGridEmailTransport(settings)
    elif backend == "smtp":
        email = PlatformEmailTransport(settings, SMTPEmailBackend(settings))
    else:
        email = PlatformEmailTransport(settings, FileEmailBackend(settings.mail_dir))
    sms: SmsTransport = (
        TwilioSmsBackend(settings) if settings.notifications_sms_backend == "twilio"
        else FileSmsBackend(settings.data_dir / "sms")
    )
    return Channels(email=email, sms=sms)
