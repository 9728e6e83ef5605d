"""Admin screens of the notification templates: every notification type and channel, and an
editor with its English and Arabic versions side by side (one form per language). Saving goes
through `notifications.service.save_template_version`: the API's checks (only the type's
variables, must parse and render) and its audit line. A recipient gets their language's
version, else the English one, else the built-in text (`notifications.templates.load`).

Guard and CSRF as every admin page (admin_pages): signed out -> login, another role -> 404,
no TOTP step -> 403, the CSRF token checked before anything else.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from mindlinks.notifications import service as notifications
from mindlinks.notifications.schemas import TemplateUpdate
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.security import Actor
from mindlinks.web.admin_pages import _form, _guard, _not_found
from mindlinks.web.pages import field_errors, redirect, refused, render

router = domain_router(include_in_schema=False)
CHANNELS = ("email", "sms", "in_app")
MAX_TEXT = 200_000  # the form's cap; the schema's own limits (300 / 100 000) answer first


def _field(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value[:MAX_TEXT] if isinstance(value, str) and value.strip() else None


@router.get("/admin/notification-templates", response_class=HTMLResponse)
async def template_list(request: Request) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    channel = request.query_params.get("channel")
    channel = channel if channel in CHANNELS else None
    rows = [(name, c) for name, channels in notifications.template_kinds() for c in channels
            if channel in (None, c)]
    return render(request, "admin/notification_templates.html", {
        "rows": rows, "channel": channel, "channels": CHANNELS}, actor=actor)


async def _editor(request: Request, session: SessionDep, actor: Actor, name: str,
                  channel: str, edited: dict[str, dict[str, Any]] | None = None,
                  errors: dict[str, list[str]] | None = None,
                  status_code: int = 200) -> Response:
    versions = await notifications.template_versions(session, name, channel)
    return render(request, "admin/notification_template.html", {
        "name": name, "channel": channel, "versions": versions, "edited": edited or {},
        "lang_errors": errors or {}, "codes": notifications.TEMPLATE_LANGUAGES,
        "saved": request.query_params.get("saved")}, actor=actor, status_code=status_code)


@router.get("/admin/notification-templates/{name}/{channel}", response_class=HTMLResponse)
async def template_page(request: Request, session: SessionDep, name: str,
                        channel: str) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    try:
        return await _editor(request, session, actor, name, channel)
    except NotFound:
        return _not_found(request, actor)


@router.post("/admin/notification-templates/{name}/{channel}/{language}",
             response_class=HTMLResponse)
async def template_save(request: Request, session: SessionDep, name: str, channel: str,
                        language: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    posted = {"subject": _field(form, "subject"), "body": _field(form, "body") or "",
              "text_body": _field(form, "text_body")}
    try:
        data = TemplateUpdate.model_validate(posted)
        await notifications.save_template_version(session, actor, name, channel, language,
                                                  data)
    except NotFound:
        return _not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc)
        return await _editor(request, session, actor, name, channel, {language: posted},
                             {language: field_errors(exc)}, status)
    return redirect(request, f"/admin/notification-templates/{name}/{channel}?saved={language}")
