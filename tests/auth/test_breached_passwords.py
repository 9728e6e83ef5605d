"""Breached passwords refused where a password is chosen (RELIABILITY 23, ASVS 6.2.12): the
sandbox list through the API (register, change, reset; invitation accept is in
tests/clients/test_invitations.py), never at login, and the Have I Been Pwned range adapter
against respx (k-anonymity prefix, padding, failing open without logging the password)."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

import httpx
import pytest
import respx
from sqlalchemy import update

from mindlinks.auth.models import User
from mindlinks.auth.passwords import (
    WeakPassword,
    check_new_password,
    check_password_policy,
    hash_password,
)
from mindlinks.auth.providers import (
    SANDBOX_SAMPLES,
    HibpBreachedPasswords,
    SandboxBreachedPasswords,
    breached_passwords_from_settings,
    production_problems,
)
from mindlinks.settings import Settings
from tests.auth.test_password_email import NEW_PASSWORD, _latest, _token
from tests.factories import PASSWORD, bearer, register, unique_email

BREACHED = SANDBOX_SAMPLES[0]
RANGE = "https://api.pwnedpasswords.test/range/"


def _sha1(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()


def _assert_breached(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "weak_password"
    assert "data breach" in body["detail"]
    assert body["errors"] == [{"field": field, "message": "has appeared in a known data breach",
                               "code": "weak_password", "params": {"rule": "breached"}}]


# --- the sandbox list ------------------------------------------------------------------------


@pytest.mark.parametrize("password", SANDBOX_SAMPLES)
async def test_each_sandbox_sample_passes_the_local_rules_and_is_refused_at_register(
    client: Any, password: str
) -> None:
    check_password_policy(password)  # only the breach check can refuse it
    email = unique_email()
    r = await client.post("/api/auth/register",
                          json={"email": email, "password": password, "role": "client"})
    _assert_breached(r, "password")
    # Nothing was created: the address is still free.
    ok = await client.post("/api/auth/register",
                           json={"email": email, "password": PASSWORD, "role": "client"})
    assert ok.status_code == 201, ok.text


async def test_an_unlisted_strong_password_is_accepted(client: Any) -> None:
    assert await SandboxBreachedPasswords().count(PASSWORD) == 0
    r = await client.post("/api/auth/register", json={
        "email": unique_email(), "password": "a quiet unlisted passphrase 7", "role": "client"})
    assert r.status_code == 201, r.text


async def test_change_refuses_a_breached_password_and_keeps_the_old_one(client: Any) -> None:
    user = await register(client)
    r = await client.post("/api/auth/password/change", headers=bearer(user["accessToken"]),
                          json={"currentPassword": PASSWORD, "newPassword": BREACHED})
    _assert_breached(r, "newPassword")
    login = await client.post("/api/auth/login",
                              json={"email": user["user"]["email"], "password": PASSWORD})
    assert login.status_code == 200


async def test_reset_refuses_a_breached_password_and_keeps_the_link(client: Any, app: Any) -> None:
    user = await register(client)
    await client.post("/api/auth/password/forgot", json={"email": user["user"]["email"]})
    token = _token(await _latest(app, "Reset", user["user"]["email"]), "/reset-password")
    r = await client.post("/api/auth/password/reset",
                          json={"token": token, "newPassword": BREACHED})
    _assert_breached(r, "newPassword")
    # The refusal consumed nothing: the same link sets an acceptable password.
    ok = await client.post("/api/auth/password/reset",
                           json={"token": token, "newPassword": NEW_PASSWORD})
    assert ok.status_code == 200, ok.text


async def test_login_with_an_existing_breached_password_still_works(client: Any, app: Any) -> None:
    """Only a password being chosen is checked: a breach never locks an account out."""
    user = await register(client)
    async with app.state.db.session() as s:
        await s.execute(update(User).where(User.email == user["user"]["email"])
                        .values(password_hash=await hash_password(BREACHED)))
    r = await client.post("/api/auth/login",
                          json={"email": user["user"]["email"], "password": BREACHED})
    assert r.status_code == 200, r.text


async def test_off_accepts_a_listed_password(client: Any, app: Any) -> None:
    app.state.settings.breached_password_check = "off"
    r = await client.post("/api/auth/register", json={
        "email": unique_email(), "password": BREACHED, "role": "client"})
    assert r.status_code == 201, r.text


async def test_hibp_setting_is_used_by_the_api(client: Any, app: Any) -> None:
    app.state.settings.breached_password_check = "hibp"
    app.state.settings.hibp_range_url = RANGE
    password = "a quiet unlisted passphrase 8"
    digest = _sha1(password)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(RANGE + digest[:5]).mock(
            return_value=httpx.Response(200, text=f"{digest[5:]}:42\r\n"))
        r = await client.post("/api/auth/register", json={
            "email": unique_email(), "password": password, "role": "client"})
    _assert_breached(r, "password")
    assert route.call_count == 1


# --- the Have I Been Pwned adapter -------------------------------------------------------------


def _hibp() -> HibpBreachedPasswords:
    return HibpBreachedPasswords(base_url=RANGE, timeout=2)


@respx.mock(assert_all_called=True)
async def test_hibp_sends_only_the_prefix_and_finds_the_suffix(
    respx_mock: respx.MockRouter,
) -> None:
    password = "a quiet unlisted passphrase 9"
    digest = _sha1(password)
    body = "\r\n".join(["0018A45C4D1DEF81644B54AB7F969B88D65:1",
                        f"{digest[5:].lower()}:3861493",  # compared without case
                        "00D4F6E8FA6EECAD2A3AA415EEC418D38EC:0"])
    route = respx_mock.get(RANGE + digest[:5]).mock(return_value=httpx.Response(200, text=body))
    assert await _hibp().count(password) == 3861493
    request = route.calls.last.request
    assert str(request.url) == RANGE + digest[:5]  # 5 hex characters, nothing else
    assert digest[5:] not in str(request.url) and password not in str(request.url)
    assert request.headers["Add-Padding"] == "true"
    assert request.headers["User-Agent"].startswith("Mind-Links/")


@respx.mock(assert_all_called=True)
async def test_hibp_padding_line_with_zero_count_is_not_a_breach(
    respx_mock: respx.MockRouter,
) -> None:
    password = "a quiet unlisted passphrase 10"
    digest = _sha1(password)
    body = f"0018A45C4D1DEF81644B54AB7F969B88D65:12\r\n{digest[5:]}:0\r\n"
    respx_mock.get(RANGE + digest[:5]).mock(return_value=httpx.Response(200, text=body))
    assert await _hibp().count(password) == 0
    settings = Settings(_env_file=None, breached_password_check="hibp", hibp_range_url=RANGE)
    await check_new_password(settings, password)  # accepted


@respx.mock(assert_all_called=True)
async def test_hibp_match_refuses_through_the_policy(respx_mock: respx.MockRouter) -> None:
    digest = _sha1(NEW_PASSWORD)
    respx_mock.get(RANGE + digest[:5]).mock(
        return_value=httpx.Response(200, text=f"{digest[5:]}:7\r\n"))
    settings = Settings(_env_file=None, breached_password_check="hibp", hibp_range_url=RANGE)
    with pytest.raises(WeakPassword) as refused:
        await check_new_password(settings, NEW_PASSWORD, field="newPassword")
    assert refused.value.errors[0]["params"] == {"rule": "breached"}


@pytest.mark.parametrize("failure", [httpx.ConnectTimeout("timed out"),
                                     httpx.Response(503, text="unavailable")],
                         ids=["timeout", "503"])
async def test_hibp_unreachable_fails_open_and_logs_no_secret(
    failure: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    password = "a quiet unlisted passphrase 11"
    digest = _sha1(password)
    settings = Settings(_env_file=None, breached_password_check="hibp", hibp_range_url=RANGE)
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(RANGE + digest[:5])
        if isinstance(failure, httpx.Response):
            route.mock(return_value=failure)
        else:
            route.mock(side_effect=failure)
        assert await _hibp().count(password) is None
        await check_new_password(settings, password)  # accepted: fails open
    logged = "".join(capsys.readouterr())
    assert "breached_password_check_unavailable" in logged
    assert password not in logged
    assert digest[:5] not in logged and digest[5:] not in logged


async def test_hibp_deadline_bounds_the_whole_exchange(capsys: pytest.CaptureFixture[str]) -> None:
    """A server that answers too slowly (each phase within httpx's timeout, not the whole)
    counts as unreachable: the deadline is the adapter's timeout, end to end."""
    password = "a quiet unlisted passphrase 12"
    digest = _sha1(password)

    asked: list[str] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        await asyncio.sleep(1)
        return httpx.Response(200, text=f"{digest[5:]}:5\r\n")

    # respx records a call once its answer is made; this one is cancelled first.
    with respx.mock(assert_all_called=False) as mock:
        mock.get(RANGE + digest[:5]).mock(side_effect=slow)
        started = time.monotonic()
        assert await HibpBreachedPasswords(base_url=RANGE, timeout=0.2).count(password) is None
    assert time.monotonic() - started < 0.9
    assert asked == [RANGE + digest[:5]]
    assert "breached_password_check_unavailable" in "".join(capsys.readouterr())


def test_settings_select_the_source_and_production_refuses_the_sandbox() -> None:
    def settings(**kw: Any) -> Settings:
        return Settings(_env_file=None, **kw)

    assert isinstance(breached_passwords_from_settings(settings()), SandboxBreachedPasswords)
    hibp = breached_passwords_from_settings(settings(breached_password_check="hibp"))
    assert isinstance(hibp, HibpBreachedPasswords)
    assert hibp.base_url == "https://api.pwnedpasswords.com/range/" and hibp.timeout == 2.0
    assert breached_passwords_from_settings(settings(breached_password_check="off")) is None
    assert production_problems(settings()) != []
    assert production_problems(settings(breached_password_check="hibp")) == []
    assert production_problems(settings(breached_password_check="off")) == []
    # create_app collects it (auth/setup.py) with the other domains' checks.
    from mindlinks.app import _production_problems

    assert any("MINDLINKS_BREACHED_PASSWORD_CHECK" in p
               for p in _production_problems(settings(env="production")))
    assert not any("BREACHED" in p for p in _production_problems(
        settings(env="production", breached_password_check="hibp")))
