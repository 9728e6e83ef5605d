"""The client's dashboard pages: the approval queue (timesheets and milestones: approve,
reject with a reason, bulk approve), escrow (balances, transactions, funding through the
provider's deposit flow), payroll runs (list, detail, approve) and the team (contractors and
invitations with their states).

Reads and writes go through the owning domains' services with the API's tenant rules: another
company's timesheet, milestone or payroll is the same 404 page as one that does not exist.
A client without a registered company sees a page saying so (the services answer
`company_not_found`).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from mindlinks.clients import service as clients
from mindlinks.clients.schemas import InvitationCreate
from mindlinks.clients.service import CompanyNotFound
from mindlinks.contracts import service as contracts
from mindlinks.contracts.schemas import MilestoneReject
from mindlinks.payments import service as payments
from mindlinks.payments.schemas import DepositCreate
from mindlinks.platform.api import PageParams, SessionDep, domain_router
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.runtime import RuntimeDep
from mindlinks.platform.security import Actor, Role
from mindlinks.timesheets import service as timesheets
from mindlinks.timesheets.schemas import ReviewItem, ReviewRequest
from mindlinks.web.dash import Denied, form_of, not_found, parse_id, signed_in, text
from mindlinks.web.i18n import gettext
from mindlinks.web.pages import discard, field_errors, redirect, render

router = domain_router(include_in_schema=False)
QUEUE_LIMIT = 100  # the review service takes at most 100 decisions at once
LIST_LIMIT = 50
DEPOSIT_CURRENCIES = ("USD", "EUR", "GBP")


async def _client(request: Request) -> Actor:
    return await signed_in(request, Role.CLIENT)


def _no_company(request: Request, actor: Actor) -> Response:
    return render(request, "money/no_company.html", actor=actor, status_code=404)


# --- approval queue -----------------------------------------------------------------------


async def _queue(request: Request, session: SessionDep, actor: Actor, *,
                 errors: list[str] | None = None, status_code: int = 200) -> Response:
    rows, total = await timesheets.page(session, actor, contract_id=None, status="pending",
                                        start=None, end=None, offset=0, limit=QUEUE_LIMIT)
    sheets = await timesheets.many_out(session, rows)
    milestones = await contracts.views.milestone_list(
        session, actor, statuses=["submitted"], limit=QUEUE_LIMIT)
    return render(request, "money/approvals.html", {
        "sheets": sheets, "sheets_total": total, "milestones": milestones, "errors": errors,
        "done": request.query_params.get("done")}, actor=actor, status_code=status_code)


@router.get("/approvals", response_class=HTMLResponse)
async def approvals_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    return await _queue(request, session, actor)


async def _decide(request: Request, session: SessionDep, actor: Actor,
                  action: Callable[[], Awaitable[Any]], done: str) -> Response:
    """Run one review action; a foreign or unknown id is the 404 page, a refused transition
    (already approved, no reason) the queue with the message; nothing is kept on failure."""
    try:
        await action()
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        return await _queue(request, session, actor, errors=field_errors(exc),
                            status_code=409 if isinstance(exc, DomainError) else 422)
    return redirect(request, f"/approvals?done={done}")


@router.post("/approvals/timesheets/{timesheet_id}/{decision}", response_class=HTMLResponse)
async def review_timesheet(request: Request, session: SessionDep, timesheet_id: str,
                           decision: str) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    tid = parse_id(timesheet_id)
    if tid is None or decision not in ("approve", "reject"):
        return not_found(request, actor)
    reviews = timesheets.reviews
    if decision == "approve":
        return await _decide(request, session, actor,
                             lambda: reviews.approve(session, actor, tid), "approved")
    reason = text(form, "reason", 1000).strip()
    if not reason:
        return await _queue(request, session, actor, errors=[gettext("A reason is required")],
                            status_code=422)
    return await _decide(request, session, actor,
                         lambda: reviews.reject(session, actor, tid, reason), "rejected")


@router.post("/approvals/timesheets", response_class=HTMLResponse)
async def bulk_approve(request: Request, session: SessionDep) -> Response:
    """The ticked timesheets approved in one transaction: all of them, or none."""
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    ids = [parse_id(v) for v in form.getlist("ids")[:QUEUE_LIMIT] if isinstance(v, str)]
    if not ids:
        return await _queue(request, session, actor,
                            errors=[gettext("Tick at least one timesheet")], status_code=422)
    if any(i is None for i in ids):
        return not_found(request, actor)
    items = [ReviewItem(id=i, decision="approve") for i in ids if i is not None]
    return await _decide(
        request, session, actor,
        lambda: timesheets.reviews.review_many(session, actor, ReviewRequest(items=items)),
        "approved")


@router.post("/approvals/milestones/{contract_id}/{milestone_id}/{decision}",
             response_class=HTMLResponse)
async def review_milestone(request: Request, session: SessionDep, contract_id: str,
                           milestone_id: str, decision: str) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    cid, mid = parse_id(contract_id), parse_id(milestone_id)
    if cid is None or mid is None or decision not in ("approve", "reject"):
        return not_found(request, actor)
    ms = contracts.milestones
    if decision == "approve":
        return await _decide(request, session, actor,
                             lambda: ms.approve(session, actor, cid, mid), "approved")
    reason = text(form, "reason", 1000).strip()
    if not reason:
        return await _queue(request, session, actor, errors=[gettext("A reason is required")],
                            status_code=422)
    return await _decide(
        request, session, actor,
        lambda: ms.reject(session, actor, cid, mid, MilestoneReject(reason=reason)), "rejected")


# --- escrow -------------------------------------------------------------------------------


async def _escrow_page(request: Request, session: SessionDep, actor: Actor, *,
                       errors: list[str] | None = None, form: dict[str, str] | None = None,
                       status_code: int = 200) -> Response:
    try:
        data = await payments.escrow(session, actor, PageParams(1, LIST_LIMIT))
    except CompanyNotFound:
        return _no_company(request, actor)
    return render(request, "money/escrow.html", {
        "escrow": data, "currencies": DEPOSIT_CURRENCIES, "errors": errors,
        # A new key per rendered form: a double-clicked or retried post of this form reaches
        # the provider with the same key and gets the same deposit back.
        "idempotency_key": (form or {}).get("idempotency_key") or str(uuid.uuid4()),
        "form": form or {}}, actor=actor, status_code=status_code)


@router.get("/escrow", response_class=HTMLResponse)
async def escrow_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    return await _escrow_page(request, session, actor)


@router.post("/escrow/deposits", response_class=HTMLResponse)
async def escrow_deposit(request: Request, session: SessionDep) -> Response:
    """Create the deposit with the provider; the browser goes on to the provider's page
    (the sandbox's pay page) or sees the bank-transfer instructions. The escrow is credited
    only by the provider's signed webhook."""
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    posted = {k: text(form, k, 64) for k in ("amount", "currency", "method",
                                             "idempotency_key")}
    key = parse_id(posted["idempotency_key"])
    try:
        if key is None:
            raise ValueError("The form is incomplete; reload the page")
        body = DepositCreate(amount=Decimal(posted["amount"].strip() or "x"),
                             currency=posted["currency"], method=posted["method"])
        deposit = await payments.create_deposit(
            session, actor, payments.get_provider(request.app.state), body, str(key))
    except CompanyNotFound:
        return _no_company(request, actor)
    except (DomainError, ValidationError, ValueError, InvalidOperation) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        errors = field_errors(exc) if isinstance(exc, DomainError | ValidationError) else [
            gettext("Amount: enter a number")]
        return await _escrow_page(request, session, actor, errors=errors, form=posted,
                                  status_code=422)
    if deposit.hosted_url:
        return redirect(request, deposit.hosted_url)
    return render(request, "money/deposit.html", {"deposit": deposit}, actor=actor)


# --- payroll ------------------------------------------------------------------------------


@router.get("/payroll", response_class=HTMLResponse)
async def payroll_list(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    try:
        page = await payments.list_payrolls(session, actor,
                                                         PageParams(1, LIST_LIMIT))
    except CompanyNotFound:
        return _no_company(request, actor)
    return render(request, "money/payrolls.html", {"page": page}, actor=actor)


async def _payroll(request: Request, session: SessionDep, actor: Actor, payroll_id: str,
                   approve: bool) -> Response:
    pid = parse_id(payroll_id)
    try:
        if pid is None:
            raise NotFound("No such payroll")
        if approve:
            await payments.approve_payroll(session, actor, pid)
            return redirect(request, f"/payroll/{pid}?done=approved")
        detail = await payments.payroll_detail(session, actor, pid, item_limit=500)
    except NotFound as exc:  # also company_not_found: nothing of another company shows
        await discard(session, exc)
        return not_found(request, actor)
    except DomainError as exc:
        await discard(session, exc)
        assert pid is not None  # a None id raised NotFound above
        detail = await payments.payroll_detail(session, actor, pid, item_limit=500)
        return render(request, "money/payroll.html", {"payroll": detail,
                                                      "errors": field_errors(exc)},
                      actor=actor, status_code=409)
    return render(request, "money/payroll.html", {
        "payroll": detail, "done": request.query_params.get("done")}, actor=actor)


@router.get("/payroll/{payroll_id}", response_class=HTMLResponse)
async def payroll_page(request: Request, session: SessionDep, payroll_id: str) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    return await _payroll(request, session, actor, payroll_id, approve=False)


@router.post("/payroll/{payroll_id}/approve", response_class=HTMLResponse)
async def payroll_approve(request: Request, session: SessionDep, payroll_id: str) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    await form_of(request)
    return await _payroll(request, session, actor, payroll_id, approve=True)


# --- team ---------------------------------------------------------------------------------


async def _team(request: Request, session: SessionDep, actor: Actor, *,
                errors: list[str] | None = None, form: dict[str, str] | None = None,
                status_code: int = 200) -> Response:
    try:
        members, members_total = await clients.own_contractors(session, actor, offset=0,
                                                               limit=LIST_LIMIT)
        rows, invites_total = await clients.invitations.own_invitations(
            session, actor, offset=0, limit=LIST_LIMIT)
    except CompanyNotFound:
        return _no_company(request, actor)
    return render(request, "money/team.html", {
        "members": members, "members_total": members_total,
        "invitations": [clients.invitations.invitation_out(r) for r in rows],
        "invitations_total": invites_total, "errors": errors, "form": form or {},
        "done": request.query_params.get("done")}, actor=actor, status_code=status_code)


@router.get("/team", response_class=HTMLResponse)
async def team_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    return await _team(request, session, actor)


@router.post("/team/invitations", response_class=HTMLResponse)
async def team_invite(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    """Invite a contractor by email (the API's rules: a verified company, one open invitation
    per address, the mail throttle)."""
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    posted = {"email": text(form, "email", 320).strip(), "name": text(form, "name", 200).strip(),
              "message": text(form, "message", 2000).strip()}
    try:
        await clients.invitations.invite(session, actor, rt, InvitationCreate(
            email=posted["email"], name=posted["name"] or None,
            message=posted["message"] or None))
    except CompanyNotFound:
        return _no_company(request, actor)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        return await _team(request, session, actor, errors=field_errors(exc), form=posted,
                           status_code=422 if isinstance(exc, ValidationError) else 409)
    return redirect(request, "/team?done=invited")
