"""The contract screens of both parties: the list (status filter, pages), one contract with its
PDF, the journal's verification and the sign form (a drawn signature, or the typed name), and
for the client: create from a template with a preview, edit the draft, send it.

Every read and write is the API route's own service call with the API's rules: another
party's contract, a malformed id and a missing one are the same 404 page; a refused action
shows the service's message on the form and keeps nothing (`discard`).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from mindlinks.clients import service as clients
from mindlinks.clients.service import CompanyNotFound
from mindlinks.contracts import service as contracts
from mindlinks.contracts.schemas import Contract
from mindlinks.platform.api import PageParams, SessionDep, domain_router
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.runtime import RuntimeDep
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import content_disposition, get_storage
from mindlinks.web import contract_forms, i18n, rich_text, sessions
from mindlinks.web.dash import Denied, form_of, not_found, parse_id, signed_in, text
from mindlinks.web.i18n import N_
from mindlinks.web.pages import discard, field_errors, redirect, refused, render, to_login

router = domain_router(include_in_schema=False)
LIST_LIMIT = 20
CHOICE_LIMIT = 100  # templates and team members offered by the form
STATUSES = ("all", "draft", "pending", "client_signed", "contractor_signed", "active",
            "completed", "terminated", "cancelled")
# Who may sign in each status (the contracts service's transitions decide; this only
# decides whether the page offers the form).
SIGNABLE = {Role.CLIENT: {"pending", "contractor_signed"},
            Role.CONTRACTOR: {"pending", "client_signed"}}
TYPES, FREQUENCIES = ("fixed", "hourly", "milestone"), ("monthly", "biweekly", "weekly")
# Shown through the `status` filter: extracted into the catalogue from here.
LABELS = [N_("all"), N_("fixed"), N_("hourly"), N_("milestone"), N_("monthly"), N_("biweekly"),
          N_("weekly")]


async def _party(request: Request) -> Actor:
    actor = await sessions.browser_actor(request)
    if actor is None:
        raise Denied(to_login(request))
    if actor.role not in (Role.CONTRACTOR, Role.CLIENT):
        raise Denied(not_found(request, actor))
    return actor


def _errors(exc: Exception) -> list[str]:
    if isinstance(exc, DomainError | ValidationError):
        return field_errors(exc)
    return [str(exc)]  # contract_forms' own messages, already translated


def _pager(status: str, page: int, total: int) -> dict[str, Any]:
    last = max((total + LIST_LIMIT - 1) // LIST_LIMIT, 1)

    def link(n: int) -> str:
        return f"/contracts?status={status}&page={n}"

    return {"page": page, "last": last, "total": total,
            "prev": link(page - 1) if page > 1 else None,
            "next": link(page + 1) if page < last else None}


# --- list ---------------------------------------------------------------------------------


@router.get("/contracts", response_class=HTMLResponse)
async def contracts_page(request: Request, session: SessionDep) -> Response:
    """The contractor's contracts, or the client's company's, newest first."""
    try:
        actor = await _party(request)
    except Denied as denied:
        return denied.response
    status = request.query_params.get("status", "all")
    status = status if status in STATUSES else "all"
    raw_page = request.query_params.get("page", "1")
    page = min(max(int(raw_page), 1), 10_000) if raw_page.isdigit() and len(raw_page) < 6 else 1
    params = PageParams(page, LIST_LIMIT)
    items, total = await contracts.views.contract_page(
        session, actor, get_storage(request.app.state),
        status=None if status == "all" else status, offset=params.offset, limit=LIST_LIMIT)
    return render(request, "contracts/list.html", {
        "items": items, "total": total, "status": status, "statuses": STATUSES,
        "pager": _pager(status, page, total), "signable": SIGNABLE[actor.role]}, actor=actor)


# --- create and edit (client) ---------------------------------------------------------------


async def _form(request: Request, session: SessionDep, actor: Actor, values: dict[str, Any], *,
                contract: Contract | None = None, preview: Markup | None = None,
                errors: list[str] | None = None, status_code: int = 200) -> Response:
    """The create form (or a draft's edit form): the company's templates and contractors;
    `preview` is the rendered Markdown (`rich_text`: raw HTML and unsafe links refused)."""
    try:
        members = ([] if contract else
                   (await clients.own_contractors(session, actor, offset=0,
                                                  limit=CHOICE_LIMIT))[0])
    except CompanyNotFound:
        return render(request, "money/no_company.html", actor=actor, status_code=404)
    templates, _ = await contracts.list_templates(session, type_=None, model=None, offset=0,
                                                  limit=CHOICE_LIMIT)
    return render(request, "contracts/form.html", {
        "form": values, "contract": contract, "members": members, "templates": templates,
        "milestone_rows": contract_forms.rows(values), "preview": preview, "errors": errors,
        "types": TYPES, "frequencies": FREQUENCIES,
        "action": f"/contracts/{contract.id}/edit" if contract else "/contracts/new",
    }, actor=actor, status_code=status_code)


