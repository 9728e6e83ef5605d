"""Revocation is immediate across processes: two app instances share the database and Redis
(as two `mindlinks serve` workers do); a login ended through one is refused by the other on
the very next request, although neither queries the database to authenticate a request."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from mindlinks.app import create_app
from mindlinks.auth.models import UserStatus
from mindlinks.auth.service import set_user_status
from mindlinks.platform.security import Actor, Role
from mindlinks.settings import Settings
from tests.factories import PASSWORD, bearer, register


@pytest.fixture
async def two_instances(
    settings: Settings, redis_url: str
) -> AsyncIterator[tuple[Any, httpx.AsyncClient, Any, httpx.AsyncClient]]:
    shared = settings.model_copy(update={"redis_url": redis_url, "workers": 2})
    async with AsyncExitStack() as stack:
        pairs = []
        for _ in range(2):
            app = create_app(shared)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"))
            pairs.append((app, client))
        (app_a, a), (app_b, b) = pairs
        yield app_a, a, app_b, b


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/auth/me", headers=bearer(token))


async def test_logout_on_one_instance_refuses_the_token_on_the_other(two_instances):
    _app_a, a, _app_b, b = two_instances
    user = await register(a)
    assert (await _me(b, user["accessToken"])).status_code == 200
    assert (await a.post("/api/auth/logout", headers=bearer(user["accessToken"]))).status_code \
        == 204
    r = await _me(b, user["accessToken"])
    assert r.status_code == 401 and r.json()["code"] == "session_revoked"


async def test_logout_all_and_password_change_reach_the_other_instance(two_instances):
    _app_a, a, _app_b, b = two_instances
    user = await register(a)
    second = (await b.post("/api/auth/login", json={
        "email": user["user"]["email"], "password": PASSWORD})).json()
    assert (await _me(b, second["accessToken"])).status_code == 200
    changed = await a.post("/api/auth/password/change", headers=bearer(user["accessToken"]),
                           json={"currentPassword": PASSWORD,
                                 "newPassword": "another long passphrase 42"})
    assert changed.status_code == 200, changed.text
    assert (await _me(b, second["accessToken"])).status_code == 401
    assert (await _me(b, user["accessToken"])).status_code == 200  # the changing login stays
    assert (await a.post("/api/auth/logout-all",
                         headers=bearer(user["accessToken"]))).status_code == 204
    assert (await _me(b, user["accessToken"])).status_code == 401


async def test_suspension_on_one_instance_refuses_the_user_on_the_other(two_instances):
    app_a, a, _app_b, b = two_instances
    user = await register(a)
    assert (await _me(b, user["accessToken"])).status_code == 200
    admin = Actor(user_id=uuid.uuid4(), email="admin@example.com", role=Role.ADMIN,
                  amr=("pwd", "otp"))
    async with app_a.state.db.session() as session:
        await set_user_status(session, admin, uuid.UUID(user["user"]["id"]),
                              UserStatus.SUSPENDED)
    r = await _me(b, user["accessToken"])
    assert r.status_code == 403 and r.json()["code"] == "account_suspended"


async def test_a_new_instance_starts_with_the_revocations_made_before(settings, redis_url):
    shared = settings.model_copy(update={"redis_url": redis_url})
    first = create_app(shared)
    async with first.router.lifespan_context(first), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first), base_url="http://testserver") as a:
        user = await register(a)
        assert (await a.post("/api/auth/logout",
                             headers=bearer(user["accessToken"]))).status_code == 204
    later = create_app(shared)
    async with later.router.lifespan_context(later), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=later), base_url="http://testserver") as b:
        assert (await _me(b, user["accessToken"])).status_code == 401
