"""Admin review queues of contractor credentials and client documents: tax forms (the signed
form through a signed, expiring link, as the KYC review shows documents), licences, insurance
policies (each with its attached document through a guarded route that redirects to a fresh
signed link), and every company's documents.

The guard, CSRF check and helpers are admin_pages' (signed out -> login, another role -> 404,
no TOTP step -> 403, CSRF checked before anything else). Each verdict is the service the
API's admin route calls, which writes the audit line; a refused verdict rolls back and shows
the service's error on the detail page with its status.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ValidationError

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.contractors.schemas import InsuranceReview, LicenseReview, TaxReview
from mindlinks.platform import audit
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.security import Actor
from mindlinks.platform.storage import get_storage
from mindlinks.web.admin_pages import _form, _guard, _not_found, _page, _pager, _text, _uuid
from mindlinks.web.i18n import N_
from mindlinks.web.pages import field_errors, redirect, refused, render

router = domain_router(include_in_schema=False)
# State names of these queues that the shared `status` list does not have yet.
STATUS_NAMES = [N_("pending review")]
DOCUMENT_STATUSES = ("pending", "approved", "rejected")
HISTORY = 20  # audit lines shown on a detail page


def _status(request: Request, allowed: tuple[str, ...], default: str) -> str | None:
    """A queue opens on what waits (`default`); `?status=all` shows every state."""
    wanted = request.query_params.get("status", default)
    return wanted if wanted in allowed else None


class Queue:
    """One review queue: its list and detail reads, and the verdict with its request model."""

    def __init__(self, path: str, template: tuple[str, str], entity_type: str,
                 statuses: tuple[str, ...], pending: str,
                 not_found: type[DomainError], review: type[BaseModel],
                 read_list: Callable[..., Awaitable[tuple[list[Any], int]]],
                 read_one: Callable[..., Awaitable[Any]],
                 decide: Callable[..., Awaitable[Any]]) -> None:
        self.path, self.template, self.statuses, self.pending = path, template, statuses, pending
        self.entity_type = entity_type  # of its audit lines: the detail page shows them
        self.not_found, self.review = not_found, review
        self.read_list, self.read_one, self.decide = read_list, read_one, decide


async def _tax_one(session: Any, actor: Actor, request: Request, key: uuid.UUID) -> Any:
    return await contractors.tax_detail(session, actor, get_storage(request.app.state), key)


async def _license_one(session: Any, actor: Actor, request: Request, key: uuid.UUID) -> Any:
    return await contractors.license_detail(session, actor, key)


async def _policy_one(session: Any, actor: Actor, request: Request, key: uuid.UUID) -> Any:
    return await contractors.policy_detail(session, actor, key)


QUEUES = {
    "tax-forms": Queue(
        "/admin/tax-forms", ("tax_forms", "tax_form"), "contractor_tax_info",
        contractors.TAX_STATUSES, "pending_review",
        contractors.TaxInfoNotFound, TaxReview, contractors.tax_queue, _tax_one,
        contractors.review_tax_info),
    "licenses": Queue(
        "/admin/licenses", ("licenses", "license"), "contractor_license",
        contractors.LICENSE_STATUSES, "unverified",
        contractors.LicenseNotFound, LicenseReview, contractors.license_queue, _license_one,
        contractors.review_license),
    "insurance": Queue(
        "/admin/insurance", ("policies", "policy"), "contractor_insurance_policy",
        contractors.POLICY_STATUSES, "pending",
        contractors.PolicyNotFound, InsuranceReview, contractors.policy_queue, _policy_one,
        contractors.review_policy),
}


async def _list(request: Request, session: SessionDep, queue: Queue) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    status = _status(request, queue.statuses, queue.pending)
    params = _page(request)
    rows, total = await queue.read_list(session, actor, status=status, offset=params.offset,
                                        limit=params.limit)
    return render(request, f"admin/{queue.template[0]}.html", {
        "rows": rows, "status": status or "all", "statuses": queue.statuses,
        "pager": _pager(request, params, total)}, actor=actor)


async def _detail(request: Request, session: SessionDep, actor: Actor, queue: Queue,
                  item_id: str, errors: list[str] | None = None,
                  status_code: int = 200) -> Response:
    key = _uuid(item_id)
    try:
        if key is None:
            raise queue.not_found()
        row = await queue.read_one(session, actor, request, key)
    except queue.not_found:
        return _not_found(request, actor)
    # What happened to it, newest first: submissions, edits and each verdict with its reason
    # (a licence's or policy's reason lives only there).
    history, _total = await audit.search(session, entity_type=queue.entity_type,
                                         entity_id=str(key), limit=HISTORY)
    return render(request, f"admin/{queue.template[1]}.html", {
        "row": row, "item": row.item, "errors": errors, "history": history},
        actor=actor, status_code=status_code)


async def _decide(request: Request, session: SessionDep, queue: Queue, item_id: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    key = _uuid(item_id)
    if key is None:
        return _not_found(request, actor)
    reason = _text(form, "reason") or None
    data: dict[str, str | None] = {"decision": _text(form, "decision", 20)}
    if "reason" in queue.review.model_fields:  # the tax review's; the others audit it
        data["reason"] = reason
    try:
        body = queue.review.model_validate(data)
        await queue.decide(session, actor, key, body.model_dump()["decision"], reason)
    except queue.not_found:
        return _not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc, 400)
        return await _detail(request, session, actor, queue, item_id, field_errors(exc),
                             status)
    return redirect(request, f"{queue.path}/{key}")


def _routes(name: str, queue: Queue) -> None:
    async def listing(request: Request, session: SessionDep) -> Response:
        return await _list(request, session, queue)

    async def detail(request: Request, session: SessionDep, item_id: str) -> Response:
        actor = await _guard(request)
        if not isinstance(actor, Actor):
            return actor
        return await _detail(request, session, actor, queue, item_id)

    async def decide(request: Request, session: SessionDep, item_id: str) -> Response:
        return await _decide(request, session, queue, item_id)

    for endpoint, suffix, method in ((listing, "", "GET"), (detail, "/{item_id}", "GET"),
                                     (decide, "/{item_id}/review", "POST")):
        router.add_api_route(queue.path + suffix, endpoint, methods=[method],
                             response_class=HTMLResponse, name=f"admin_{name}_{endpoint.__name__}")


for _name, _queue in QUEUES.items():
    _routes(_name, _queue)


async def _credential_document(request: Request, session: SessionDep, kind: str,
                               item_id: str) -> Response:
    """A licence's, policy's or tax form's document: 303 to a fresh signed, expiring link, for an
    administrator past the TOTP step only (the detail page links here, so the signed URL is
    made when it is opened, not when the page is shown)."""
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    key = _uuid(item_id)
    try:
        if key is None:
            raise NotFound("No such document")
        document = await contractors.credential_document(
            session, actor, get_storage(request.app.state), kind, key)
    except NotFound:
        return _not_found(request, actor)
    return redirect(request, document.download_url)


@router.get("/admin/licenses/{item_id}/document")
async def license_document(request: Request, session: SessionDep, item_id: str) -> Response:
    return await _credential_document(request, session, "license", item_id)


@router.get("/admin/insurance/{item_id}/document")
async def policy_document(request: Request, session: SessionDep, item_id: str) -> Response:
    return await _credential_document(request, session, "policy", item_id)


@router.get("/admin/tax-forms/{item_id}/document")
async def tax_form_document(request: Request, session: SessionDep, item_id: str) -> Response:
    return await _credential_document(request, session, "tax", item_id)


# --- client documents (the verdict is admin_pages' POST /admin/client-documents/{id}/review) --


@router.get("/admin/client-documents", response_class=HTMLResponse)
async def client_documents(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    status = _status(request, DOCUMENT_STATUSES, "pending")
    params = _page(request)
    rows, total = await clients.admin_documents(session, actor, get_storage(request.app.state),
                                                status=status, offset=params.offset,
                                                limit=params.limit)
    return render(request, "admin/client_documents.html", {
        "rows": rows, "status": status or "all", "statuses": DOCUMENT_STATUSES,
        "pager": _pager(request, params, total)}, actor=actor)
