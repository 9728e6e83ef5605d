"""The contractor's tax form, licences, insurance policies and documents.

- `/account/tax`: the latest tax information (masked tax id, the form's signed link, review
  status and reason) and a new submission with the signed form (PDF/JPEG/PNG, validated by
  content and size-limited by the same upload rules as `POST /api/contractors/me/tax-info`).
- `/account/credentials`: licences and insurance policies, add (the API's bodies `LicenseIn` /
  `InsuranceIn`, with an optional document: the scan or certificate, the same upload rules as
  the tax form) and remove; each item's edit page is `web/credential_edit_pages.py`.
- `/account/documents`: every stored document with its signed, expiring link.

All through `contractors.service`, the functions the API's routes call. Another contractor's
licence or policy id is the same 404 page as one that does not exist; a refused form is shown
again with the domain's message and nothing is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from mindlinks.contractors import service as contractors
from mindlinks.contractors.schemas import InsuranceIn, LicenseIn
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import get_storage
from mindlinks.web.dash import Denied, form_of, not_found, parse_id, signed_in, text
from mindlinks.web.i18n import N_, gettext
from mindlinks.web.pages import discard, field_errors, redirect, refused, render

router = domain_router(include_in_schema=False)
DOCUMENTS_PER_PAGE = 50
COVERAGE = {"gl": N_("General liability"), "wc": N_("Workers' compensation"),
            "auto": N_("Auto"), "umbrella": N_("Umbrella")}
PROVIDERS = ("manual", "trustlayer", "veriforce")
DONE = {"submitted": N_("Tax form submitted for review."),
        "license-added": N_("Licence added."), "license-removed": N_("Licence removed."),
        "policy-added": N_("Insurance policy added."),
        "policy-removed": N_("Insurance policy removed."),
        "license-saved": N_("Licence saved."), "policy-saved": N_("Insurance policy saved.")}
# Values shown through the `status` filter that the shared list in web/i18n.py lacks.
STATUS_NAMES = [N_("pending review"), N_("individual"), N_("entity"), N_("manual"),
                N_("tax form"), N_("invoice"), N_("contract"), N_("license"),
                N_("insurance certificate")]


def document_of(form: Any) -> UploadFile | None:
    """The form's optional `document` file (a file input left empty sends no name)."""
    upload = form.get("document")
    return upload if isinstance(upload, UploadFile) and upload.filename else None


def _done(request: Request) -> str | None:
    done = request.query_params.get("done", "")
    return gettext(DONE[done]) if done in DONE else None


async def contractor(request: Request) -> Actor:
    return await signed_in(request, Role.CONTRACTOR)


async def run(request: Request, session: SessionDep, actor: Actor,
              action: Callable[[], Awaitable[Any]], done: str,
              again: Callable[[list[str], int], Awaitable[Response]]) -> Response:
    """One service action: an unknown or foreign id is the 404 page; a refusal renders the
    page again (`again`) with the domain's message, its work undone."""
    try:
        await action()
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc)
        return await again(field_errors(exc), status)
    return redirect(request, done)


# --- tax form -------------------------------------------------------------------------------


async def _tax_page(request: Request, session: SessionDep, actor: Actor, *,
                    errors: list[str] | None = None, form: dict[str, str] | None = None,
                    status_code: int = 200) -> Response:
    try:
        info = await contractors.latest_tax_info(session, actor)
    except NotFound:  # nothing submitted yet (or no profile: the form says so on submit)
        info = None
    view = await contractors.tax_info_out(get_storage(request.app.state), session, info) \
        if info is not None else None
    return render(request, "account/tax.html", {
        "info": view, "errors": errors, "form": form or {}, "done": _done(request),
    }, actor=actor, status_code=status_code)


@router.get("/account/tax", response_class=HTMLResponse)
async def tax_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    return await _tax_page(request, session, actor)


@router.post("/account/tax", response_class=HTMLResponse)
async def tax_submit(request: Request, session: SessionDep) -> Response:
    """A new submission (multipart): the form type is derived from the country and entity
    type by the service; a chosen type that disagrees is refused with its message."""
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    posted = {"tax_id": text(form, "tax_id", 41).strip(),
              "tax_country": text(form, "tax_country", 101).strip(),
              "entity_type": text(form, "entity_type", 20),
              "tax_form_type": text(form, "tax_form_type", 20)}
    upload = form.get("tax_form")

    async def again(errors: list[str], status: int) -> Response:
        return await _tax_page(request, session, actor, errors=errors, form=posted,
                               status_code=status)

    # The API's form limits (`Form(min_length=..., max_length=...)` and the Literal types).
    problems = []
    if not 1 <= len(posted["tax_id"]) <= 40:
        problems.append(gettext("Tax ID: 1 to 40 characters."))
    if not 2 <= len(posted["tax_country"]) <= 100:
        problems.append(gettext("Country of tax residence: a country name or code."))
    if posted["entity_type"] not in ("individual", "entity") or posted["tax_form_type"] not in (
            "", "W-9", "W-8BEN", "W-8BEN-E"):
        problems.append(gettext("Choose from the lists."))
    if not isinstance(upload, UploadFile) or not upload.filename:
        problems.append(gettext("Choose the signed form's file (PDF, JPEG or PNG)."))
    if problems:
        return await again(problems, 422)
    assert isinstance(upload, UploadFile)

    async def submit() -> None:
        await contractors.submit_tax_info(
            session, actor, get_storage(request.app.state), tax_id=posted["tax_id"],
            tax_country=posted["tax_country"], entity_type=posted["entity_type"],
            tax_form_type=posted["tax_form_type"] or None, upload=upload,
            filename=upload.filename)

    return await run(request, session, actor, submit, "/account/tax?done=submitted", again)


