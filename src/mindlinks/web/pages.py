"""Rendering: one Jinja2 environment (autoescaped), the page helper every route answers with,
and the small rules pages share (safe `next` targets, discarding a failed form's work)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.platform.db import rollback
from mindlinks.platform.errors import DomainError
from mindlinks.platform.security import Actor
from mindlinks.web import errors_i18n, form_labels, i18n, sessions

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
HTMX_FILE = "htmx-2.0.11.min.js"  # npm `htmx.org@2.0.11` dist/htmx.min.js, checked in
templates = Jinja2Templates(directory=HERE / "templates")
templates.env.add_extension("jinja2.ext.i18n")
# Every visible string goes through `_()` / `{% trans %}`, answered from the catalogue of the
# request's language (web/i18n.py); `money`, `date`, `datetime`, `number`, `status` filters.
i18n.install(templates.env)
# A domain error's message in the page's language, by its code (web/errors_i18n.py).
templates.env.finalize = errors_i18n.localise
# ... and its field shown by the label the page's form gives it (web/form_labels.py).
form_labels.install(templates.env)
templates.env.filters["field_message"] = errors_i18n.bare
RTL_LANGUAGES = i18n.RTL_LANGUAGES


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           actor: Actor | None = None, status_code: int = 200) -> HTMLResponse:
    lang = i18n.language_of(request)
    i18n.use(lang)  # rendering below is synchronous: the whole page is in `lang`
    form_labels.use(name)
    response = templates.TemplateResponse(request, name, {
        "actor": actor, "csrf_token": sessions.csrf_token(request), "lang": lang,
        "dir": i18n.direction(lang), "htmx_file": HTMX_FILE,
        "here": request.url.path, **(context or {}),
    }, status_code=status_code)
    response.headers["Content-Language"] = lang
    response.headers["Vary"] = "Cookie, Accept-Language"
    finish(request, response)
    return response


def finish(request: Request, response: Any) -> Any:
    """Store what this request renewed: the CSRF cookie, a refreshed token pair; and keep
    signed-in pages out of shared caches."""
    sessions.set_csrf_cookie(request, response)
    if (pair := getattr(request.state, "renewed", None)) is not None:
        sessions.sign_in(request, response, pair)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(request: Request, to: str) -> RedirectResponse:
    """303 See Other: after a POST the browser follows with a GET."""
    response = RedirectResponse(to, status_code=303)
    finish(request, response)
    return response


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never `//evil.example` or `https://...` (open redirect)."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or len(target) > 500):
        return default
    return target


def to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect(request, "/login?next=" + quote(safe_next(target), safe="/"))


async def discard(session: AsyncSession, exc: DomainError) -> None:
    """A form failed: undo the service's partial work unless the error says to keep it
    (e.g. the audit line of a failed login), as the API's transactional route does."""
    if not exc.persist:
        await rollback(session)


async def refused(session: AsyncSession, exc: Exception, invalid: int = 422) -> int:
    """A form's call was refused: undo the service's partial work (`discard`) and return the
    page's status - the domain error's own, or `invalid` for input a request model refused."""
    if isinstance(exc, DomainError):
        await discard(session, exc)
        return exc.status
    return invalid


def field_errors(exc: Exception) -> list[str]:
    """Readable messages of a pydantic validation error or a domain error: `ErrorText`s that
    the page shows in its language (web/errors_i18n.py)."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return list(errors_i18n.validation_errors(exc.errors()))
    if isinstance(exc, DomainError):
        details = errors_i18n.entries(exc.errors)
        if details and all((d.code or "").split(":")[0] == exc.code for d in details):
            # The entries name the field of the same error: the top line would repeat them.
            return list(details)
        return [errors_i18n.message(exc), *details]
    return [str(exc)]


def by_field(errors: list[str], names: Any) -> tuple[list[str], dict[str, list[str]]]:
    """A form's errors split for showing each next to its field: those whose field is one of
    the form's `names` (its whole path `address_postal_code`, else its last part), and the
    rest (shown above the form)."""
    general: list[str] = []
    per_field: dict[str, list[str]] = {}
    for error in errors:
        field = getattr(error, "field", None)
        match = next((n for n in errors_i18n.field_names(field) if n in names),
                     None) if field else None
        if match is None:
            general.append(error)
        else:
            per_field.setdefault(match, []).append(error)
    return general, per_field
