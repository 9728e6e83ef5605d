"""Throttling of login, registration and reset mail (issue 10 §1 and rate limits), on the
in-memory limiter and on Redis: budgets are taken before the password is checked, the owner's
known address keeps its own budget, registration and reset mail are capped."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.app import create_app
from mindlinks.auth.models import User
from mindlinks.platform.audit import AuditLog
from tests.factories import PASSWORD, register, unique_email

OWNER_IP, ATTACKER_IP, ELSEWHERE_IP = "203.0.113.7", "198.51.100.66", "192.0.2.44"
WRONG = "wrong-password-" * 2


@pytest.fixture(params=["memory", "redis"])
def limiter_backend(request: pytest.FixtureRequest) -> str | None:
    """None for the in-process limiter, else the test Redis."""
    return None if request.param == "memory" else str(request.getfixturevalue("redis_url"))


@contextlib.asynccontextmanager
async def throttled_app(settings: Any, redis_url: str | None, **updates: Any
                        ) -> AsyncIterator[Any]:
    application = create_app(settings.model_copy(update={"redis_url": redis_url, **updates}))
    if redis_url:  # this test's own keys on the shared Redis
        application.state.runtime.limiter.prefix = f"test:{uuid.uuid4().hex}:"
    async with application.router.lifespan_context(application):
        yield application


@contextlib.asynccontextmanager
async def client_at(application: Any, ip: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=application, client=(ip, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _login(c: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await c.post("/api/auth/login", json={"email": email, "password": password})


async def _failures_audited(application: Any) -> int:
    async with application.state.db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "auth.login.failed")) or 0)


async def test_concurrent_wrong_passwords_spend_only_the_budget(settings, limiter_backend):
    async with throttled_app(settings, limiter_backend) as application:
        async with client_at(application, OWNER_IP) as owner:
            email = (await register(owner))["user"]["email"]
        async with client_at(application, ATTACKER_IP) as attacker:
            answers = await asyncio.gather(*[_login(attacker, email, WRONG) for _ in range(40)])
            codes = [r.status_code for r in answers]
            # Exactly the account's budget reached the password check; the rest were refused.
            assert codes.count(401) == 5 and codes.count(429) == 35, codes
            assert await _failures_audited(application) == 5
            # The right password is refused too while the account is locked for new addresses.
            late = await _login(attacker, email, PASSWORD)
            assert late.status_code == 429 and late.json()["code"] == "too_many_requests"
        async with client_at(application, ELSEWHERE_IP) as elsewhere:
            assert (await _login(elsewhere, email, PASSWORD)).status_code == 429
        # The owner's own address (it signed in before) keeps its own budget.
        async with client_at(application, OWNER_IP) as owner:
            assert (await _login(owner, email, PASSWORD)).status_code == 200


async def test_a_known_address_has_a_budget_of_its_own(settings, limiter_backend):
    async with throttled_app(settings, limiter_backend) as application:
        async with client_at(application, OWNER_IP) as owner:
            email = (await register(owner))["user"]["email"]
            assert [(await _login(owner, email, WRONG)).status_code
                    for _ in range(6)] == [401] * 5 + [429]
        # The owner's typos do not lock the account for an address without a login of it.
        async with client_at(application, ELSEWHERE_IP) as elsewhere:
            assert (await _login(elsewhere, email, PASSWORD)).status_code == 200


async def test_successful_logins_do_not_use_up_the_address(settings):
    """An office behind one address: many people sign in, none is refused."""
    async with throttled_app(settings, None, login_failures_per_ip=3) as application, \
            client_at(application, OWNER_IP) as office:
        users = [await register(office) for _ in range(2)]
        for _ in range(3):
            for user in users:
                assert (await _login(office, user["user"]["email"], PASSWORD)).status_code == 200


async def test_registration_is_limited_per_address(settings, limiter_backend):
    async with throttled_app(settings, limiter_backend,
                             registrations_per_ip_per_hour=3) as application:
        async with client_at(application, ATTACKER_IP) as c:
            for _ in range(3):
                await register(c)
            email = unique_email()
            r = await c.post("/api/auth/register", json={
                "email": email, "password": PASSWORD, "role": "contractor"})
            assert r.status_code == 429 and r.json()["code"] == "too_many_requests"
            assert int(r.headers["Retry-After"]) > 0
        async with application.state.db.session() as s:
            assert await s.scalar(select(User).where(User.email == email)) is None
        async with client_at(application, ELSEWHERE_IP) as other:
            await register(other)  # another address is not affected


async def test_registration_is_limited_in_total(settings, limiter_backend):
    async with throttled_app(settings, limiter_backend, registrations_per_hour=3) as application:
        for n in range(3):
            async with client_at(application, f"198.51.100.{n + 1}") as c:
                await register(c)
        async with client_at(application, "198.51.100.200") as c:
            r = await c.post("/api/auth/register", json={
                "email": unique_email(), "password": PASSWORD, "role": "client"})
            assert r.status_code == 429


async def test_reset_mail_is_limited_per_account_from_any_address(settings, limiter_backend):
    async with throttled_app(settings, limiter_backend) as application:
        async with client_at(application, OWNER_IP) as owner:
            email = (await register(owner))["user"]["email"]
        for n in range(12):
            async with client_at(application, f"198.51.100.{n + 1}") as c:
                r = await c.post("/api/auth/password/forgot", json={"email": email.upper()})
                assert r.status_code == 202  # the same answer as for any other email
        await application.state.runtime.mailer.drain()
        resets = [p for p in application.state.settings.mail_dir.glob("*.eml")
                  if b"Reset your Mind-Links password" in p.read_bytes()]
        assert len(resets) == application.state.settings.password_resets_per_account_per_hour


async def test_password_hashing_runs_off_the_event_loop(client, monkeypatch):
    from mindlinks.platform import security

    threads: list[str] = []
    original = security.verify_password

    def spy(password_hash: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        return original(password_hash, password)

    monkeypatch.setattr(security, "verify_password", spy)
    user = await register(client)
    assert (await _login(client, user["user"]["email"], PASSWORD)).status_code == 200
    assert threads and all(name.startswith("argon2") for name in threads), threads
