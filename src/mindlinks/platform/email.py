"""Outgoing email for the platform's own mail (verification, password reset).

Development writes RFC 5322 `.eml` files under `<data_dir>/mail`; with `MINDLINKS_SMTP_HOST`
set, mail goes through SMTP (aiosmtplib). The notifications domain reuses these backends.
"""

from __future__ import annotations

import asyncio
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol

import aiosmtplib
import structlog

from mindlinks.settings import Settings

log = structlog.get_logger("mindlinks.email")


def build_message(
    *, sender: str, to: str, subject: str, text: str, html: str | None = None,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain="mindlinks.local")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


class EmailBackend(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class FileEmailBackend:
    """Writes each message as an .eml file: readable by any mail client, greppable in tests."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(message.as_bytes())
        # The file name only: bodies carry one-time links, subjects may carry names.
        log.info("email_written", file=path.name)


class SMTPEmailBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        s = self.settings
        await aiosmtplib.send(
            message,
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            start_tls=s.smtp_starttls,
            use_tls=s.smtp_use_tls,
            timeout=30,
        )
        log.info("email_sent")


class Mailer:
    def __init__(self, settings: Settings, backend: EmailBackend | None = None) -> None:
        self.settings = settings
        default: EmailBackend = (
            SMTPEmailBackend(settings)
            if settings.smtp_host
            else FileEmailBackend(settings.mail_dir)
        )
        self.backend = backend or default
        self._pending: set[asyncio.Task[None]] = set()

    def send_later(self, *, to: str, subject: str, text: str, html: str | None = None) -> None:
        """Send in the background. Used for mail whose sending must not change the response
        time (a reset mail for a known address vs none for an unknown one)."""
        task = asyncio.create_task(self.send(to=to, subject=subject, text=text, html=html))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for background sends (shutdown, tests)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def send(self, *, to: str, subject: str, text: str, html: str | None = None) -> None:
        message = build_message(
            sender=self.settings.mail_from, to=to, subject=subject, text=text, html=html
        )
        try:
            await self.backend.send(message)
        except Exception:
            # Mail is sent after the transaction committed; a failure must not turn the
            # response into a 500 (and would reveal whether the address exists).
            log.exception("email_failed")