# --- licences and insurance -----------------------------------------------------------------


async def _credentials_page(request: Request, session: SessionDep, actor: Actor, *,
                            errors: list[str] | None = None,
                            license_form: dict[str, Any] | None = None,
                            policy_form: dict[str, Any] | None = None,
                            status_code: int = 200) -> Response:
    try:
        licenses = await contractors.list_licenses(session, actor)
        policies = await contractors.list_policies(session, actor)
    except NotFound:
        return not_found(request, actor)
    return render(request, "account/credentials.html", {
        "licenses": licenses, "policies": policies, "errors": errors,
        "license_form": license_form or {}, "policy_form": policy_form or {},
        "coverage": COVERAGE, "providers": PROVIDERS, "done": _done(request),
        "today": dt.date.today().isoformat(),
    }, actor=actor, status_code=status_code)


@router.get("/account/credentials", response_class=HTMLResponse)
async def credentials_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    return await _credentials_page(request, session, actor)


def date_field(value: str) -> dt.date | str | None:
    """A date field: empty -> None; anything else goes to the schema, which refuses a bad one."""
    return value.strip() or None


@router.post("/account/credentials/licenses", response_class=HTMLResponse)
async def add_license(request: Request, session: SessionDep) -> Response:
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    posted = {k: text(form, k, 110).strip() for k in ("state", "license_number",
                                                      "license_type", "expiration_date")}

    upload = document_of(form)

    async def add() -> None:
        body = LicenseIn.model_validate({
            "state": posted["state"], "license_number": posted["license_number"],
            "license_type": posted["license_type"] or None,
            "expiration_date": date_field(posted["expiration_date"])})
        row = await contractors.add_license(session, actor, body)
        if upload is not None:  # refused -> the licence is not kept either
            await contractors.attach_license_document(
                session, actor, get_storage(request.app.state), row.id, upload,
                upload.filename)

    async def again(errors: list[str], status: int) -> Response:
        return await _credentials_page(request, session, actor, errors=errors,
                                       license_form=posted, status_code=status)

    return await run(request, session, actor, add, "/account/credentials?done=license-added",
                      again)


@router.post("/account/credentials/insurance", response_class=HTMLResponse)
async def add_policy(request: Request, session: SessionDep) -> Response:
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    coverage = [c for c in form.getlist("coverage_types")[:8] if isinstance(c, str)]
    posted: dict[str, Any] = {
        "provider": text(form, "provider", 20) or "manual",
        "policy_number": text(form, "policy_number", 110).strip(),
        "expiration_date": text(form, "expiration_date", 20).strip(),
        "additional_insured": form.get("additional_insured") == "yes",
        "coverage_types": coverage}

    upload = document_of(form)

    async def add() -> None:
        body = InsuranceIn.model_validate(
            {**posted, "expiration_date": date_field(posted["expiration_date"])})
        row = await contractors.add_policy(session, actor, body)
        if upload is not None:
            await contractors.attach_policy_document(
                session, actor, get_storage(request.app.state), row.id, upload,
                upload.filename)

    async def again(errors: list[str], status: int) -> Response:
        return await _credentials_page(request, session, actor, errors=errors,
                                       policy_form=posted, status_code=status)

    return await run(request, session, actor, add, "/account/credentials?done=policy-added",
                      again)


@router.post("/account/credentials/{kind}/{item_id}/delete", response_class=HTMLResponse)
async def delete_credential(request: Request, session: SessionDep, kind: str,
                            item_id: str) -> Response:
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    await form_of(request)
    iid = parse_id(item_id)
    if iid is None or kind not in ("licenses", "insurance"):
        return not_found(request, actor)

    async def remove() -> None:
        if kind == "licenses":
            await contractors.delete_license(session, actor, iid)
        else:
            await contractors.delete_policy(session, actor, iid)

    async def again(errors: list[str], status: int) -> Response:
        return await _credentials_page(request, session, actor, errors=errors,
                                       status_code=status)

    done = "license-removed" if kind == "licenses" else "policy-removed"
    return await run(request, session, actor, remove, f"/account/credentials?done={done}",
                      again)


# --- documents ------------------------------------------------------------------------------


@router.get("/account/documents", response_class=HTMLResponse)
async def documents_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    raw = request.query_params.get("page", "1")[:6]
    page = int(raw) if raw.isdigit() and int(raw) > 0 else 1
    try:
        rows, total = await contractors.own_documents(
            session, actor, get_storage(request.app.state),
            offset=(page - 1) * DOCUMENTS_PER_PAGE, limit=DOCUMENTS_PER_PAGE)
    except NotFound:
        return not_found(request, actor)
    return render(request, "account/documents.html", {
        "documents": rows, "total": total, "page": page,
        "has_next": page * DOCUMENTS_PER_PAGE < total}, actor=actor)
