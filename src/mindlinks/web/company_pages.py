"""The client's company: registration, verification status and its documents.

- `/account/company`: without a company, the registration form (`POST /api/clients/companies`'s
  body and rules: a country the platform serves, the tax id stored only encrypted, the business
  registry asked at once - a match verifies the company, anything else waits for an
  administrator); with one, its status, the registry's answer and the review outcome (reason),
  and the form to correct the details (`PUT /api/clients/me`: changing what identifies the
  company sends it back to verification and asks the registry again).
- `/account/company/logo`: POST uploads the logo (`clients.set_logo`, as `POST
  /api/clients/me/logo`: JPEG/PNG/WebP by content, 5 MiB, 16 megapixels, re-encoded off the
  event loop into a 512 px WebP); GET serves it from this origin to its company's client only
  (the company page and the client's home header show it).
- `/account/company/documents`: upload (PDF/JPEG/PNG, validated by content, at most 10 MB: the
  API's upload rules) and the list with each document's review status and reason;
  `/account/company/documents/{id}` is its signed, expiring link (another company's is 404).

Everything goes through `clients.service`, the functions the API's routes call.
"""

from __future__ import annotations

from typing import Any, get_args

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from mindlinks.clients import service as clients
from mindlinks.clients.schemas import (
    BusinessType,
    Company,
    CompanyCreate,
    CompanyUpdate,
    DocumentType,
)
from mindlinks.countries import service as countries
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import get_storage
from mindlinks.web.dash import (
    Denied,
    form_of,
    not_found,
    parse_id,
    private_image,
    signed_in,
    text,
)
from mindlinks.web.i18n import N_, gettext
from mindlinks.web.pages import discard, field_errors, redirect, refused, render

router = domain_router(include_in_schema=False)
PAGE = "/account/company"
DOCS = PAGE + "/documents"
DOCUMENTS_LIMIT = 100
COMPANY_FIELDS = {"legal_name": 200, "trading_name": 200, "country": 8, "tax_id": 64,
                  "business_type": 40, "company_number": 64, "website": 300, "line1": 200,
                  "line2": 200, "city": 100, "state": 100, "postal_code": 20,
                  "address_country": 8}
BUSINESS_TYPES = {"sole_proprietorship": N_("Sole proprietorship"),
                  "partnership": N_("Partnership"), "llc": N_("Limited company (LLC)"),
                  "corporation": N_("Corporation"), "nonprofit": N_("Non-profit"),
                  "other": N_("Other")}
DOCUMENT_TYPES = {"incorporation_certificate": N_("Certificate of incorporation"),
                  "proof_of_address": N_("Proof of address"),
                  "tax_registration": N_("Tax registration"),
                  "articles_of_association": N_("Articles of association"),
                  "director_id": N_("Director's ID"), "other": N_("Other")}
# The schemas' lists and these labels must not drift apart.
assert set(BUSINESS_TYPES) == set(get_args(BusinessType))
assert set(DOCUMENT_TYPES) == set(get_args(DocumentType))
STATUS_NAMES = [N_("matched"), N_("not found"), N_("inactive"), N_("unavailable")]
DONE = {"registered": N_("Company registered."), "updated": N_("Company details saved."),
        "uploaded": N_("Document uploaded for review."), "logo": N_("Logo saved.")}
LOGO = PAGE + "/logo"


def logo_version(logo_key: str | None) -> str | None:
    """`?v=` of the logo's URL: the stored file's name (a new upload is a new key), so the
    browser may cache one version and never shows a replaced logo."""
    return logo_key.rpartition("/")[2].partition(".")[0][:36] if logo_key else None


async def _client(request: Request) -> Actor:
    return await signed_in(request, Role.CLIENT)


def _done(request: Request) -> str | None:
    done = request.query_params.get("done", "")
    return gettext(DONE[done]) if done in DONE else None


async def _company_page(request: Request, session: SessionDep, actor: Actor, *,
                        errors: list[str] | None = None, form: dict[str, str] | None = None,
                        status_code: int = 200) -> Response:
    row: Any = None
    company: Company | None = None
    try:
        row = await clients.own_company(session, actor)
        company = await clients.company_out(session, get_storage(request.app.state), row)
    except clients.CompanyNotFound:
        pass
    context: dict[str, Any] = {
        "company": company, "errors": errors, "done": _done(request),
        "logo_version": logo_version(row.logo_key if row else None),
        "form": form or (_form_of(company) if company else {}),
        "countries": await countries.active_countries(session),
        "business_types": BUSINESS_TYPES}
    return render(request, "account/company.html", context, actor=actor,
                  status_code=status_code)


@router.get(PAGE, response_class=HTMLResponse)
async def company_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    return await _company_page(request, session, actor)


def _form_of(company: Company) -> dict[str, str]:
    """The details form filled with the company's values (the tax id is never shown: left
    empty, it stays as it is)."""
    address = company.address or {}
    return {"legal_name": company.legal_name, "trading_name": company.trading_name or "",
            "country": company.country, "tax_id": "", "business_type": company.business_type,
            "company_number": company.company_number or "", "website": company.website or "",
            "line1": address.get("line1") or "", "line2": address.get("line2") or "",
            "city": address.get("city") or "", "state": address.get("state") or "",
            "postal_code": address.get("postalCode") or "",
            "address_country": address.get("country") or ""}


