"""What the contractor and client dashboards share: the signed-in check by role, the CSRF-
checked form, id parsing that turns a bad id into the same 404 page as a foreign one, and
rendering with a template loaded once (the hot pages). Money and dates are formatted by the
shared locale filters (`web/i18n.py`)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Template
from starlette.datastructures import FormData

from mindlinks.platform.api import request_session
from mindlinks.platform.security import Actor, Role
from mindlinks.web import form_labels, i18n, sessions
from mindlinks.web.pages import HTMX_FILE, finish, render, templates, to_login

MAX_FIELD = 2000  # no dashboard form field needs more (reasons and notes are cut by schemas)


class Denied(Exception):
    """The page answers with `response` (a sign-in redirect, or the 404 page)."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def signed_in(request: Request, role: Role, *, preference: bool = True) -> Actor:
    """The browser's actor with this role; signed out -> sign-in redirect, another role ->
    the 404 page (the page does not exist for them). `preference=False`: the page reads the
    language preference with its own data (`sessions.browser_actor`)."""
    actor = await sessions.browser_actor(request, preference=preference)
    if actor is None:
        raise Denied(to_login(request))
    if actor.role != role:
        if not preference:
            await i18n.remember_preference(request, request_session(request), actor)
        raise Denied(not_found(request, actor))
    return actor


def template(name: str) -> Template:
    """A page template, compiled once: `render_template` skips the per-request lookup (and its
    file-modification check) that `pages.render` goes through."""
    return templates.env.get_template(name)


def render_template(request: Request, page: Template, context: dict[str, Any], *,
                    actor: Actor) -> HTMLResponse:
    """`pages.render` of a signed-in page with a preloaded template: the same context keys,
    language, headers and cookies."""
    lang = i18n.language_of(request)
    i18n.use(lang)
    form_labels.use(page.name)
    html = page.render({
        "request": request, "actor": actor, "csrf_token": sessions.csrf_token(request),
        "lang": lang, "dir": i18n.direction(lang), "htmx_file": HTMX_FILE,
        "here": request.url.path, **context})
    response = HTMLResponse(html, headers={"Content-Language": lang,
                                           "Vary": "Cookie, Accept-Language"})
    finish(request, response)
    return response


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


def private_image(request: Request, data: bytes, mime: str) -> Response:
    """A signed-in user's own picture (avatar, company logo) from this origin: `?v=` (the
    stored file's name) changes with the file, so a versioned URL may be kept; private: one
    user's."""
    cache = "private, max-age=86400" if request.query_params.get("v") else "private, no-cache"
    return Response(data, media_type=mime, headers={"Cache-Control": cache})
