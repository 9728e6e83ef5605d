"""Signed-in pages: the home dashboard and identity verification. Each reads through the
owning domain's service, so the access rules are the API's. (A contract's page is in
`contract_pages`, the profile in `profile_pages`.)"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from mindlinks.auth import service as auth_service
from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.contracts import service as contracts
from mindlinks.kyc import service as kyc
from mindlinks.notifications import service as notifications
from mindlinks.platform.api import PageParams, SessionDep, domain_router
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import get_storage
from mindlinks.web import checklists, sessions
from mindlinks.web.company_pages import logo_version
from mindlinks.web.pages import render, to_login

router = domain_router(include_in_schema=False)
HOME_LIST_LIMIT = 10  # the home page shows the latest few; the lists have their own pages


async def _profile(request: Request, session: SessionDep, actor: Actor) -> Any:
    if actor.role != Role.CONTRACTOR:
        return None
    profile = await contractors.profile_by_user(session, actor.user_id)
    if profile is None:
        return None
    return await contractors.profile_out(session, get_storage(request.app.state), profile)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, session: SessionDep) -> Response:
    actor = await sessions.browser_actor(request)
    if actor is None:
        return to_login(request)
    user = await auth_service.get_user(session, actor)
    storage = get_storage(request.app.state)
    items: list[Any] = []
    total = 0
    if actor.role in (Role.CONTRACTOR, Role.CLIENT):
        items, total = await contracts.views.contract_page(
            session, actor, storage, status=None, offset=0, limit=HOME_LIST_LIMIT)
    inbox = await notifications.inbox(session, actor, None, PageParams(1, HOME_LIST_LIMIT))
    kyc_status = (await kyc.status_of(session, actor)).status \
        if actor.role == Role.CONTRACTOR else None
    company = steps = None
    if actor.role == Role.CLIENT:  # the header shows the company's name and logo
        try:
            company = await clients.own_company(session, actor)
        except clients.CompanyNotFound:
            company = None
        steps = await checklists.client_steps(session, actor, company, total)
    return render(request, "home.html", {
        "company": company, "logo_version": logo_version(company.logo_key if company else None),
        "user": user, "profile": await _profile(request, session, actor),
        "kyc_status": kyc_status, "contracts": items, "contracts_total": total,
        "inbox": inbox, "welcome": "welcome" in request.query_params, "steps": steps,
    }, actor=actor)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, session: SessionDep) -> Response:
    return await home(request, session)


@router.get("/kyc", response_class=HTMLResponse)
async def kyc_page(request: Request, session: SessionDep) -> Response:
    actor = await sessions.browser_actor(request)
    if actor is None:
        return to_login(request)
    status = await kyc.status_of(session, actor) if actor.role == Role.CONTRACTOR else None
    return render(request, "kyc.html", {"status": status}, actor=actor)
