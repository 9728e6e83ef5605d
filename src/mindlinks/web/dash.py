"""What the contractor and client dashboards share: the signed-in check by role, the CSRF-
checked form, and id parsing that turns a bad id into the same 404 page as a foreign one.
Money and dates are formatted by the shared locale filters (`web/i18n.py`)."""

from __future__ import annotations

import uuid

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from mindlinks.platform.security import Actor, Role
from mindlinks.web import sessions
from mindlinks.web.pages import render, to_login

MAX_FIELD = 2000  # no dashboard form field needs more (reasons and notes are cut by schemas)


class Denied(Exception):
    """The page answers with `response` (a sign-in redirect, or the 404 page)."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def signed_in(request: Request, role: Role) -> Actor:
    """The browser's actor with this role; signed out -> sign-in redirect, another role ->
    the 404 page (the page does not exist for them)."""
    actor = await sessions.browser_actor(request)
    if actor is None:
        raise Denied(to_login(request))
    if actor.role != role:
        raise Denied(not_found(request, actor))
    return actor


def not_found(request: Request, actor: Actor | None) -> Response:
    return render(request, "not_found.html", actor=actor, status_code=404)


async def form_of(request: Request) -> FormData:
    """The posted form, refused (403 `csrf_failed`) before anything runs without the token."""
    form = await request.form()
    sessions.check_csrf(request, form)
    return form


def text(form: FormData, name: str, limit: int = MAX_FIELD) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value[:40])
    except ValueError:
        return None
