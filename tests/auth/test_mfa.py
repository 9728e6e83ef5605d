"""TOTP MFA: enrolment, replay, recovery codes, admin login and admin-only routes (RELIABILITY 28)."""

from __future__ import annotations

import uuid

import pytest
from fastapi import APIRouter
from sqlalchemy import select

from mindlinks.auth.models import RecoveryCode
from mindlinks.platform.security import AdminUser, CurrentContractor
from tests.factories import PASSWORD, admin_tokens, bearer, create_admin, register, totp_now


@pytest.fixture
def guarded_app(app):
    """The real app plus two guarded probe routes, to test the dependencies themselves."""
    probe = APIRouter()  # deliberately not a domain_router: the session must still be released

    @probe.get("/_probe/admin")
    async def admin_only(actor: AdminUser) -> dict:
        return {"ok": str(actor.user_id)}

    @probe.get("/_probe/contractor")
    async def contractor_only(actor: CurrentContractor) -> dict:
        return {"ok": str(actor.user_id)}

    app.include_router(probe)
    return app


async def _enroll(client, token):
    r = await client.post("/api/auth/mfa/totp/enroll", headers=bearer(token))
    assert r.status_code == 200
    body = r.json()
    assert body["otpauthUri"].startswith("otpauth://totp/Mind-Links:")
    return body["secret"]


async def test_enrol_confirm_and_login_with_mfa(client):
    user = await register(client)
    token = user["accessToken"]
    secret = await _enroll(client, token)
    bad = await client.post("/api/auth/mfa/totp/confirm", headers=bearer(token),
                            json={"code": "000000" if totp_now(secret) != "000000" else "111111"})
    assert bad.status_code == 401 and bad.json()["code"] == "invalid_mfa_code"
    ok = await client.post("/api/auth/mfa/totp/confirm", headers=bearer(token),
                           json={"code": totp_now(secret)})
    assert ok.status_code == 200 and ok.json()["mfaEnabled"] is True
    assert len(ok.json()["recoveryCodes"]) == 10

    challenge = (await client.post("/api/auth/login", json={
        "email": user["user"]["email"], "password": PASSWORD})).json()
    assert challenge == {"mfaRequired": True, "mfaToken": challenge["mfaToken"]}
    # The code just used for confirmation cannot be replayed; the next step's code works.
    replay = await client.post("/api/auth/login/mfa", json={
        "mfaToken": challenge["mfaToken"], "code": totp_now(secret)})
    assert replay.status_code == 401
    done = await client.post("/api/auth/login/mfa", json={
        "mfaToken": challenge["mfaToken"], "code": totp_now(secret, 1)})
    assert done.status_code == 200 and "accessToken" in done.json()


async def test_recovery_codes_are_single_use_and_hashed(client, app):
    user = await register(client)
    secret = await _enroll(client, user["accessToken"])
    codes = (await client.post("/api/auth/mfa/totp/confirm", headers=bearer(user["accessToken"]),
                               json={"code": totp_now(secret)})).json()["recoveryCodes"]
    async with app.state.db.session() as s:
        stored = {r.code_hash for r in (await s.scalars(select(RecoveryCode))).all()}
    assert not {c.replace("-", "") for c in codes} & stored

    async def login_with(code):
        ch = (await client.post("/api/auth/login", json={
            "email": user["user"]["email"], "password": PASSWORD})).json()
        return await client.post("/api/auth/login/mfa",
                                 json={"mfaToken": ch["mfaToken"], "recoveryCode": code})

    assert (await login_with(codes[0])).status_code == 200
    assert (await login_with(codes[0])).status_code == 401
    assert (await login_with("aaaaa-bbbbb")).status_code == 401


