"""In a real browser (Playwright driving Debian's Chromium against uvicorn): the notifications
page opens the cookie-session event stream and shows a new notification when it arrives (the
list's polling is skipped while the stream is open), and a boosted form refused for its CSRF
token shows the error page, not the problem's JSON text."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.factories import register
from tests.notifications.conftest import emit_and_deliver
from tests.web.test_browser import chromium, playwright_api, served
from tests.web.test_money_browser import _sign_in

__all__ = ["chromium", "served"]
pytestmark = pytest.mark.usefixtures("db_backend")


async def test_a_new_notification_arrives_through_the_stream(
        served: tuple[str, Any], chromium: Any, client: Any):
    base, served_app = served
    expect = playwright_api.expect
    account = await register(client, "contractor")
    context = await chromium.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page = await _sign_in(context, account["user"]["email"])
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    async with page.expect_response(lambda r: r.url.endswith("/notifications/stream")) as opened:
        await page.goto("/notifications")
    assert (await opened.value).status == 200
    await expect(page.get_by_text("No notifications.")).to_be_visible()

    await emit_and_deliver(served_app, "withdrawal.completed", {
        "withdrawalId": str(uuid.uuid4()), "userId": account["user"]["id"], "amount": 25,
        "currency": "USD"})
    await expect(page.get_by_text("Your withdrawal of $25.00 has been paid out.")).to_be_visible()
    assert any(url.endswith("/notifications/stream") for url in requests)
    await context.close()


async def test_a_refused_boosted_form_shows_the_error_page(
        served: tuple[str, Any], chromium: Any, client: Any):
    base, _ = served
    expect = playwright_api.expect
    account = await register(client, "contractor")
    context = await chromium.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await page.goto("/login")
    await page.get_by_label("Email").fill(account["user"]["email"])
    await page.get_by_label("Password").fill("whatever it is")
    # The form's token no longer matches (another tab signed out, the cookie was renewed...).
    await page.evaluate(
        "document.querySelector('form[action=\"/login\"] input[name=csrf_token]')"
        ".value = 'stale.0000'")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Something went wrong")).to_be_visible()
    await expect(page.get_by_text("Reload the page and try again")).to_be_visible()
    assert "mindlinks.dev/problems" not in await page.content()
    await context.close()
