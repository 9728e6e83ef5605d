"""Admin screens (`/admin/...`): home with the review queues and KPI charts, KYC session
review, companies and their documents, users (search, suspend), the audit log, country rules,
and the ledger digest + verification.

Every page calls the owning domain's service, as the API's admin routes do. The guard is the
API's `AdminUser`: signed out -> the login page; another role -> the same 404 page as a
missing page (the admin area is not advertised); an admin whose session skipped the TOTP step
-> 403 (the API's `mfa_required`). Every POST checks the CSRF token first.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mindlinks.auth import service as auth_service
from mindlinks.clients import service as clients
from mindlinks.clients.schemas import ReviewRequest
from mindlinks.contractors import service as contractors
from mindlinks.countries import service as countries
from mindlinks.countries.schemas import CountryRuleUpdate
from mindlinks.kyc import service as kyc
from mindlinks.kyc.schemas import DecisionRequest, DocumentReview
from mindlinks.ledger import service as ledger
from mindlinks.ledger.schemas import Digest, VerifyReport
from mindlinks.platform import alerts, audit
from mindlinks.platform.api import PageParams, SessionDep, domain_router
from mindlinks.platform.errors import DomainError
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import get_storage
from mindlinks.web import charts, i18n, sessions
from mindlinks.web.pages import discard, field_errors, redirect, refused, render, to_login

router = domain_router(include_in_schema=False)
PAGE_SIZE = 25
MAX_PAGE = 10_000
KYC_STATUSES = ("pending", "processing", "resubmission_requested", "verified", "rejected",
                "expired")
COMPANY_STATUSES = ("pending", "verified", "rejected")
ROLES = ("contractor", "client", "admin")
KPI_DAYS = 14


async def _guard(request: Request) -> Actor | Response:
    actor = await sessions.browser_actor(request)
    if actor is None:
        return to_login(request)
    if actor.role != Role.ADMIN:
        return render(request, "not_found.html", actor=actor, status_code=404)
    if not actor.mfa_verified:
        return render(request, "admin/mfa_required.html", actor=actor, status_code=403)
    i18n.use(i18n.language_of(request))  # labels built in Python below are in the page's language
    return actor


async def _form(request: Request) -> FormData:
    form = await request.form()
    sessions.check_csrf(request, form)
    return form


def _text(form: FormData | Any, name: str, limit: int = 500) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _page(request: Request) -> PageParams:
    raw = request.query_params.get("page", "1")
    number = int(raw) if raw.isdigit() and len(raw) < 7 else 1
    return PageParams(min(max(number, 1), MAX_PAGE), PAGE_SIZE)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value[:40])
    except ValueError:
        return None


def _pager(request: Request, params: PageParams, total: int) -> dict[str, Any]:
    """Previous/next links keeping the page's filters."""
    query = {k: v for k, v in request.query_params.items() if k != "page"}

    def link(number: int) -> str:
        return request.url.path + "?" + urlencode({**query, "page": number})

    last = max((total + params.limit - 1) // params.limit, 1)
    return {"page": params.page, "last": last, "total": total,
            "prev": link(params.page - 1) if params.page > 1 else None,
            "next": link(params.page + 1) if params.page < last else None}


def _not_found(request: Request, actor: Actor) -> Response:
    return render(request, "not_found.html", actor=actor, status_code=404)


# --- home -----------------------------------------------------------------------------------


@router.get("/admin", response_class=HTMLResponse)
async def admin_home(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    kyc_counts = await kyc.session_counts(session)
    company_counts = await clients.company_counts(session)
    document_counts = await clients.document_counts(session)
    users = await auth_service.user_counts(session)
    credentials = await contractors.credential_counts(session)
    today = datetime.now(UTC).date()
    since = datetime.combine(today - timedelta(days=KPI_DAYS - 1), datetime.min.time(), UTC)
    daily = await audit.daily_counts(session, since)
    days = [today - timedelta(days=KPI_DAYS - 1 - i) for i in range(KPI_DAYS)]
    by_role = [(i18n.status(role), sum(n for (r, _s), n in users.items() if r == role))
               for role in ROLES]
    queues = [
        (i18n.gettext("Identity checks to review"), kyc_counts.get("processing", 0),
         "/admin/kyc?status=processing"),
        (i18n.gettext("Identity checks pending"), kyc_counts.get("pending", 0),
         "/admin/kyc?status=pending"),
        (i18n.gettext("Companies to verify"), company_counts.get("pending", 0),
         "/admin/companies?status=pending"),
        (i18n.gettext("Client documents to review"), document_counts.get("pending", 0),
         "/admin/client-documents"),
        (i18n.gettext("Tax forms to review"), credentials["tax_forms"], "/admin/tax-forms"),
        (i18n.gettext("Licences to verify"), credentials["licenses"], "/admin/licenses"),
        (i18n.gettext("Insurance policies to verify"), credentials["policies"],
         "/admin/insurance"),
        (i18n.gettext("Open alerts"), await alerts.count_open(session), "/admin/alerts"),
        (i18n.gettext("Suspended accounts"),
         sum(n for (_r, s), n in users.items() if s == auth_service.UserStatus.SUSPENDED),
         "/admin/users?status=suspended"),
    ]
    return render(request, "admin/home.html", {
        "queues": queues,
        "kyc_chart": charts.bars(
            i18n.gettext("Identity checks by status"),
            [(i18n.status(s), kyc_counts.get(s, 0)) for s in KYC_STATUSES],
            chart_id="kpi-kyc", number=i18n.number),
        "users_chart": charts.bars(i18n.gettext("Accounts by role"), by_role,
                                   chart_id="kpi-users", number=i18n.number),
        "activity_chart": charts.bars(
            i18n.gettext("Audited actions per day (last 14 days)"),
            [(i18n.date(d, "d MMM"), daily.get(d, 0)) for d in days],
            chart_id="kpi-activity", number=i18n.number, width=960),
    }, actor=actor)


# --- KYC ------------------------------------------------------------------------------------


@router.get("/admin/kyc", response_class=HTMLResponse)
async def kyc_list(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    status = request.query_params.get("status")
    status = status if status in KYC_STATUSES else None
    params = _page(request)
    page = await kyc.list_sessions(session, status, params)
    return render(request, "admin/kyc_list.html", {
        "sessions": page.data, "status": status, "statuses": KYC_STATUSES,
        "pager": _pager(request, params, page.meta.total)}, actor=actor)


async def _kyc_detail(request: Request, session: SessionDep, actor: Actor, session_id: str,
                      errors: list[str] | None = None, status_code: int = 200) -> Response:
    kyc_id = _uuid(session_id)
    try:
        if kyc_id is None:
            raise kyc.KycSessionNotFound("No such verification session")
        detail = await kyc.session_detail(session, get_storage(request.app.state), kyc_id)
    except kyc.KycSessionNotFound:
        return _not_found(request, actor)
    return render(request, "admin/kyc_detail.html", {
        "kyc": detail, "errors": errors, "final": detail.status in kyc.FINAL_STATUSES,
    }, actor=actor, status_code=status_code)


@router.get("/admin/kyc/{session_id}", response_class=HTMLResponse)
async def kyc_detail(request: Request, session: SessionDep, session_id: str) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    return await _kyc_detail(request, session, actor, session_id)


@router.post("/admin/kyc/{session_id}/decision", response_class=HTMLResponse)
async def kyc_decide(request: Request, session: SessionDep, session_id: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    kyc_id = _uuid(session_id)
    if kyc_id is None:
        return _not_found(request, actor)
    try:
        body = DecisionRequest(decision=_text(form, "decision", 40),
                                   reason=_text(form, "reason") or None)
        await kyc.admin_decide(session, actor, kyc_id, body.decision, body.reason)
    except kyc.KycSessionNotFound:
        return _not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc, 400)
        return await _kyc_detail(request, session, actor, session_id, field_errors(exc),
                                 status)
    return redirect(request, f"/admin/kyc/{kyc_id}")


@router.post("/admin/kyc/documents/{document_id}/review", response_class=HTMLResponse)
async def kyc_document_review(request: Request, session: SessionDep,
                              document_id: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    doc_id = _uuid(document_id)
    back = _text(form, "session_id", 40)
    if doc_id is None or _uuid(back) is None:
        return _not_found(request, actor)
    try:
        body = DocumentReview(status=_text(form, "status", 20),
                                  reason=_text(form, "reason") or None)
        await kyc.review_document(session, actor, doc_id, body.status, body.reason)
    except kyc.KycDocumentNotFound:
        return _not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc, 400)
        return await _kyc_detail(request, session, actor, back, field_errors(exc),
                                 status)
    return redirect(request, f"/admin/kyc/{back}")


# --- companies and client documents ---------------------------------------------------------


@router.get("/admin/companies", response_class=HTMLResponse)
async def company_list(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    status = request.query_params.get("status")
    status = status if status in COMPANY_STATUSES else None
    params = _page(request)
    rows, total = await clients.admin_companies(session, actor, status=status,
                                                offset=params.offset, limit=params.limit)
    counts = await clients.admin_document_counts(session, actor, [c.id for c in rows])
    return render(request, "admin/companies.html", {
        "companies": rows, "documents": counts, "status": status, "statuses": COMPANY_STATUSES,
        "pager": _pager(request, params, total)}, actor=actor)


async def _company(request: Request, session: SessionDep, actor: Actor, company_id: str,
                   errors: list[str] | None = None, status_code: int = 200) -> Response:
    key = _uuid(company_id)
    storage = get_storage(request.app.state)
    try:
        if key is None:
            raise clients.CompanyNotFound()
        company = await clients.company_out(session, storage,
                                            await clients.admin_company(session, actor, key))
        documents, _total = await clients.admin_company_documents(
            session, actor, storage, key, offset=0, limit=100)
    except clients.CompanyNotFound:
        return _not_found(request, actor)
    return render(request, "admin/company.html", {
        "company": company, "documents": documents, "errors": errors,
    }, actor=actor, status_code=status_code)


@router.get("/admin/companies/{company_id}", response_class=HTMLResponse)
async def company_page(request: Request, session: SessionDep, company_id: str) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    return await _company(request, session, actor, company_id)


@router.post("/admin/companies/{company_id}/review", response_class=HTMLResponse)
async def company_review(request: Request, session: SessionDep, company_id: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    key = _uuid(company_id)
    if key is None:
        return _not_found(request, actor)
    try:
        body = ReviewRequest(decision=_text(form, "decision", 20),
                             reason=_text(form, "reason") or None)
        await clients.review_company(session, actor, key, body)
    except clients.CompanyNotFound:
        return _not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc, 400)
        return await _company(request, session, actor, company_id, field_errors(exc),
                              status)
    return redirect(request, f"/admin/companies/{key}")


@router.post("/admin/client-documents/{document_id}/review", response_class=HTMLResponse)
async def client_document_review(request: Request, session: SessionDep,
                                 document_id: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    key, back = _uuid(document_id), _uuid(_text(form, "company_id", 40))
    if key is None or back is None:
        return _not_found(request, actor)
    try:
        body = ReviewRequest(decision=_text(form, "decision", 20),
                             reason=_text(form, "reason") or None)
        await clients.admin_review_document(session, actor, key, body)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc, 400)
        if status == 404:
            return _not_found(request, actor)
        return await _company(request, session, actor, str(back), field_errors(exc),
                              status)
    queue = _text(form, "next", 500)  # reviewed from the documents queue: back to it
    return redirect(request, queue if queue.startswith("/admin/client-documents")
                    else f"/admin/companies/{back}")


# --- users ----------------------------------------------------------------------------------


@router.get("/admin/users", response_class=HTMLResponse)
async def user_list(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    query = request.query_params.get("q", "")[:200]
    role = request.query_params.get("role")
    role = role if role in ROLES else None
    status = request.query_params.get("status")
    status = status if status in ("active", "suspended") else None
    params = _page(request)
    rows, total = await auth_service.search_users(session, actor, query=query, role=role,
                                                  status=status, offset=params.offset,
                                                  limit=params.limit)
    return render(request, "admin/users.html", {
        "users": rows, "q": query, "role": role, "status": status, "roles": ROLES,
        "pager": _pager(request, params, total)}, actor=actor)


@router.post("/admin/users/{user_id}/status", response_class=HTMLResponse)
async def user_status(request: Request, session: SessionDep, user_id: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    key = _uuid(user_id)
    wanted = _text(form, "status", 20)
    if key is None or wanted not in ("active", "suspended"):
        return _not_found(request, actor)
    if key == actor.user_id:  # an admin does not lock themself out from this page
        return render(request, "admin/users.html", {
            "users": [], "q": "", "role": None, "status": None, "roles": ROLES,
            "pager": None, "errors": [i18n.gettext("You cannot change your own account here.")],
        }, actor=actor, status_code=409)
    try:
        await auth_service.set_user_status(session, actor, key, auth_service.UserStatus(wanted))
    except DomainError as exc:
        await discard(session, exc)
        return _not_found(request, actor)
    back = _text(form, "next", 500)
    return redirect(request, back if back.startswith("/admin/users") else "/admin/users")


# --- audit log ------------------------------------------------------------------------------


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.strptime((value or "")[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit_log(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    q = request.query_params
    filters = {"action": q.get("action", "")[:100], "entity_type": q.get("entity_type", "")[:60],
               "entity_id": q.get("entity_id", "")[:64], "actor": q.get("actor", "")[:40],
               "since": q.get("since", "")[:10], "until": q.get("until", "")[:10]}
    until = _day(filters["until"])
    params = _page(request)
    rows, total = await audit.search(
        session, action=filters["action"] or None, entity_type=filters["entity_type"] or None,
        entity_id=filters["entity_id"] or None, actor_id=_uuid(filters["actor"]),
        since=_day(filters["since"]), until=until + timedelta(days=1) if until else None,
        offset=params.offset, limit=params.limit)
    return render(request, "admin/audit.html", {
        "rows": rows, "filters": filters, "pager": _pager(request, params, total)}, actor=actor)


# --- country rules --------------------------------------------------------------------------


@router.get("/admin/countries", response_class=HTMLResponse)
async def country_list(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    params = PageParams(_page(request).page, 100)
    rows, total = await countries.list_rules(session, offset=params.offset, limit=params.limit)
    return render(request, "admin/countries.html", {
        "rules": [countries.rule_out(r) for r in rows],
        "pager": _pager(request, params, total)}, actor=actor)


async def _country(request: Request, session: SessionDep, actor: Actor, code: str,
                   errors: list[str] | None = None, status_code: int = 200) -> Response:
    try:
        rule = countries.rule_out(await countries.get_rule_row(session, code.upper()[:2]))
    except DomainError:
        return _not_found(request, actor)
    return render(request, "admin/country.html", {"rule": rule, "errors": errors},
                  actor=actor, status_code=status_code)


@router.get("/admin/countries/{code}", response_class=HTMLResponse)
async def country_page(request: Request, session: SessionDep, code: str) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    return await _country(request, session, actor, code)


@router.post("/admin/countries/{code}", response_class=HTMLResponse)
async def country_update(request: Request, session: SessionDep, code: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    fields = ("country_name", "currency", "fee_currency", "withdrawal_fee_flat",
              "withdrawal_fee_percent", "min_withdrawal", "payout_days", "required_tax_form")
    data: dict[str, Any] = {f: _text(form, f, 100) for f in fields if _text(form, f, 100)}
    if "payout_days" in data:
        data["payout_days"] = int(data["payout_days"]) if data["payout_days"].isdigit() else -1
    data["is_active"] = form.get("is_active") == "on"
    try:
        await countries.update_rule(session, actor, code.upper()[:2],
                                    CountryRuleUpdate.model_validate(data))
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc, 400)
        if status == 404:
            return _not_found(request, actor)
        return await _country(request, session, actor, code, field_errors(exc),
                              status)
    return redirect(request, f"/admin/countries/{code.upper()[:2]}?saved=1")


# --- ledger ---------------------------------------------------------------------------------


@router.get("/admin/ledger", response_class=HTMLResponse)
async def ledger_page(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    digest = Digest.of(await ledger.digest(session))
    return render(request, "admin/ledger.html", {"digest": digest, "report": None},
                  actor=actor)


@router.post("/admin/ledger/verify", response_class=HTMLResponse)
async def ledger_verify(request: Request, session: SessionDep) -> Response:
    await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    report = VerifyReport.of(await ledger.verify_chain(session))
    # As `POST /api/admin/ledger/verify`: every verification is in the audit trail.
    await audit.record(session, actor, "ledger.verified", "ledger", None, {
        "verified": report.verified, "firstBrokenSeq": report.first_broken_seq,
        "againstSeq": None, "via": "web"})
    digest = Digest.of(await ledger.digest(session))
    return render(request, "admin/ledger.html", {"digest": digest, "report": report},
                  actor=actor)
