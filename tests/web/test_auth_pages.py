"""The public pages through HTTP: sign-up, the mailed verification and reset links, sign-in
with and without MFA, sign-out, CSRF refusal, cookie flags and redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.factories import PASSWORD, bearer, create_admin, register, totp_now, unique_email
from tests.web.conftest import csrf_of, submit, web_login

pytestmark = pytest.mark.usefixtures("db_backend")


def _path(link: str) -> str:
    parts = urlsplit(link)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


async def test_signup_signs_in_with_safe_cookies_and_mails_a_working_verification_link(
    app: Any, browser: httpx.AsyncClient, mail_links: Any
):
    email = unique_email("web")
    response = await submit(browser, "/signup", "/signup", {
        "role": "contractor", "name": "Ada Web", "email": email, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/?welcome=1"
    cookies = _set_cookies(response)
    for name in ("ml_access", "ml_refresh"):
        flags = cookies[name].lower()
        assert "httponly" in flags and "secure" in flags and "samesite=lax" in flags, flags

    home = await browser.get("/")
    assert home.status_code == 200 and "Ada Web" in home.text and "unverified" in home.text
    assert home.headers["cache-control"] == "no-store"

    links = await mail_links(email, "/verify-email")
    assert len(links) == 1
    verified = await browser.get(_path(links[0]))
    assert verified.status_code == 200 and "Email confirmed" in verified.text
    profile = await browser.get("/profile")
    assert ">verified<" in profile.text.replace("badge-verified\">verified", ">verified")
    again = await browser.get(_path(links[0]))
    assert again.status_code == 400 and "Link not valid" in again.text


async def test_signup_errors_show_on_the_form_and_create_nothing(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    taken = (await register(client, "client"))["user"]["email"]
    response = await submit(browser, "/signup", "/signup", {
        "role": "client", "email": taken, "password": PASSWORD})
    assert response.status_code == 400 and "already exists" in response.text
    weak = await submit(browser, "/signup", "/signup", {
        "role": "contractor", "email": unique_email(), "password": "short"})
    assert weak.status_code == 400 and "ml_access" not in _set_cookies(weak)


async def test_a_form_posted_without_the_csrf_token_is_refused(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    account = await register(client, "contractor")
    await browser.get("/login")  # the browser has a CSRF cookie, the attacker's form not
    forged = await browser.post("/login", data={"email": account["user"]["email"],
                                                "password": PASSWORD})
    assert forged.status_code == 403 and forged.json()["code"] == "csrf_failed"
    wrong = await browser.post("/login", data={"email": account["user"]["email"],
                                               "password": PASSWORD, "csrf_token": "x.y"})
    assert wrong.status_code == 403
    assert "ml_access" not in _set_cookies(forged) | _set_cookies(wrong)


async def test_signed_out_pages_redirect_to_login_and_back(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    for path in ("/", "/profile", "/kyc", "/contracts/3f2c1a9e-8d4b-4c2a-9f1e-5b6d7c8e9f01"):
        response = await browser.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=" + path.split("?")[0])
    account = await register(client, "contractor")
    page = await browser.get("/login?next=/kyc")
    done = await browser.post("/login", data={
        "csrf_token": csrf_of(page), "email": account["user"]["email"], "password": PASSWORD,
        "next": "/kyc"})
    assert done.headers["location"] == "/kyc"
    assert (await browser.get("/kyc")).status_code == 200


async def test_login_never_redirects_off_site(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    account = await register(client, "contractor")
    page = await browser.get("/login")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        browser.cookies.delete("ml_access")
        browser.cookies.delete("ml_refresh")
        done = await browser.post("/login", data={
            "csrf_token": csrf_of(page), "email": account["user"]["email"],
            "password": PASSWORD, "next": target})
        assert done.status_code == 303 and done.headers["location"] == "/", target


async def test_wrong_password_is_an_error_on_the_form(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    account = await register(client, "contractor")
    response = await submit(browser, "/login", "/login", {
        "email": account["user"]["email"], "password": "not the password at all"})
    assert response.status_code == 400 and "Invalid email or password" in response.text
    assert (await browser.get("/")).status_code == 303


async def test_logout_clears_the_cookies_and_ends_the_session(
    browser: httpx.AsyncClient, client: httpx.AsyncClient
):
    account = await register(client, "contractor")
    await web_login(browser, account["user"]["email"], PASSWORD)
    home = await browser.get("/")
    access = browser.cookies.get("ml_access")
    no_token = await browser.post("/logout")
    assert no_token.status_code == 403
    out = await browser.post("/logout", data={"csrf_token": csrf_of(home)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    cleared = _set_cookies(out)
    assert 'ml_access=""' in cleared["ml_access"] and "max-age=0" in cleared["ml_access"].lower()
    assert "max-age=0" in cleared["ml_refresh"].lower()
    # The token itself is revoked, not only forgotten by this browser.
    replay = await client.get("/api/auth/me", headers=bearer(access or ""))
    assert replay.status_code == 401


async def test_login_with_mfa_asks_for_the_code(app: Any, browser: httpx.AsyncClient):
    email, secret = await create_admin(app)  # admins always have TOTP enrolled
    step = await submit(browser, "/login", "/login", {"email": email, "password": PASSWORD})
    assert step.status_code == 200 and "Two-step verification" in step.text
    assert "ml_access" not in _set_cookies(step)
    token = step.text.split('name="mfa_token" value="')[1].split('"')[0]
    bad = await browser.post("/login/mfa", data={"csrf_token": csrf_of(step),
                                                 "mfa_token": token, "code": "000000"})
    assert bad.status_code == 400 and "ml_access" not in _set_cookies(bad)
    done = await browser.post("/login/mfa", data={"csrf_token": csrf_of(step),
                                                  "mfa_token": token, "code": totp_now(secret)})
    assert done.status_code == 303, done.text
    assert "ml_access" in _set_cookies(done)
    assert (await browser.get("/profile")).status_code == 200


async def test_reset_password_through_the_mailed_link(
    browser: httpx.AsyncClient, client: httpx.AsyncClient, mail_links: Any
):
    account = await register(client, "contractor")
    email = account["user"]["email"]
    asked = await submit(browser, "/forgot-password", "/forgot-password", {"email": email})
    assert asked.status_code == 200 and "If an account exists" in asked.text
    link = _path((await mail_links(email, "/reset-password"))[-1])
    page = await browser.get(link)
    assert page.status_code == 200 and "Choose a new password" in page.text
    token = link.split("token=")[1]
    new = "a brand new long passphrase"
    mismatch = await browser.post("/reset-password", data={
        "csrf_token": csrf_of(page), "token": token, "password": new,
        "password_confirm": new + "x"})
    assert mismatch.status_code == 400
    done = await browser.post("/reset-password", data={
        "csrf_token": csrf_of(page), "token": token, "password": new, "password_confirm": new})
    assert done.status_code == 200 and "Password changed" in done.text
    reused = await browser.post("/reset-password", data={
        "csrf_token": csrf_of(page), "token": token, "password": new, "password_confirm": new})
    assert reused.status_code == 400
    old = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert old.status_code == 401
    await web_login(browser, email, new)


async def test_signup_and_reset_forms_refuse_a_breached_password(
    browser: httpx.AsyncClient, client: httpx.AsyncClient, mail_links: Any
):
    """RELIABILITY 23 through the pages (the sandbox list), in English and in Arabic."""
    from mindlinks.auth.providers import SANDBOX_SAMPLES

    signup = await submit(browser, "/signup", "/signup", {
        "role": "contractor", "email": unique_email(), "password": SANDBOX_SAMPLES[2]})
    assert signup.status_code == 400 and "ml_access" not in _set_cookies(signup)
    assert "has appeared in a known data breach" in signup.text

    account = await register(client, "contractor")
    email = account["user"]["email"]
    await submit(browser, "/forgot-password", "/forgot-password", {"email": email})
    link = _path((await mail_links(email, "/reset-password"))[-1])
    token = link.split("token=")[1]
    browser.cookies.set("ml_lang", "ar")
    page = await browser.get(link)
    breached = SANDBOX_SAMPLES[3]
    refused = await browser.post("/reset-password", data={
        "csrf_token": csrf_of(page), "token": token, "password": breached,
        "password_confirm": breached})
    assert refused.status_code == 400
    assert "ظهرت كلمة المرور هذه في تسريب بيانات: اختر غيرها." in refused.text
    new = "a brand new long passphrase"
    done = await browser.post("/reset-password", data={
        "csrf_token": csrf_of(page), "token": token, "password": new, "password_confirm": new})
    assert done.status_code == 200  # the refusal did not use the link up


async def test_cookies_are_not_secure_only_on_plain_http_loopback(app: Any, client: Any):
    account = await register(client, "contractor")
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as c:
        page = await c.get("/login")
        response = await c.post("/login", data={
            "csrf_token": csrf_of(page), "email": account["user"]["email"],
            "password": PASSWORD})
        assert response.status_code == 303
        assert "secure" not in _set_cookies(response)["ml_access"].lower()
    # Any other plain-http host: Secure, so the browser never sends them back over http.
    async with httpx.AsyncClient(transport=transport, base_url="http://app.example") as c:
        page = await c.get("/login")
        assert "secure" in _set_cookies(page)["ml_csrf"].lower()
        refused = await c.post("/login", data={
            "csrf_token": csrf_of(page), "email": account["user"]["email"],
            "password": PASSWORD})
        assert refused.status_code == 403


async def test_static_files_are_served_and_nothing_else(browser: httpx.AsyncClient):
    css = await browser.get("/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    js = await browser.get("/static/htmx-2.0.11.min.js")
    assert js.status_code == 200 and b"htmx" in js.content[:100]
    for path in ("/static/nope.css", "/static/..%2Fpages.py", "/static/../pages.py"):
        assert (await browser.get(path)).status_code == 404, path
