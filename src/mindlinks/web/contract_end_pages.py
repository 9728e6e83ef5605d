"""Ending a contract from its page: the client cancels one not active yet, or terminates an
active one (`POST /api/contracts/{id}/cancel` and `/terminate`: the same service calls, so
the same rules - the client's company only, the states `contracts.TRANSITIONS` allows).

Each is a confirmation page (the reason, and for a termination its effective date) whose form
carries the CSRF token and an idempotency key made once per rendered form: the same form sent
twice (a double click, a retried post) gets the first answer again, never a second change.
A refused action shows the contract's page with the service's message and its code (409
`invalid_transition` for a state that cannot be left that way); bad input shows the form
again (422). Another company's contract, a malformed id and the contractor's side are the
404 page, as the contract's own page is.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from mindlinks.contracts import service as contracts
from mindlinks.contracts.schemas import CancelRequest, TerminateRequest
from mindlinks.platform import idempotency
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.security import Actor, Role
from mindlinks.web import i18n
from mindlinks.web.contract_pages import detail
from mindlinks.web.dash import Denied, form_of, not_found, parse_id, signed_in, text
from mindlinks.web.pages import field_errors, redirect, refused, render

router = domain_router(include_in_schema=False)
REASON_LIMIT = 1000  # CancelRequest / TerminateRequest `reason`
# What each action posts to the service, and what the page says once done.
ACTIONS = {"cancel": "cancelled", "terminate": "terminated"}


def _posted(form: Any) -> dict[str, str]:
    """Cut one character past the schema's limit: a too-long reason is refused by the
    schema (a form error), never silently shortened."""
    return {"reason": text(form, "reason", REASON_LIMIT + 1).strip(),
            "effective_date": text(form, "effective_date", 11).strip(),
            "idempotency_key": text(form, "idempotency_key", 40)}


def _body(action: str, posted: dict[str, str]) -> CancelRequest | TerminateRequest:
    if action == "cancel":
        return CancelRequest(reason=posted["reason"])
    return TerminateRequest.model_validate({"reason": posted["reason"],
                                            "effectiveDate": posted["effective_date"] or None})


async def _confirm(request: Request, session: SessionDep, actor: Actor, action: str,
                   contract_id: uuid.UUID, *, form: dict[str, str] | None = None,
                   errors: list[str] | None = None, status_code: int = 200) -> Response:
    """The confirmation form; a contract whose state cannot take `action` goes back to its
    page (which then offers no such button)."""
    view = await contracts.get_for(session, actor, contract_id)
    if view.status not in contracts.TRANSITIONS[action]:
        return redirect(request, f"/contracts/{view.id}")
    # Terminating today, or on the start of a contract that has not started yet.
    default_day = max(utcnow().date(), view.start_date)
    values = {"reason": "", "effective_date": default_day.isoformat(), **(form or {})}
    # One key per rendered form: the same form posted again replays the first answer.
    values["idempotency_key"] = values.get("idempotency_key") or str(uuid.uuid4())
    return render(request, "contracts/end.html", {
        "contract": view, "action": action, "form": values, "errors": errors,
        "reason_limit": REASON_LIMIT}, actor=actor, status_code=status_code)


async def _client(request: Request, contract_id: str) -> tuple[Actor, uuid.UUID | None]:
    """The client's session (signed out -> login, the contractor -> the 404 page)."""
    actor = await signed_in(request, Role.CLIENT)
    return actor, parse_id(contract_id)


async def _page(request: Request, session: SessionDep, contract_id: str,
                action: str) -> Response:
    try:
        actor, cid = await _client(request, contract_id)
    except Denied as denied:
        return denied.response
    try:
        if cid is None:
            raise NotFound("No such contract")
        return await _confirm(request, session, actor, action, cid)
    except NotFound:
        return not_found(request, actor)


async def _submit(request: Request, session: SessionDep, contract_id: str,
                  action: str) -> Response:
    try:
        actor, cid = await _client(request, contract_id)
    except Denied as denied:
        return denied.response
    await request.body()  # kept: the idempotency hash reads it after the form parser
    posted = _posted(await form_of(request))  # 403 `csrf_failed` before anything runs
    if cid is None:
        return not_found(request, actor)
    i18n.use(i18n.language_of(request))
    try:
        body = _body(action, posted)
        await idempotency.claim(request, actor, posted["idempotency_key"])
        if isinstance(body, CancelRequest):
            await contracts.cancel_contract(session, actor, cid, body)
        else:
            await contracts.terminate_contract(session, actor, cid, body)
    except NotFound as exc:
        await refused(session, exc)
        request.state.before_commit = []  # nothing is memoised for a refused request
        return not_found(request, actor)
    except ValidationError as exc:  # the form's own input: shown on the form again
        return await _confirm(request, session, actor, action, cid, form=posted,
                              errors=field_errors(exc), status_code=422)
    except DomainError as exc:
        status = await refused(session, exc)
        request.state.before_commit = []
        if status == 422:  # e.g. an effective date before the start: the form again
            return await _confirm(request, session, actor, action, cid, form=posted,
                                  errors=field_errors(exc), status_code=422)
        return await detail(request, session, actor, cid, errors=field_errors(exc),
                            status_code=status)
    return redirect(request, f"/contracts/{cid}?done={ACTIONS[action]}")


@router.get("/contracts/{contract_id}/cancel", response_class=HTMLResponse)
async def cancel_page(request: Request, session: SessionDep, contract_id: str) -> Response:
    return await _page(request, session, contract_id, "cancel")


@router.post("/contracts/{contract_id}/cancel", response_class=HTMLResponse)
async def cancel(request: Request, session: SessionDep, contract_id: str) -> Response:
    """`POST /api/contracts/{id}/cancel`: a contract not active yet is withdrawn."""
    return await _submit(request, session, contract_id, "cancel")


@router.get("/contracts/{contract_id}/terminate", response_class=HTMLResponse)
async def terminate_page(request: Request, session: SessionDep, contract_id: str) -> Response:
    return await _page(request, session, contract_id, "terminate")


@router.post("/contracts/{contract_id}/terminate", response_class=HTMLResponse)
async def terminate(request: Request, session: SessionDep, contract_id: str) -> Response:
    """`POST /api/contracts/{id}/terminate`: an active contract ends on the effective date."""
    return await _submit(request, session, contract_id, "terminate")