async def _typed(session: SessionDep, values: dict[str, Any]) -> dict[str, Any]:
    """The type left to the template ("From the template", the default) read from it: a
    template is for one type, and a different one would only be refused."""
    if not values.get("type"):
        templates, _ = await contracts.list_templates(session, type_=None, model=None,
                                                      offset=0, limit=CHOICE_LIMIT)
        chosen = next((t for t in templates if str(t.id) == values.get("template_id")), None)
        values = {**values, "type": chosen.type if chosen else ""}
    return values


@router.get("/contracts/new", response_class=HTMLResponse)
async def new_contract(request: Request, session: SessionDep) -> Response:
    try:
        actor = await signed_in(request, Role.CLIENT)
    except Denied as denied:
        return denied.response
    values = {"currency": "USD", "frequency": "monthly", "type": "",
              "template_id": request.query_params.get("template", "")[:40]}
    return await _form(request, session, actor, values)


@router.post("/contracts/new", response_class=HTMLResponse)
async def create(request: Request, session: SessionDep) -> Response:
    """*Preview* renders the template with the form's values (nothing is written); *Create*
    saves the draft. Both run the same checks as `POST /api/contracts`."""
    try:
        actor = await signed_in(request, Role.CLIENT)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    values = contract_forms.posted(form)
    try:
        body = contract_forms.create_body(await _typed(session, values))
        if text(form, "action", 10) == "preview":
            preview = await contracts.preview_contract(session, actor, body)
            return await _form(request, session, actor, values,
                               preview=await rich_text.render_markdown(preview))
        made = await contracts.create_contract(session, actor, body)
    except CompanyNotFound as exc:
        await discard(session, exc)
        return render(request, "money/no_company.html", actor=actor, status_code=404)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        return await _form(request, session, actor, values, errors=field_errors(exc),
                           status_code=422)
    return redirect(request, f"/contracts/{made.id}?done=created")


async def _draft(request: Request, session: SessionDep, actor: Actor,
                 contract_id: str) -> Contract | None:
    cid = parse_id(contract_id)
    if cid is None:
        return None
    try:
        return await _view(request, session, actor, cid)
    except NotFound:
        return None


@router.get("/contracts/{contract_id}/edit", response_class=HTMLResponse)
async def edit_contract(request: Request, session: SessionDep, contract_id: str) -> Response:
    try:
        actor = await signed_in(request, Role.CLIENT)
    except Denied as denied:
        return denied.response
    view = await _draft(request, session, actor, contract_id)
    if view is None:
        return not_found(request, actor)
    if view.status != "draft":
        return redirect(request, f"/contracts/{view.id}")
    return await _form(request, session, actor, contract_forms.form_of_contract(view),
                       contract=view)


@router.post("/contracts/{contract_id}/edit", response_class=HTMLResponse)
async def update(request: Request, session: SessionDep, contract_id: str) -> Response:
    """*Preview* or *Save* the draft (`PUT /api/contracts/{id}`: 409 once it was sent)."""
    try:
        actor = await signed_in(request, Role.CLIENT)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    view = await _draft(request, session, actor, contract_id)
    if view is None:
        return not_found(request, actor)
    values = {**contract_forms.posted(form), "contractor_id": str(view.contractor_id)}
    try:
        typed = await _typed(session, values)
        if text(form, "action", 10) == "preview":
            preview = await contracts.preview_contract(session, actor,
                                                       contract_forms.create_body(typed))
            return await _form(request, session, actor, values, contract=view,
                               preview=await rich_text.render_markdown(preview))
        await contracts.update_contract(session, actor, view.id,
                                        contract_forms.update_body(typed))
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        return await _form(request, session, actor, values, contract=view,
                           errors=field_errors(exc), status_code=422)
    return redirect(request, f"/contracts/{view.id}?done=saved")


# --- one contract -------------------------------------------------------------------------


async def _view(request: Request, session: SessionDep, actor: Actor,
                contract_id: uuid.UUID) -> Contract:
    contract = await contracts.get_for(session, actor, contract_id)
    return await contracts.views.contract_out(session, get_storage(request.app.state),
                                                     contract)


