"""The signed-in user's notifications (contractor, client, admin alike): the inbox with a
filter (all / unread) and pages, mark one read, mark all read - each through
`notifications.service`, so the rules are the API's (another user's notification is the same
404 page as a missing one). The list refreshes itself every POLL_SECONDS with htmx polling of
`/notifications/list` (the list alone) whenever `/notifications/stream` says something
changed: the notifications' live stream (Server-Sent Events, the API's stream) for the
browser's cookie session, opened by `static/live-inbox.js`. Without EventSource, or while the
stream is down or refused, the list polls itself every POLL_SECONDS instead; without
JavaScript the page is complete and a reload shows new ones.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from mindlinks.notifications import service as notifications
from mindlinks.platform.api import PageParams, SessionDep, domain_router
from mindlinks.platform.errors import NotAuthenticated, NotFound
from mindlinks.platform.security import Actor
from mindlinks.web import sessions
from mindlinks.web.dash import form_of, not_found, parse_id
from mindlinks.web.pages import discard, redirect, render, to_login

router = domain_router(include_in_schema=False)
PAGE_SIZE = 20
MAX_PAGE = 500  # bounded: 10,000 notifications back is far enough for a page of the inbox
POLL_SECONDS = 15
FILTERS = ("all", "unread")


def _query(request: Request) -> tuple[str, int]:
    shown = request.query_params.get("show", "all")
    try:
        page = min(max(int(request.query_params.get("page", "1")[:6]), 1), MAX_PAGE)
    except ValueError:
        page = 1
    return (shown if shown in FILTERS else "all"), page


async def _inbox(request: Request, session: SessionDep, actor: Actor) -> dict[str, Any]:
    shown, page = _query(request)
    inbox = await notifications.inbox(session, actor, False if shown == "unread" else None,
                                      PageParams(page, PAGE_SIZE))
    return {"inbox": inbox, "show": shown, "page": page, "filters": FILTERS,
            "poll_seconds": POLL_SECONDS, "done": request.query_params.get("done")}


@router.get("/notifications", response_class=HTMLResponse)
async def notifications_page(request: Request, session: SessionDep) -> Response:
    actor = await sessions.browser_actor(request)
    if actor is None:
        return to_login(request)
    return render(request, "notifications/page.html",
                  await _inbox(request, session, actor), actor=actor)


@router.get("/notifications/list", response_class=HTMLResponse)
async def notifications_list(request: Request, session: SessionDep) -> Response:
    """The list alone: what the page's htmx polling swaps in. Signed out (the session ended
    meanwhile), 286: htmx's "stop polling" answer, rather than a sign-in page in the list."""
    actor = await sessions.browser_actor(request)
    if actor is None:
        return Response(status_code=286)
    return render(request, "notifications/_list.html",
                  await _inbox(request, session, actor), actor=actor)


@router.get("/notifications/stream")
async def notifications_stream(request: Request) -> Response:
    """The API's live stream (`notifications.service.open_stream`: same events, same end when
    the login ends, same per-user cap) for the cookie session: only from this site's pages
    (`sessions.same_origin`, 403 `csrf_failed` otherwise) and only with a valid access cookie
    (401; the page's next poll renews it and the script reopens the stream)."""
    if not sessions.same_origin(request):
        raise sessions.CsrfRefused("The stream is for this site's own pages")
    actor = await sessions.cookie_actor(request)
    if actor is None:
        raise NotAuthenticated("Sign in again")
    return notifications.open_stream(request, request.app.state.notifier, actor)


def _back(request: Request, done: str) -> str:
    shown, page = _query(request)
    return f"/notifications?show={shown}&page={page}&done={done}"


@router.post("/notifications/{notification_id}/read", response_class=HTMLResponse)
async def mark_read(request: Request, session: SessionDep, notification_id: str) -> Response:
    actor = await sessions.browser_actor(request)
    if actor is None:
        return to_login(request)
    await form_of(request)
    nid = parse_id(notification_id)
    try:
        if nid is None:
            raise NotFound("No such notification")
        await notifications.mark_read(session, request.app.state.notifier, actor, nid)
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    return redirect(request, _back(request, "read"))


@router.post("/notifications/read-all", response_class=HTMLResponse)
async def mark_all_read(request: Request, session: SessionDep) -> Response:
    actor = await sessions.browser_actor(request)
    if actor is None:
        return to_login(request)
    await form_of(request)
    await notifications.mark_all_read(session, request.app.state.notifier, actor)
    return redirect(request, _back(request, "all-read"))
