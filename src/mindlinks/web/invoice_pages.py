"""Invoices for both parties: the list (filtered by status), one invoice with its lines, and
its signed PDF (a redirect to the storage's expiring link). The invoices service scopes every
read: another party's invoice is the same 404 page as a missing one."""

from __future__ import annotations

from typing import get_args

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from mindlinks.invoices import service as invoices
from mindlinks.invoices.schemas import StatusFilter
from mindlinks.platform.api import PageParams, SessionDep, domain_router
from mindlinks.platform.errors import NotFound
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import get_storage
from mindlinks.web import sessions
from mindlinks.web.dash import not_found, parse_id
from mindlinks.web.pages import redirect, render, to_login

router = domain_router(include_in_schema=False)
STATUSES: tuple[str, ...] = get_args(StatusFilter)
LIST_LIMIT = 50


async def _party(request: Request) -> Actor | Response:
    actor = await sessions.browser_actor(request)
    if actor is None:
        return to_login(request)
    if actor.role not in (Role.CONTRACTOR, Role.CLIENT):
        return not_found(request, actor)
    return actor


@router.get("/invoices", response_class=HTMLResponse)
async def invoices_page(request: Request, session: SessionDep) -> Response:
    actor = await _party(request)
    if not isinstance(actor, Actor):
        return actor
    status = request.query_params.get("status", "all")
    status = status if status in STATUSES else "all"
    page = await invoices.list_invoices(session, actor, get_storage(request.app.state),
                                        status=status, page=PageParams(1, LIST_LIMIT))
    return render(request, "money/invoices.html", {
        "page": page, "status": status, "statuses": STATUSES}, actor=actor)


@router.get("/invoices/{invoice_id}", response_class=HTMLResponse)
async def invoice_page(request: Request, session: SessionDep, invoice_id: str) -> Response:
    actor = await _party(request)
    if not isinstance(actor, Actor):
        return actor
    iid = parse_id(invoice_id)
    try:
        if iid is None:
            raise NotFound("No such invoice")
        detail = await invoices.invoice_detail(session, actor, get_storage(request.app.state),
                                               iid)
    except NotFound:
        return not_found(request, actor)
    return render(request, "money/invoice.html", {"invoice": detail}, actor=actor)


@router.get("/invoices/{invoice_id}/pdf")
async def invoice_pdf(request: Request, session: SessionDep, invoice_id: str) -> Response:
    """The PDF through the same signed, expiring link as the API's download route."""
    actor = await _party(request)
    if not isinstance(actor, Actor):
        return actor
    iid = parse_id(invoice_id)
    try:
        if iid is None:
            raise NotFound("No such invoice")
        link = await invoices.download(session, actor, get_storage(request.app.state), iid)
    except NotFound:
        return not_found(request, actor)
    return redirect(request, link.download_url)
