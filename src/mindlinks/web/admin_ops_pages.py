"""Admin operations screens: the system alerts (reconciliation differences and the like, from
`platform/alerts.py`, as `GET /api/admin/alerts`; resolving one is audited) and the contract
templates (list, create, edit, delete through the contracts service: its variable checks,
length limits and `template_in_use` refusal are the API's).

Guard and CSRF as every admin page (admin_pages): signed out -> login, another role -> 404,
no TOTP step -> 403, the CSRF token checked before anything else.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mindlinks.contracts import service as contracts
from mindlinks.contracts.schemas import TemplateCreate, TemplateUpdate
from mindlinks.platform import alerts
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import DomainError
from mindlinks.platform.security import Actor
from mindlinks.web.admin_pages import _form, _guard, _not_found, _page, _pager, _text, _uuid
from mindlinks.web.pages import discard, field_errors, redirect, refused, render

router = domain_router(include_in_schema=False)
ALERT_STATES = ("open", "resolved", "all")
TEMPLATE_TYPES = ("fixed", "hourly", "milestone")
TEMPLATE_MODELS = ("direct", "eor")
MAX_CONTENT = 200_000  # the form's cap; the schema's own limit (100 000) answers first


# --- alerts ---------------------------------------------------------------------------------


@router.get("/admin/alerts", response_class=HTMLResponse)
async def alert_list(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    state = request.query_params.get("status", "open")
    state = state if state in ALERT_STATES else "open"
    source = request.query_params.get("source", "")[:60].strip()
    params = _page(request)
    rows, total = await alerts.open_alerts(
        session, source=source or None, offset=params.offset, limit=params.limit,
        include_resolved=state == "all", resolved_only=state == "resolved")
    return render(request, "admin/alerts.html", {
        "rows": rows, "status": state, "statuses": ALERT_STATES, "source": source,
        "pager": _pager(request, params, total)}, actor=actor)


@router.post("/admin/alerts/{alert_id}/resolve", response_class=HTMLResponse)
async def alert_resolve(request: Request, session: SessionDep, alert_id: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    key = _uuid(alert_id)
    # Unknown, malformed and already resolved are the same 404 (as `mindlinks alerts resolve`).
    if key is None or not await alerts.resolve(session, key, actor):
        return _not_found(request, actor)
    back = _text(form, "next", 500)
    return redirect(request, back if back.startswith("/admin/alerts") else "/admin/alerts")


# --- contract templates ---------------------------------------------------------------------


def _content(form: FormData) -> str | None:
    value = form.get("template_content")
    return value[:MAX_CONTENT] if isinstance(value, str) and value.strip() else None


def _variables(form: FormData) -> list[str] | None:
    """Comma-separated names; empty means "whatever the template uses"."""
    names = [v.strip() for v in _text(form, "variables", 6000).split(",") if v.strip()]
    return names or None


@router.get("/admin/contract-templates", response_class=HTMLResponse)
async def template_list(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    type_ = request.query_params.get("type")
    type_ = type_ if type_ in TEMPLATE_TYPES else None
    model = request.query_params.get("model")
    model = model if model in TEMPLATE_MODELS else None
    params = _page(request)
    rows, total = await contracts.list_templates(session, type_=type_, model=model,
                                                 offset=params.offset, limit=params.limit)
    return render(request, "admin/contract_templates.html", {
        "rows": rows, "type": type_, "model": model, "types": TEMPLATE_TYPES,
        "models": TEMPLATE_MODELS, "pager": _pager(request, params, total)}, actor=actor)


def _editor(request: Request, actor: Actor, template: Any, values: dict[str, Any],
            errors: list[str] | None = None, status_code: int = 200) -> Response:
    return render(request, "admin/contract_template.html", {
        "template": template, "values": values, "errors": errors, "types": TEMPLATE_TYPES,
        "models": TEMPLATE_MODELS, "known": sorted(contracts.TEMPLATE_VARIABLES),
    }, actor=actor, status_code=status_code)


def _values_of(template: Any) -> dict[str, Any]:
    return {"name": template.name, "type": template.type, "model": template.model,
            "template_content": template.template_content,
            "variables": ", ".join(template.variables), "is_default": template.is_default}


def _form_values(form: FormData) -> dict[str, Any]:
    return {"name": _text(form, "name", 300), "type": _text(form, "type", 20),
            "model": _text(form, "model", 20), "template_content": _content(form) or "",
            "variables": _text(form, "variables", 6000),
            "is_default": form.get("is_default") == "on"}


@router.get("/admin/contract-templates/new", response_class=HTMLResponse)
async def template_new(request: Request) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    return _editor(request, actor, None, {"type": "fixed", "model": "direct"})


@router.post("/admin/contract-templates", response_class=HTMLResponse)
async def template_create(request: Request, session: SessionDep) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    try:
        body = TemplateCreate.model_validate({
            "name": _text(form, "name", 300), "type": _text(form, "type", 20),
            "model": _text(form, "model", 20), "template_content": _content(form),
            "variables": _variables(form), "is_default": form.get("is_default") == "on"})
        created = await contracts.create_template(session, actor, body)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc, 400)
        return _editor(request, actor, None, _form_values(form), field_errors(exc),
                       status)
    return redirect(request, f"/admin/contract-templates/{created.id}?saved=1")


async def _template(session: SessionDep, template_id: str) -> Any:
    key = _uuid(template_id)
    if key is None:
        raise contracts.TemplateNotFound("No such contract template")
    return await contracts.get_template(session, key)


@router.get("/admin/contract-templates/{template_id}", response_class=HTMLResponse)
async def template_page(request: Request, session: SessionDep, template_id: str) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    try:
        template = await _template(session, template_id)
    except contracts.TemplateNotFound:
        return _not_found(request, actor)
    return _editor(request, actor, template, _values_of(template))


@router.post("/admin/contract-templates/{template_id}", response_class=HTMLResponse)
async def template_update(request: Request, session: SessionDep, template_id: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    try:
        template = await _template(session, template_id)
    except contracts.TemplateNotFound:
        return _not_found(request, actor)
    try:
        body = TemplateUpdate.model_validate({
            "name": _text(form, "name", 300), "template_content": _content(form),
            "variables": _variables(form), "is_default": form.get("is_default") == "on"})
        await contracts.update_template(session, actor, template.id, body)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc, 400)
        template = await _template(session, template_id)  # read again after the rollback
        values = {**_form_values(form), "type": template.type, "model": template.model}
        return _editor(request, actor, template, values, field_errors(exc),
                       status)
    return redirect(request, f"/admin/contract-templates/{template.id}?saved=1")


@router.post("/admin/contract-templates/{template_id}/delete", response_class=HTMLResponse)
async def template_delete(request: Request, session: SessionDep, template_id: str) -> Response:
    await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    try:
        template = await _template(session, template_id)
        await contracts.delete_template(session, actor, template.id)
    except contracts.TemplateNotFound:
        return _not_found(request, actor)
    except DomainError as exc:  # template_in_use: contracts were made from it
        await discard(session, exc)
        template = await _template(session, template_id)
        return _editor(request, actor, template, _values_of(template), field_errors(exc),
                       exc.status)
    return redirect(request, "/admin/contract-templates?deleted=1")
