"""Errors of the pages as pages: an error that the platform's handlers answer with
problem+json (a refused CSRF token, a form a request model refused, an unknown page, an
unexpected failure) is rendered as an HTML page, in the page's language, when a browser asks
for one of the pages. Otherwise a boosted (`hx-boost`) form swapped the raw JSON text into the
page, and a form posted without JavaScript showed it.

"A browser asks for a page": the request came from htmx (`HX-Request`) or accepts `text/html`,
and it is for a route of this package (or for no route at all, outside `/api/`). The API
answers problem+json as before, whatever the `Accept` header; the status, the code and the
headers (`Allow`, `Retry-After`, ...) are kept.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response

from mindlinks.platform.errors import PROBLEM_JSON
from mindlinks.web import errors_i18n, pages, sessions

log = structlog.get_logger("mindlinks.web")

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
_NOT_PAGES = ("/api/", "/docs", "/redoc", "/openapi.json", "/health")
_KEPT_HEADERS = ("allow", "retry-after", "www-authenticate")


def wants_page(request: Request) -> bool:
    """A browser's request for one of the pages (see the module's docstring)."""
    headers = request.headers
    if headers.get("hx-request") != "true" and "text/html" not in headers.get("accept", ""):
        return False
    endpoint = getattr(request.scope.get("route"), "endpoint", None)
    if endpoint is not None:
        return str(getattr(endpoint, "__module__", "")).startswith("mindlinks.web.")
    return not request.url.path.startswith(_NOT_PAGES)


async def error_page(request: Request, problem: dict[str, Any], status: int) -> Response:
    """The problem as a page (a boosted request or none) or as the error block alone (an htmx
    request for a part of a page), in the request's language."""
    code = str(problem.get("code") or "")
    detail = errors_i18n.ErrorText(str(problem.get("detail") or problem.get("title") or ""),
                                   code)
    fields = errors_i18n.entries(problem.get("errors"))
    try:
        actor = await sessions.cookie_actor(request)
    except Exception:  # the page must render even when the database is what failed
        actor = None
    fragment = request.headers.get("hx-request") == "true" \
        and request.headers.get("hx-boosted") != "true"
    return pages.render(request, "_error_fragment.html" if fragment else "error.html", {
        "status": status, "code": code, "detail": detail, "field_list": fields,
        "back": _back(request)}, actor=actor, status_code=status)


def _back(request: Request) -> str:
    """Where "Back" goes: the page the request came from (htmx's `HX-Current-URL`, else the
    Referer), as a local path only; a GET's own page otherwise."""
    came_from = request.headers.get("hx-current-url") or request.headers.get("referer")
    if came_from:
        parts = urlsplit(came_from)
        return pages.safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
    return pages.safe_next(str(request.url.path)) if request.method == "GET" else "/"


def _html_instead(original: Handler) -> Handler:
    async def handler(request: Request, exc: Exception) -> Response:
        answer = original(request, exc)
        response = await answer if inspect.isawaitable(answer) else answer
        if response.media_type != PROBLEM_JSON or not wants_page(request):
            return response
        try:
            problem = orjson.loads(bytes(response.body))
            page = await error_page(request, problem, response.status_code)
        except Exception:
            log.exception("error_page_failed")
            return response
        for name in _KEPT_HEADERS:
            if name in response.headers:
                page.headers[name] = response.headers[name]
        return page

    return handler


def install(app: FastAPI) -> None:
    # After the platform's handlers (`install_error_handlers`, called before the domains'
    # setup): each keeps deciding the answer, this only changes its form for a page.
    for key, original in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _html_instead(original)