async def detail(request: Request, session: SessionDep, actor: Actor, contract_id: uuid.UUID,
                  *, errors: list[str] | None = None, status_code: int = 200) -> Response:
    """The contract's page; `errors` (a refused action's) are shown with their codes."""
    view = await _view(request, session, actor, contract_id)
    client = actor.role == Role.CLIENT
    return render(request, "contracts/detail.html", {
        "contract": view, "errors": errors, "done": request.query_params.get("done"),
        "can_sign": view.status in SIGNABLE.get(actor.role, set()),
        "can_edit": client and view.status == "draft",
        # Only the client's side may end a contract (the service's rule), and only in the
        # states the contracts' state machine lets the action leave.
        "can_cancel": client and view.status in contracts.TRANSITIONS["cancel"],
        "can_terminate": client and view.status in contracts.TRANSITIONS["terminate"],
        "error_codes": sorted({c for e in errors or [] if (c := getattr(e, "code", None))}),
    }, actor=actor, status_code=status_code)


@router.get("/contracts/{contract_id}", response_class=HTMLResponse)
async def contract_page(request: Request, session: SessionDep, contract_id: str) -> Response:
    """Terms, parties, the PDF, who signed, and the action this party can take now."""
    try:
        actor = await _party(request)
    except Denied as denied:
        return denied.response
    cid = parse_id(contract_id)
    try:
        if cid is None:
            raise NotFound("No such contract")
        return await detail(request, session, actor, cid)
    except NotFound:
        return not_found(request, actor)


@router.get("/contracts/{contract_id}/document.pdf")
async def contract_pdf(request: Request, session: SessionDep, contract_id: str) -> Response:
    """The PDF `GET /api/contracts/{id}/download` links to (signed once active), streamed
    from storage under this page's own access rule; a draft has none (the 404 page)."""
    try:
        actor = await _party(request)
    except Denied as denied:
        return denied.response
    cid = parse_id(contract_id)
    try:
        if cid is None:
            raise NotFound("No such contract")
        pdf = await contracts.document(session, actor, get_storage(request.app.state), cid)
    except (NotFound, contracts.DocumentNotReady):
        return not_found(request, actor)
    # As the storage's file route sends it (nosniff comes from PlatformMiddleware), but
    # `inline`: the browser shows it to be read.
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": content_disposition(f"contract-{cid}.pdf").replace(
            "attachment", "inline", 1),
        "Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


@router.get("/contracts/{contract_id}/verify", response_class=HTMLResponse)
async def verify_page(request: Request, session: SessionDep, rt: RuntimeDep,
                      contract_id: str) -> Response:
    """The journal check of `GET /api/contracts/{id}/verify`: each signature's entry and
    inclusion proof, and the sealed PDF's signature. A tampered journal is shown as such."""
    try:
        actor = await _party(request)
    except Denied as denied:
        return denied.response
    cid = parse_id(contract_id)
    broken = None
    report = None
    try:
        if cid is None:
            raise NotFound("No such contract")
        view = await _view(request, session, actor, cid)
        report = await contracts.verify(session, actor, get_storage(request.app.state),
                                        rt.settings, cid)
    except NotFound:
        return not_found(request, actor)
    except DomainError as exc:  # 409 ledger_broken: the proofs cannot be given
        await discard(session, exc)
        broken = exc.detail
    return render(request, "contracts/verify.html", {
        "contract": view, "report": report, "broken": broken}, actor=actor)


@router.post("/contracts/{contract_id}/sign", response_class=HTMLResponse)
async def sign(request: Request, session: SessionDep, rt: RuntimeDep,
               contract_id: str) -> Response:
    """`POST /api/contracts/{id}/sign` with the form's signature image."""
    try:
        actor = await _party(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    cid = parse_id(contract_id)
    if cid is None:
        return not_found(request, actor)
    i18n.use(i18n.language_of(request))  # the form's own messages, in the page's language
    try:
        body = await contract_forms.sign_request(form)
        signed = await contracts.sign(session, actor, get_storage(request.app.state),
                                      rt.settings, rt.secret, cid, body)
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    except (DomainError, ValidationError, ValueError) as exc:
        status = await refused(session, exc, 422)
        return await detail(request, session, actor, cid, errors=_errors(exc),
                             status_code=status)
    done = "activated" if signed.status == "active" else "signed"
    return redirect(request, f"/contracts/{cid}?done={done}")


@router.post("/contracts/{contract_id}/send", response_class=HTMLResponse)
async def send(request: Request, session: SessionDep, contract_id: str) -> Response:
    """The client sends the draft: its PDF is rendered and the contractor is told."""
    try:
        actor = await signed_in(request, Role.CLIENT)
    except Denied as denied:
        return denied.response
    await form_of(request)
    cid = parse_id(contract_id)
    if cid is None:
        return not_found(request, actor)
    try:
        await contracts.send_contract(session, actor, get_storage(request.app.state), cid)
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    except DomainError as exc:
        await discard(session, exc)
        return await detail(request, session, actor, cid, errors=field_errors(exc),
                             status_code=exc.status)
    return redirect(request, f"/contracts/{cid}?done=sent")
