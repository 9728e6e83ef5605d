"""`GET /notifications/stream`: the notifications' live stream for the browser's cookie
session (web/notification_pages.py), over real HTTP (uvicorn on loopback): the session is
checked as on the pages (expired or revoked -> refused), the Origin is this site's, and only
the user's own notifications arrive."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from mindlinks.platform.security import ACCESS
from tests.factories import bearer, register
from tests.notifications.conftest import emit_and_deliver, next_sse_event, running_app, serve

STREAM = "/notifications/stream"


def _cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"ml_access={token}"}


def _completed(user: dict) -> dict:
    return {"withdrawalId": str(uuid.uuid4()), "userId": user["user"]["id"], "amount": 1,
            "currency": "USD"}


@contextlib.asynccontextmanager
async def _http(app):
    async with serve(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        yield http


async def test_a_cookie_session_receives_its_own_notifications_only(settings):
    async with running_app(settings) as (app, client):
        mine = await register(client, "contractor")
        theirs = await register(client, "contractor")
        async with _http(app) as http, http.stream(
                "GET", STREAM, headers=_cookie(mine["accessToken"])) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await next_sse_event(lines, "unread") == {"type": "unread", "unread": 0}
            # The other user's notification first: the first one on this stream is mine.
            await emit_and_deliver(app, "withdrawal.completed", _completed(theirs))
            await emit_and_deliver(app, "withdrawal.completed", _completed(mine))
            pushed = await next_sse_event(lines, "notification")
            inbox = (await client.get("/api/notifications/me",
                                      headers=bearer(mine["accessToken"]))).json()
            assert [n["id"] for n in inbox["data"]] == [pushed["notification"]["id"]]
            assert pushed["unread"] == 1


async def test_an_expired_revoked_or_missing_cookie_is_refused(settings):
    async with running_app(settings) as (app, client):
        user = await register(client, "contractor")
        tokens = app.state.tokens
        claims = tokens.verify(user["accessToken"])
        own = {k: v for k, v in claims.items()
               if k not in {"sub", "typ", "iss", "aud", "iat", "nbf", "exp", "jti"}}
        expired = tokens.issue(subject=uuid.UUID(claims["sub"]), token_type=ACCESS,
                               ttl_seconds=60, claims=own,
                               now=datetime.now(UTC) - timedelta(hours=2))
        async with _http(app) as http:
            for headers in (_cookie(expired), {}, _cookie("not-a-token"),
                            bearer(user["accessToken"])):  # the page stream is cookie-only
                refused = await http.get(STREAM, headers=headers)
                assert refused.status_code == 401, headers
            # Revoked: a valid-looking token of a login that ended.
            assert (await client.post("/api/auth/logout",
                                      headers=bearer(user["accessToken"]))).status_code == 204
            refused = await http.get(STREAM, headers=_cookie(user["accessToken"]))
            assert refused.status_code == 401


async def test_only_this_sites_pages_may_open_it(settings):
    async with running_app(settings) as (app, client):
        user = await register(client, "contractor")
        async with _http(app) as http:
            for foreign in ({"Origin": "https://evil.example"},
                            {"Origin": "null"},
                            {"Sec-Fetch-Site": "cross-site"},
                            {"Sec-Fetch-Site": "same-site"}):
                refused = await http.get(STREAM, headers={
                    **_cookie(user["accessToken"]), **foreign})
                assert refused.status_code == 403, foreign
                assert refused.json()["code"] == "csrf_failed"
            own_origin = str(http.base_url).rstrip("/")
            async with http.stream("GET", STREAM, headers={
                    **_cookie(user["accessToken"]), "Origin": own_origin,
                    "Sec-Fetch-Site": "same-origin"}) as stream:
                assert stream.status_code == 200
                assert await next_sse_event(stream.aiter_lines(), "unread") == {
                    "type": "unread", "unread": 0}


async def test_the_page_opens_the_stream_and_still_polls_without_it(settings):
    async with running_app(settings) as (_app, client):
        user = await register(client, "contractor")
        page = await client.get("/notifications", headers=_cookie(user["accessToken"]))
        assert page.status_code == 200
        assert 'data-stream="/notifications/stream"' in page.text
        assert 'hx-trigger="every 15s, ml-refresh"' in page.text  # polling: the fallback
        assert '<script src="/static/live-inbox.js" defer></script>' in page.text
        script = await client.get("/static/live-inbox.js")
        assert script.status_code == 200 and "EventSource" in script.text