def _fields(posted: dict[str, str]) -> dict[str, Any]:
    def optional(name: str) -> str | None:
        return posted[name] or None

    return {
        "legal_name": posted["legal_name"], "trading_name": optional("trading_name"),
        "country": posted["country"], "tax_id": posted["tax_id"],
        "business_type": posted["business_type"],
        "company_number": optional("company_number"), "website": optional("website"),
        "address": {"line1": posted["line1"], "line2": optional("line2"),
                    "city": posted["city"], "state": optional("state"),
                    "postal_code": optional("postal_code"),
                    "country": posted["address_country"] or posted["country"]},
    }


@router.post(PAGE, response_class=HTMLResponse)
async def register_company(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    posted = {name: text(form, name, limit + 10).strip()
              for name, limit in COMPANY_FIELDS.items()}
    try:
        body = CompanyCreate.model_validate(_fields(posted))
        await clients.register_company(session, actor,
                                       clients.business_registry(request.app.state), body)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc)
        return await _company_page(request, session, actor, errors=field_errors(exc),
                                   form=posted, status_code=status)
    return redirect(request, f"{PAGE}?done=registered")


@router.post(PAGE + "/details", response_class=HTMLResponse)
async def update_company(request: Request, session: SessionDep) -> Response:
    """Correct the company's details (all fields sent; an empty tax id keeps the stored one)."""
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    posted = {name: text(form, name, limit + 10).strip()
              for name, limit in COMPANY_FIELDS.items()}
    fields = _fields(posted)
    if not fields["tax_id"]:
        del fields["tax_id"]
    try:
        await clients.update_company(session, actor, clients.business_registry(
            request.app.state), CompanyUpdate.model_validate(fields))
    except clients.CompanyNotFound:
        return redirect(request, PAGE)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc)
        return await _company_page(request, session, actor, errors=field_errors(exc),
                                   form=posted, status_code=status)
    return redirect(request, f"{PAGE}?done=updated")


# --- documents ------------------------------------------------------------------------------


async def _documents_page(request: Request, session: SessionDep, actor: Actor, *,
                          errors: list[str] | None = None, chosen: str = "",
                          status_code: int = 200) -> Response:
    try:
        rows, total = await clients.own_documents_out(
            session, actor, get_storage(request.app.state), offset=0, limit=DOCUMENTS_LIMIT)
    except clients.CompanyNotFound:
        return redirect(request, PAGE)  # the registration form comes first
    return render(request, "account/company_documents.html", {
        "documents": rows, "total": total, "types": DOCUMENT_TYPES, "chosen": chosen,
        "errors": errors, "done": _done(request)}, actor=actor, status_code=status_code)


@router.get(DOCS, response_class=HTMLResponse)
async def documents_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    return await _documents_page(request, session, actor)


@router.post(DOCS, response_class=HTMLResponse)
async def upload_document(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    type_ = text(form, "type", 40)
    upload = form.get("file")
    if type_ not in DOCUMENT_TYPES:
        return await _documents_page(request, session, actor, status_code=422,
                                     errors=[gettext("Choose the document's type.")])
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _documents_page(request, session, actor, chosen=type_, status_code=422,
                                     errors=[gettext("Choose a file (PDF, JPEG or PNG).")])
    try:
        await clients.upload_own_document(session, actor, get_storage(request.app.state),
                                          type_=type_, source=upload,
                                          filename=upload.filename)
    except clients.CompanyNotFound:
        return redirect(request, PAGE)
    except DomainError as exc:  # not a PDF/JPEG/PNG, too large, active content in the PDF
        await discard(session, exc)
        return await _documents_page(request, session, actor, errors=field_errors(exc),
                                     chosen=type_, status_code=exc.status)
    return redirect(request, f"{DOCS}?done=uploaded")


@router.get(DOCS + "/{document_id}")
async def open_document(request: Request, session: SessionDep, document_id: str) -> Response:
    """The document's signed, expiring link (303); another company's id is the 404 page."""
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    did = parse_id(document_id)
    try:
        if did is None:
            raise NotFound("No such document")
        document = await clients.own_document_out(session, actor,
                                                  get_storage(request.app.state), did)
    except NotFound:
        return not_found(request, actor)
    return redirect(request, document.download_url)


# --- logo -----------------------------------------------------------------------------------


@router.post(LOGO, response_class=HTMLResponse)
async def upload_logo(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    upload = form.get("logo")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _company_page(request, session, actor, status_code=422,
                                   errors=[gettext("Choose an image (JPEG, PNG or WebP).")])
    try:
        await clients.set_logo(session, actor, get_storage(request.app.state), upload,
                               upload.filename)
    except clients.CompanyNotFound:
        return redirect(request, PAGE)
    except DomainError as exc:  # not an image, too large, too many pixels, undecodable
        await discard(session, exc)
        return await _company_page(request, session, actor, errors=field_errors(exc),
                                   status_code=exc.status)
    return redirect(request, f"{PAGE}?done=logo")


@router.get(LOGO)
async def logo(request: Request, session: SessionDep) -> Response:
    """The client's own company logo (re-encoded WebP), from this origin."""
    try:
        actor = await _client(request)
    except Denied as denied:
        return denied.response
    try:
        data, mime = await clients.own_logo(session, actor, get_storage(request.app.state))
    except NotFound:
        return not_found(request, actor)
    return private_image(request, data, mime)
