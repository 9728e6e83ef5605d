"""Password change, forgot/reset (RELIABILITY 27) and email verification, with the mail read
back from the .eml files the development backend writes."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email.message import Message

from sqlalchemy import select, update

from mindlinks.auth.models import PasswordReset
from mindlinks.platform.db import utcnow
from tests.factories import PASSWORD, bearer, register, unique_email

NEW_PASSWORD = "a brand new passphrase 42"


async def _mails(app) -> list[Message]:
    await app.state.runtime.mailer.drain()
    folder = app.state.settings.mail_dir
    if not folder.exists():
        return []
    # Oldest first: the files have random names, so order them by when they were written.
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes()) for p in files]


def _token(message: Message, path: str) -> str:
    body = message.get_payload(decode=True).decode()
    match = re.search(rf"(\S+){path}\?token=([\w-]+)", body)
    assert match, body
    return match.group(2)


async def _latest(app, subject_part: str, to: str) -> Message:
    found = [m for m in await _mails(app) if subject_part in m["Subject"] and m["To"] == to]
    assert found, "no such mail"
    return found[-1]


async def _assert_unchanged(client, user) -> None:
    """A refused reset changed nothing: the old password, the login and its tokens work."""
    assert (await client.get("/api/auth/me", headers=bearer(user["accessToken"]))).status_code == 200
    new = await client.post("/api/auth/login",
                            json={"email": user["user"]["email"], "password": NEW_PASSWORD})
    assert new.status_code == 401
    old = await client.post("/api/auth/login",
                            json={"email": user["user"]["email"], "password": PASSWORD})
    assert old.status_code == 200


async def test_forgot_password_answers_the_same_for_unknown_emails(client, app):
    user = await register(client)
    known = await client.post("/api/auth/password/forgot", json={"email": user["user"]["email"]})
    unknown = await client.post("/api/auth/password/forgot", json={"email": unique_email()})
    garbage = await client.post("/api/auth/password/forgot", json={"email": "nope"})
    assert known.status_code == unknown.status_code == garbage.status_code == 202
    assert known.json() == unknown.json() == garbage.json()
    resets = [m for m in await _mails(app) if "Reset" in m["Subject"]]
    assert [m["To"] for m in resets] == [user["user"]["email"]]


async def test_reset_link_uses_the_configured_host_not_the_host_header(client, app):
    user = await register(client)
    await client.post("/api/auth/password/forgot", json={"email": user["user"]["email"]},
                      headers={"Host": "evil.example"})
    body = (await _latest(app, "Reset", user["user"]["email"])).get_payload(decode=True).decode()
    assert "evil.example" not in body
    assert f"{app.state.settings.resolved_public_url}/reset-password?token=" in body


async def test_reset_flow_single_use_and_ends_every_session(client, app):
    user = await register(client)
    await client.post("/api/auth/password/forgot", json={"email": user["user"]["email"]})
    token = _token(await _latest(app, "Reset", user["user"]["email"]), "/reset-password")
    assert len(token) >= 43  # >= 256 bits, URL-safe base64
    async with app.state.db.session() as s:
        stored = (await s.scalars(select(PasswordReset))).all()
    assert token not in {r.token_hash for r in stored}  # only its digest is kept
    assert all(r.expires_at - r.created_at <= timedelta(minutes=30) for r in stored)

    weak = await client.post("/api/auth/password/reset",
                             json={"token": token, "newPassword": "short"})
    assert weak.status_code == 422 and weak.json()["code"] == "weak_password"

    r = await client.post("/api/auth/password/reset",
                          json={"token": token, "newPassword": NEW_PASSWORD})
    assert r.status_code == 200
    again = await client.post("/api/auth/password/reset",
                              json={"token": token, "newPassword": NEW_PASSWORD + "!"})
    assert again.status_code == 400 and again.json()["code"] == "invalid_or_expired_token"
    # Every login ended; the old password is gone; the new one works.
    assert (await client.get("/api/auth/me", headers=bearer(user["accessToken"]))).status_code == 401
    assert (await client.post("/api/auth/refresh",
                              json={"refreshToken": user["refreshToken"]})).status_code == 401
    old = await client.post("/api/auth/login",
                            json={"email": user["user"]["email"], "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post("/api/auth/login",
                            json={"email": user["user"]["email"], "password": NEW_PASSWORD})
    assert new.status_code == 200


async def test_expired_reset_token(client, app):
    user = await register(client)
    await client.post("/api/auth/password/forgot", json={"email": user["user"]["email"]})
    token = _token(await _latest(app, "Reset", user["user"]["email"]), "/reset-password")
    async with app.state.db.session() as s:
        await s.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = await client.post("/api/auth/password/reset",
                          json={"token": token, "newPassword": NEW_PASSWORD})
    assert r.status_code == 400 and r.json()["code"] == "invalid_or_expired_token"
    await _assert_unchanged(client, user)


async def test_a_new_reset_request_invalidates_the_previous_link(client, app):
    user = await register(client)
    await client.post("/api/auth/password/forgot", json={"email": user["user"]["email"]})
    first = _token(await _latest(app, "Reset", user["user"]["email"]), "/reset-password")
    await client.post("/api/auth/password/forgot", json={"email": user["user"]["email"]})
    second = _token(await _latest(app, "Reset", user["user"]["email"]), "/reset-password")
    assert second != first
    r = await client.post("/api/auth/password/reset",
                          json={"token": first, "newPassword": NEW_PASSWORD})
    assert r.status_code == 400 and r.json()["code"] == "invalid_or_expired_token"
    await _assert_unchanged(client, user)
    # The newest link still works.
    r = await client.post("/api/auth/password/reset",
                          json={"token": second, "newPassword": NEW_PASSWORD})
    assert r.status_code == 200


async def test_reset_does_not_bypass_admin_mfa(client, app):
    from tests.factories import create_admin

    email_addr, _secret = await create_admin(app)
    await client.post("/api/auth/password/forgot", json={"email": email_addr})
    token = _token(await _latest(app, "Reset", email_addr), "/reset-password")
    r = await client.post("/api/auth/password/reset",
                          json={"token": token, "newPassword": NEW_PASSWORD})
    assert r.status_code == 200
    login = await client.post("/api/auth/login",
                              json={"email": email_addr, "password": NEW_PASSWORD})
    assert login.json()["mfaRequired"] is True and "accessToken" not in login.json()


async def test_forgot_password_is_rate_limited_per_ip(client):
    codes = [
        (await client.post("/api/auth/password/forgot", json={"email": unique_email()})).status_code
        for _ in range(12)
    ]
    assert codes[:10] == [202] * 10 and codes[-1] == 429


async def test_change_password(client):
    user = await register(client)
    other = (await client.post("/api/auth/login", json={
        "email": user["user"]["email"], "password": PASSWORD})).json()
    headers = bearer(user["accessToken"])
    wrong = await client.post("/api/auth/password/change", headers=headers, json={
        "currentPassword": "not my password", "newPassword": NEW_PASSWORD})
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_current_password"
    weak = await client.post("/api/auth/password/change", headers=headers, json={
        "currentPassword": PASSWORD, "newPassword": "password"})
    assert weak.status_code == 422
    ok = await client.post("/api/auth/password/change", headers=headers, json={
        "currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})
    assert ok.status_code == 200
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200  # this login
    assert (await client.get("/api/auth/me",
                             headers=bearer(other["accessToken"]))).status_code == 401


async def test_email_verification(client, app):
    user = await register(client)
    token = _token(await _latest(app, "Confirm", user["user"]["email"]), "/verify-email")
    bad = await client.post("/api/auth/email/verify", json={"token": "nope"})
    assert bad.status_code == 400
    r = await client.post("/api/auth/email/verify", json={"token": token})
    assert r.status_code == 200
    me = (await client.get("/api/auth/me", headers=bearer(user["accessToken"]))).json()
    assert me["emailVerified"] is True
    again = await client.post("/api/auth/email/verify", json={"token": token})
    assert again.status_code == 400
    resend = await client.post("/api/auth/email/resend", headers=bearer(user["accessToken"]))
    assert resend.status_code == 409 and resend.json()["code"] == "email_already_verified"


async def test_resend_verification(client, app):
    user = await register(client)
    r = await client.post("/api/auth/email/resend", headers=bearer(user["accessToken"]))
    assert r.status_code == 202
    confirms = [m for m in await _mails(app) if "Confirm" in m["Subject"]]
    assert len(confirms) == 2
