"""Helpers that make users and tokens through the real API (and the service for admins)."""

from __future__ import annotations

import asyncio
import email
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import httpx
import pyotp

from mindlinks.auth import service as auth_service
from mindlinks.platform.db import Database

PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Account:
    """A signed-in user (the JSON of register or login): every actor fixture has this shape."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        user = data.get("user") or {}
        self.email: str = user.get("email") or data.get("email", "")
        self.user_id: str = user.get("id", "")
        self.id = uuid.UUID(self.user_id) if self.user_id else None
        self.token: str = data["accessToken"]
        self.headers = bearer(self.token)
        self.secret: str | None = data.get("secret")  # an admin's TOTP secret


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


async def register(
    client: httpx.AsyncClient, role: str = "contractor", *, email: str | None = None,
    password: str = PASSWORD, name: str | None = "Ada Lovelace",
) -> dict[str, Any]:
    response = await client.post(
        "/api/auth/register",
        json={"email": email or unique_email(role), "password": password, "role": role,
              "name": name},
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    data["password"] = password
    return data


def totp_now(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


async def create_admin(app: Any, email: str | None = None) -> tuple[str, str]:
    """An admin straight from the service (as `mindlinks create-admin` does): (email, secret)."""
    email = email or unique_email("admin")
    async with app.state.db.session() as session:
        _user, uri, _codes = await auth_service.create_admin(session, app.state.settings, email,
                                                             PASSWORD)
    secret = pyotp.parse_uri(uri).secret
    return email, secret


async def admin_tokens(app: Any, client: httpx.AsyncClient) -> dict[str, Any]:
    """A fully signed-in admin (password + TOTP): the token pair plus `email` and `secret`."""
    email, secret = await create_admin(app)
    challenge = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert challenge.json()["mfaRequired"] is True, challenge.text
    done = await client.post(
        "/api/auth/login/mfa",
        json={"mfaToken": challenge.json()["mfaToken"], "code": totp_now(secret)},
    )
    assert done.status_code == 200, done.text
    return {**done.json(), "email": email, "secret": secret}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def mails(mail_dir: Path, to: str | None = None) -> list[EmailMessage]:
    """The `.eml` files written to the development mailbox so far, oldest first (optionally
    only those to `to`)."""
    if not mail_dir.exists():
        return []
    found = []
    for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        assert isinstance(message, EmailMessage)
        if to is None or str(message["To"]).lower() == to.lower():
            found.append(message)
    return found


def run_with_database(url: str, work: Callable[[Database], Awaitable[Any]]) -> Any:
    """Run `work` against the database at `url` in a fresh event loop: CLI commands run
    their own loop, so a test that drives one reaches the database from outside it."""

    async def _go() -> Any:
        database = Database(url)
        try:
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(_go())