async def test_disable_mfa(client):
    user = await register(client)
    token = user["accessToken"]
    secret = await _enroll(client, token)
    await client.post("/api/auth/mfa/totp/confirm", headers=bearer(token),
                      json={"code": totp_now(secret)})
    wrong_pw = await client.post("/api/auth/mfa/totp/disable", headers=bearer(token),
                                 json={"code": totp_now(secret, 1), "password": "wrong wrong wrong"})
    assert wrong_pw.status_code == 400
    r = await client.post("/api/auth/mfa/totp/disable", headers=bearer(token),
                          json={"code": totp_now(secret, 1), "password": PASSWORD})
    assert r.status_code == 204
    login = (await client.post("/api/auth/login", json={
        "email": user["user"]["email"], "password": PASSWORD})).json()
    assert "accessToken" in login


async def test_admin_login_needs_totp_and_admin_cannot_disable_it(client, app):
    admin = await admin_tokens(app, client)
    me = (await client.get("/api/auth/me", headers=bearer(admin["accessToken"]))).json()
    assert me["role"] == "admin" and me["mfaEnabled"] is True
    r = await client.post("/api/auth/mfa/totp/disable", headers=bearer(admin["accessToken"]),
                          json={"code": totp_now(admin["secret"], 1), "password": PASSWORD})
    assert r.status_code == 403 and r.json()["code"] == "mfa_required_for_admins"


async def test_admin_routes_require_admin_with_mfa(client, guarded_app):
    admin = await admin_tokens(guarded_app, client)
    assert (await client.get("/_probe/admin",
                             headers=bearer(admin["accessToken"]))).status_code == 200
    contractor = await register(client, "contractor")
    client_user = await register(client, "client")
    for user in (contractor, client_user):
        r = await client.get("/_probe/admin", headers=bearer(user["accessToken"]))
        assert r.status_code == 403 and r.json()["code"] == "forbidden_role"
    assert (await client.get("/_probe/contractor",
                             headers=bearer(client_user["accessToken"]))).status_code == 403
    assert (await client.get("/_probe/contractor",
                             headers=bearer(contractor["accessToken"]))).status_code == 200


async def test_admin_token_without_otp_is_refused(client, guarded_app):
    """An admin access token whose login skipped the second factor (amr without otp)."""
    app = guarded_app
    email, _ = await create_admin(app)
    from mindlinks.auth import repository
    from mindlinks.auth.sessions import start_login

    async with app.state.db.session() as s:
        user = await repository.user_by_email(s, email)
        pair = await start_login(s, app.state.runtime, user, ["pwd"])
    r = await client.get("/_probe/admin", headers=bearer(pair.access_token))
    assert r.status_code == 403 and r.json()["code"] == "mfa_required"


async def test_mfa_attempts_are_throttled(client, app):
    email, secret = await create_admin(app)
    ch = (await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})).json()
    wrong = "000000" if totp_now(secret) != "000000" else "111111"
    codes = [
        (await client.post("/api/auth/login/mfa",
                           json={"mfaToken": ch["mfaToken"], "code": wrong})).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [401] * 5 and codes[5] == 429


async def test_forged_mfa_token(client):
    r = await client.post("/api/auth/login/mfa",
                          json={"mfaToken": "x.y.z", "code": "123456"})
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert "accessToken" not in r.json()


async def test_totp_secret_is_stored_encrypted(client, app):
    """A copy of the database alone cannot mint codes: the column holds a ciphertext bound
    to its row (RELIABILITY 38), and `keys rotate` knows the column."""
    from sqlalchemy import text

    from mindlinks.platform.crypto import registered_columns

    user = await register(client)
    secret = await _enroll(client, user["accessToken"])
    async with app.state.db.session() as session:
        stored = await session.scalar(text("SELECT mfa_secret_enc FROM auth_users WHERE id = :id"),
                                      {"id": uuid.UUID(user["user"]["id"]) if not app.state.db.is_sqlite
                                       else uuid.UUID(user["user"]["id"]).hex})
    assert stored and secret not in stored
    assert ("auth_users", "mfa_secret_enc") in {(c.table.name, c.column)
                                                 for c in registered_columns()}
