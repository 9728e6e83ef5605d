"""Helpers that make users and tokens through the real API (and the service for admins)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pyotp

from mindlinks.auth import service as auth_service
from mindlinks.platform.db import Database

PASSWORD = "correct horse battery staple"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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
        _user, uri, _codes = await auth_service.create_admin(session, email, PASSWORD)
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
