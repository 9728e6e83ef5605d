"""Refresh-token rotation, reuse detection, lifetimes, logout (RELIABILITY 26)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select, update

from mindlinks.auth.models import AuthSession
from mindlinks.platform.db import utcnow
from tests.factories import bearer, register


async def _refresh(client, token):
    return await client.post("/api/auth/refresh", json={"refreshToken": token})


async def test_rotation_gives_a_new_pair_and_old_one_dies(client):
    user = await register(client)
    r1 = await _refresh(client, user["refreshToken"])
    assert r1.status_code == 200
    pair = r1.json()
    assert pair["refreshToken"] != user["refreshToken"]
    assert (await client.get("/api/auth/me", headers=bearer(pair["accessToken"]))).status_code == 200
    r2 = await _refresh(client, pair["refreshToken"])
    assert r2.status_code == 200
    # The first refresh token is spent: presenting it again is refused.
    old = await _refresh(client, user["refreshToken"])
    assert old.status_code == 401 and old.json()["code"] == "refresh_token_reused"


async def test_reuse_revokes_the_whole_family(client):
    user = await register(client)
    r2 = (await _refresh(client, user["refreshToken"])).json()
    replay = await _refresh(client, user["refreshToken"])
    assert replay.status_code == 401 and replay.json()["code"] == "refresh_token_reused"
    # The legitimate newest token is revoked too, and so is the access token of that login.
    after = await _refresh(client, r2["refreshToken"])
    assert after.status_code == 401
    me = await client.get("/api/auth/me", headers=bearer(r2["accessToken"]))
    assert me.status_code == 401 and me.json()["code"] == "session_revoked"


async def test_other_logins_survive_a_reuse_in_one_family(client):
    user = await register(client)
    other = (await client.post("/api/auth/login", json={
        "email": user["user"]["email"], "password": user["password"]})).json()
    await _refresh(client, user["refreshToken"])
    await _refresh(client, user["refreshToken"])  # reuse in the first family
    assert (await _refresh(client, other["refreshToken"])).status_code == 200


@pytest.mark.race
async def test_parallel_refreshes_with_one_token_succeed_exactly_once(client):
    user = await register(client)
    results = await asyncio.gather(*[_refresh(client, user["refreshToken"]) for _ in range(5)])
    codes = [r.status_code for r in results]
    assert codes.count(200) == 1, codes
    assert codes.count(401) == 4, codes


async def test_unknown_refresh_token(client):
    r = await _refresh(client, "x" * 43)
    assert r.status_code == 401 and r.json()["code"] == "invalid_refresh_token"


async def test_sliding_and_absolute_expiry(client, app):
    user = await register(client)
    async with app.state.db.session() as s:
        await s.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = await _refresh(client, user["refreshToken"])
    assert r.status_code == 401 and r.json()["code"] == "refresh_token_expired"

    user = await register(client)
    async with app.state.db.session() as s:
        row = await s.scalar(select(AuthSession).where(
            AuthSession.user_id == uuid.UUID(user["user"]["id"])))
        assert row.absolute_expires_at - row.created_at <= timedelta(days=30, seconds=5)
        row.absolute_expires_at = utcnow() - timedelta(seconds=1)
    r = await _refresh(client, user["refreshToken"])
    assert r.status_code == 401

    # An access token never outlives its login: one issued 5 s before the login's absolute
    # deadline expires with it (authenticated requests rely on this, not on a query).
    user = await register(client)
    deadline = utcnow() + timedelta(seconds=5)
    async with app.state.db.session() as s:
        await s.execute(update(AuthSession).where(
            AuthSession.user_id == uuid.UUID(user["user"]["id"])
        ).values(absolute_expires_at=deadline))
    pair = (await _refresh(client, user["refreshToken"])).json()
    claims = jwt.decode(pair["accessToken"], options={"verify_signature": False})
    assert claims["exp"] <= int(deadline.timestamp())


async def test_refresh_keeps_the_absolute_deadline(client, app):
    user = await register(client)
    pair = (await _refresh(client, user["refreshToken"])).json()
    async with app.state.db.session() as s:
        rows = (await s.scalars(select(AuthSession).where(
            AuthSession.user_id == uuid.UUID(user["user"]["id"])))).all()
    assert len(rows) == 2 and len({r.absolute_expires_at for r in rows}) == 1
    assert len({r.family_id for r in rows}) == 1
    assert all(len(r.refresh_token_hash) == 64 for r in rows)
    assert pair["refreshToken"] not in {r.refresh_token_hash for r in rows}


async def test_logout_ends_this_login_only(client):
    user = await register(client)
    other = (await client.post("/api/auth/login", json={
        "email": user["user"]["email"], "password": user["password"]})).json()
    r = await client.post("/api/auth/logout", headers=bearer(user["accessToken"]))
    assert r.status_code == 204
    assert (await client.get("/api/auth/me", headers=bearer(user["accessToken"]))).status_code == 401
    assert (await _refresh(client, user["refreshToken"])).status_code == 401
    assert (await client.get("/api/auth/me", headers=bearer(other["accessToken"]))).status_code == 200


async def test_logout_all(client):
    user = await register(client)
    other = (await client.post("/api/auth/login", json={
        "email": user["user"]["email"], "password": user["password"]})).json()
    r = await client.post("/api/auth/logout-all", headers=bearer(other["accessToken"]))
    assert r.status_code == 204
    for token in (user["accessToken"], other["accessToken"]):
        assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 401
    assert (await _refresh(client, other["refreshToken"])).status_code == 401
