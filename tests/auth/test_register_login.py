"""Registration, login, /me, throttling and enumeration resistance."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from mindlinks.auth.models import User
from mindlinks.platform.audit import AuditLog
from tests.factories import PASSWORD, bearer, register, unique_email

PROBLEM = "application/problem+json"


async def test_register_returns_user_and_token_pair(client):
    email = unique_email()
    r = await client.post("/api/auth/register", json={
        "email": email.upper(), "password": PASSWORD, "role": "contractor", "name": "Ada"})
    assert r.status_code == 201
    body = r.json()
    assert body["user"]["email"] == email  # normalised
    assert body["user"]["role"] == "contractor"
    assert body["user"]["emailVerified"] is False
    assert body["tokenType"] == "Bearer" and body["expiresIn"] == 900
    assert "passwordHash" not in body["user"] and "mfaSecret" not in body["user"]
    me = await client.get("/api/auth/me", headers=bearer(body["accessToken"]))
    assert me.status_code == 200 and me.json()["id"] == body["user"]["id"]


async def test_register_duplicate_email_is_409_case_insensitive(client):
    data = await register(client)
    r = await client.post("/api/auth/register", json={
        "email": data["user"]["email"].upper(), "password": PASSWORD, "role": "client"})
    assert r.status_code == 409
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "email_taken"


@pytest.mark.parametrize("role", ["admin", "company", ""])
async def test_register_refuses_other_roles(client, role):
    r = await client.post("/api/auth/register", json={
        "email": unique_email(), "password": PASSWORD, "role": role})
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
    assert any(e["field"] == "role" for e in r.json()["errors"])


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("short pass1", False),                 # 11 characters
        ("twelve chars", True),                 # 12
        ("x" * 256, True),
        ("x" * 257, False),
        ("qwerty123456", False),                # in the common-password list
        ("QWERTY123456", False),                # ... whatever the case
        ("пароль-очень-длинный-ключ", True),    # Unicode kept verbatim
    ],
)
async def test_password_policy(client, password, ok):
    r = await client.post("/api/auth/register", json={
        "email": unique_email(), "password": password, "role": "client"})
    assert (r.status_code == 201) is ok, r.text
    if not ok:
        assert r.status_code == 422 and r.json()["code"] == "weak_password"


async def test_password_may_not_contain_email_local_part(client):
    r = await client.post("/api/auth/register", json={
        "email": "margaret.hamilton@example.com", "password": "margaret.hamilton-1969",
        "role": "client"})
    assert r.status_code == 422 and r.json()["code"] == "weak_password"


async def test_unicode_password_is_not_normalised(client):
    data = await register(client, password="café au lait s'il vous plaît")
    email = data["user"]["email"]
    # The decomposed form (e + combining accent) is a different password.
    r = await client.post("/api/auth/login", json={
        "email": email, "password": "cafe\u0301 au lait s'il vous plaît"})
    assert r.status_code == 401
    r = await client.post("/api/auth/login", json={
        "email": email, "password": "café au lait s'il vous plaît"})
    assert r.status_code == 200


async def test_login_success_and_argon2id_hash(production_passwords, client, app):
    data = await register(client)
    r = await client.post("/api/auth/login", json={
        "email": data["user"]["email"], "password": PASSWORD})
    assert r.status_code == 200
    assert set(r.json()) == {"accessToken", "refreshToken", "tokenType", "expiresIn"}
    async with app.state.db.session() as s:
        user = await s.scalar(select(User).where(User.email == data["user"]["email"]))
    assert user.password_hash.startswith("$argon2id$")
    params = dict(p.split("=") for p in user.password_hash.split("$")[3].split(","))
    assert int(params["m"]) >= 19456 and int(params["t"]) >= 2
    assert user.last_login is not None


async def test_old_parameter_hash_is_upgraded_at_login(production_passwords, client, app):
    from argon2 import PasswordHasher

    data = await register(client)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    async with app.state.db.session() as s:
        user = await s.scalar(select(User).where(User.email == data["user"]["email"]))
        user.password_hash = weak
    r = await client.post("/api/auth/login", json={
        "email": data["user"]["email"], "password": PASSWORD})
    assert r.status_code == 200
    async with app.state.db.session() as s:
        user = await s.scalar(select(User).where(User.email == data["user"]["email"]))
    assert user.password_hash != weak and "m=65536" in user.password_hash


async def test_unknown_email_and_wrong_password_answer_identically(client, app):
    data = await register(client)
    wrong = await client.post("/api/auth/login", json={
        "email": data["user"]["email"], "password": "not the password at all"})
    unknown = await client.post("/api/auth/login", json={
        "email": unique_email(), "password": "not the password at all"})
    malformed = await client.post("/api/auth/login", json={
        "email": "not-an-email", "password": "not the password at all"})
    for r in (wrong, unknown, malformed):
        assert r.status_code == 401
        assert r.headers["content-type"] == PROBLEM
    assert wrong.json() == unknown.json() == malformed.json()
    assert wrong.json()["code"] == "invalid_credentials"
    async with app.state.db.session() as s:
        failures = (await s.scalars(
            select(AuditLog).where(AuditLog.action == "auth.login.failed"))).all()
    assert len(failures) == 3  # kept although the request failed
    assert all(data["user"]["email"] not in str(f.details) for f in failures)


async def test_account_throttled_after_five_failures(client):
    data = await register(client)
    email = data["user"]["email"]
    for _ in range(5):
        r = await client.post("/api/auth/login", json={"email": email, "password": "wrong-" * 3})
        assert r.status_code == 401
    r = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_requests"
    assert int(r.headers["Retry-After"]) > 0
    # Another account from the same address still works.
    other = await register(client)
    r = await client.post("/api/auth/login", json={
        "email": other["user"]["email"], "password": PASSWORD})
    assert r.status_code == 200


async def test_unknown_account_throttled_like_a_known_one(client):
    email = unique_email()
    for _ in range(5):
        await client.post("/api/auth/login", json={"email": email, "password": "wrong-" * 3})
    r = await client.post("/api/auth/login", json={"email": email, "password": "wrong-" * 3})
    assert r.status_code == 429


async def test_ip_throttled_after_twenty_failures(client):
    for _ in range(20):
        r = await client.post("/api/auth/login", json={
            "email": unique_email(), "password": "wrong-" * 3})
        assert r.status_code == 401
    data_email = unique_email()
    r = await client.post("/api/auth/login", json={"email": data_email, "password": "x" * 12})
    assert r.status_code == 429


async def test_me_requires_token(client):
    r = await client.get("/api/auth/me")
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["code"] == "not_authenticated"
    assert r.headers["WWW-Authenticate"] == "Bearer"


async def test_suspended_user_is_refused_even_with_a_live_token(client, app):
    data = await register(client)
    from mindlinks.auth.models import UserStatus
    from mindlinks.auth.service import set_user_status
    from mindlinks.platform.security import Actor, Role

    admin = Actor(user_id=uuid.uuid4(), email="admin@example.com", role=Role.ADMIN,
                  amr=("pwd", "otp"))
    async with app.state.db.session() as s:
        user = await s.scalar(select(User).where(User.email == data["user"]["email"]))
        await set_user_status(s, admin, user.id, UserStatus.SUSPENDED)
    r = await client.get("/api/auth/me", headers=bearer(data["accessToken"]))
    assert r.status_code == 403 and r.json()["code"] == "account_suspended"
    r = await client.get("/api/notifications/me", headers=bearer(data["accessToken"]))
    assert r.status_code == 403 and r.json()["code"] == "account_suspended"
    r = await client.post("/api/auth/login", json={
        "email": data["user"]["email"], "password": PASSWORD})
    assert r.status_code == 403 and r.json()["code"] == "account_suspended"
    # Suspension also ended the login, so its refresh token is dead as well.
    r = await client.post("/api/auth/refresh", json={"refreshToken": data["refreshToken"]})
    assert r.status_code in (401, 403)


async def test_role_change_applies_on_next_request(client, app):
    data = await register(client, role="client")
    async with app.state.db.session() as s:
        user = await s.scalar(select(User).where(User.email == data["user"]["email"]))
        user.role = "contractor"
    r = await client.get("/api/auth/me", headers=bearer(data["accessToken"]))
    assert r.json()["role"] == "contractor"


async def test_registration_emits_event_and_audit(client, app):
    from mindlinks.platform.events import OutboxEvent

    data = await register(client)
    async with app.state.db.session() as s:
        events = (await s.scalars(select(OutboxEvent))).all()
        audits = (await s.scalars(select(AuditLog))).all()
    assert [e.name for e in events] == ["auth.user.registered"]
    assert events[0].payload["userId"] == data["user"]["id"]
    assert any(a.action == "auth.user.registered" and a.ip_address and len(a.ip_address) == 64
               and a.ip_address != "203.0.113.7" for a in audits)


async def test_me_answers_exactly_what_the_user_schema_describes(client, app):
    from mindlinks.auth.schemas import User as UserOut

    data = await register(client)
    r = await client.get("/api/auth/me", headers=bearer(data["accessToken"]))
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    async with app.state.db.session() as s:
        user = await s.scalar(select(User).where(User.email == data["user"]["email"]))
        expected = UserOut.model_validate(user).model_dump(mode="json", by_alias=True)
    assert r.json() == expected
    assert "passwordHash" not in r.json() and "mfaSecretEnc" not in r.json()
