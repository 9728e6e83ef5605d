"""Real-browser journeys (Playwright driving Debian's Chromium) against the app served by
uvicorn on 127.0.0.1: sign up, open the mailed verification link, sign out and in, see the
home page; and a password reset through the mailed link with JavaScript turned off.
A screenshot of each page at 1280 px and 375 px goes to the test's tmp dir, and each page
passes the axe-core check (tests/web/axe.py).

Every Chromium journey runs on one database: PostgreSQL when configured, else SQLite (the
pages' queries run on both in the page tests; see docs/web.md and tests/conftest.py)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mindlinks.settings import Settings
from tests.factories import PASSWORD, register, totp_now, unique_email
from tests.web import axe
from tests.web.conftest import mailed_links

pytestmark = pytest.mark.usefixtures("db_backend")
CHROMIUM = Path("/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.async_api",
                                     reason="playwright is not installed (pip install -e .[dev])")
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[tuple[str, Any]]:
    """The app behind a real uvicorn server on a free port; mailed links point at it."""
    import uvicorn

    from mindlinks.app import create_app

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(settings.model_copy(update={"public_url": base, "port": port}))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield base, app
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            await browser.close()


class Shots:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def take(self, page: Any, name: str) -> None:
        """Screenshots at both widths, and the axe-core check (light and dark) of the page."""
        await axe.check(page, name)
        for width, height in ((1280, 800), (375, 740)):
            await page.set_viewport_size({"width": width, "height": height})
            await page.screenshot(path=self.directory / f"{name}-{width}.png", full_page=True)
        await page.set_viewport_size({"width": 1280, "height": 800})


@pytest.fixture
def shots(tmp_path: Path) -> Shots:
    return Shots(tmp_path / "screenshots")


async def admin_sign_in(page: Any, email: str, secret: str, next_path: str = "/admin") -> None:
    """An administrator signs in through the page, password then TOTP code, and lands on
    `next_path` (the shared first steps of the admin browser journeys)."""
    await page.goto(f"/login?next={next_path}")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_label("Code", exact=True).fill(totp_now(secret))
    await page.get_by_role("button", name="Verify").click()


async def _mail_link(app: Any, email: str, path: str) -> str:
    await app.state.runtime.mailer.drain()
    links = mailed_links(app, email, path)
    assert links, f"no mail with {path} to {email}"
    return links[-1]


async def test_sign_up_verify_sign_in_and_see_home(
    served: tuple[str, Any], chromium: Any, shots: Shots
):
    base, app = served
    expect = playwright_api.expect
    context = await chromium.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    email = unique_email("browser")

    await page.goto("/signup")
    await shots.take(page, "signup")
    await page.get_by_label("a contractor").check()
    await page.get_by_label("Name").fill("Ada Browser")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Welcome, Ada Browser")).to_be_visible()
    await expect(page.locator(".badge-unverified")).to_be_visible()
    await shots.take(page, "home-new")

    await page.goto(await _mail_link(app, email, "/verify-email"))
    await expect(page.get_by_role("heading", name="Email confirmed")).to_be_visible()
    await shots.take(page, "verify-email")

    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await shots.take(page, "login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Welcome, Ada Browser")).to_be_visible()
    await expect(page.locator(".badge-verified").first).to_be_visible()
    await expect(page.get_by_text("No contracts yet")).to_be_visible()
    await shots.take(page, "home")
    await page.get_by_role("link", name="Profile").click()
    await expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    await shots.take(page, "profile")
    await page.get_by_role("link", name="Verification").click()
    await expect(page.get_by_role("heading", name="Identity verification")).to_be_visible()
    await shots.take(page, "kyc")
    assert not await page.evaluate("document.cookie")  # HttpOnly: no script sees a token


async def test_reset_password_through_the_mailed_link_without_javascript(
    served: tuple[str, Any], chromium: Any, shots: Shots
):
    import httpx

    base, app = served
    expect = playwright_api.expect
    async with httpx.AsyncClient(base_url=base) as api:
        email = (await register(api, "contractor", name="Reset Me"))["user"]["email"]
    context = await chromium.new_context(base_url=base, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = await context.new_page()

    await page.goto("/login")
    await page.get_by_role("link", name="Forgot your password?").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_role("button", name="Send the link").click()
    await expect(page.get_by_text("If an account exists")).to_be_visible()
    await shots.take(page, "forgot-password")

    await page.goto(await _mail_link(app, email, "/reset-password"))
    await shots.take(page, "reset-password")
    new = "another long passphrase here"
    await page.get_by_label("New password").fill(new)
    await page.get_by_label("Repeat it").fill(new)
    await page.get_by_role("button", name="Set password").click()
    await expect(page.get_by_role("heading", name="Password changed")).to_be_visible()

    await page.get_by_role("link", name="Sign in").last.click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(new)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name=re.compile("Welcome"))).to_be_visible()
    await shots.take(page, "home-after-reset")
