"""One licence's or insurance policy's edit page, and its document.

- `GET/POST /account/credentials/{licenses|insurance}/{id}`: the item's fields in the API's
  update body (`LicenseUpdate` / `InsuranceUpdate`, the service `PUT
  /api/contractors/me/{licenses|insurance-policies}/{id}` calls) plus an optional document
  (PDF/JPEG/PNG: the service `PUT .../{id}/document` calls, the documents' one upload path).
  Fields and document are one transaction: a refused document keeps the fields unchanged too.
  A real change of the fields, or a new document, sends a reviewed item back to review
  (licence `unverified`, policy `pending`); saving it unchanged keeps the verdict.
- `GET /account/credentials/{licenses|insurance}/{id}/document`: 303 to the document's signed,
  expiring link, after the owner check.

Another contractor's id, a malformed one and a missing one are the same 404 page.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from mindlinks.contractors import service as contractors
from mindlinks.contractors.schemas import InsuranceUpdate, LicenseUpdate
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import NotFound
from mindlinks.platform.security import Actor
from mindlinks.platform.storage import get_storage
from mindlinks.web.credential_pages import (
    COVERAGE,
    PROVIDERS,
    contractor,
    date_field,
    document_of,
    run,
)
from mindlinks.web.dash import Denied, form_of, not_found, parse_id, text
from mindlinks.web.pages import redirect, render

router = domain_router(include_in_schema=False)
KINDS = ("licenses", "insurance")
BASE = "/account/credentials"


async def _item(session: SessionDep, actor: Actor, kind: str, iid: uuid.UUID) -> Any:
    if kind == "licenses":
        return await contractors.get_license(session, actor, iid)
    return await contractors.get_policy(session, actor, iid)


def _form_of(kind: str, item: Any) -> dict[str, Any]:
    if kind == "licenses":
        return {"state": item.state, "license_number": item.license_number,
                "license_type": item.license_type or "",
                "expiration_date": item.expiration_date.isoformat()
                if item.expiration_date else ""}
    return {"provider": item.provider, "policy_number": item.policy_number,
            "expiration_date": item.expiration_date.isoformat(),
            "coverage_types": list(item.coverage_types),
            "additional_insured": item.additional_insured}


def _posted(kind: str, form: Any) -> dict[str, Any]:
    if kind == "licenses":
        return {k: text(form, k, 110).strip() for k in ("state", "license_number",
                                                       "license_type", "expiration_date")}
    return {"provider": text(form, "provider", 20) or "manual",
            "policy_number": text(form, "policy_number", 110).strip(),
            "expiration_date": text(form, "expiration_date", 20).strip(),
            "additional_insured": form.get("additional_insured") == "yes",
            "coverage_types": [c for c in form.getlist("coverage_types")[:8]
                               if isinstance(c, str)]}


async def _edit_page(request: Request, session: SessionDep, actor: Actor, kind: str,
                     iid: uuid.UUID, *, errors: list[str] | None = None,
                     form: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    try:
        item = await _item(session, actor, kind, iid)
    except NotFound:
        return not_found(request, actor)
    return render(request, "account/credential_edit.html", {
        "kind": kind, "item": item, "form": form or _form_of(kind, item), "errors": errors,
        "coverage": COVERAGE, "providers": PROVIDERS,
        "status": item.status if kind == "licenses" else item.verification_status,
        "action": f"{BASE}/{kind}/{iid}"}, actor=actor, status_code=status_code)


@router.get(BASE + "/{kind}/{item_id}", response_class=HTMLResponse)
async def edit_page(request: Request, session: SessionDep, kind: str, item_id: str) -> Response:
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    iid = parse_id(item_id)
    if iid is None or kind not in KINDS:
        return not_found(request, actor)
    return await _edit_page(request, session, actor, kind, iid)


@router.post(BASE + "/{kind}/{item_id}", response_class=HTMLResponse)
async def save(request: Request, session: SessionDep, kind: str, item_id: str) -> Response:
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)  # CSRF first: nothing below runs without the token
    iid = parse_id(item_id)
    if iid is None or kind not in KINDS:
        return not_found(request, actor)
    posted = _posted(kind, form)
    upload: UploadFile | None = document_of(form)
    storage = get_storage(request.app.state)

    async def update() -> None:
        # Both bodies are validated before anything is written.
        if kind == "licenses":
            body = LicenseUpdate.model_validate({
                "state": posted["state"], "license_number": posted["license_number"],
                "license_type": posted["license_type"] or None,
                "expiration_date": date_field(posted["expiration_date"])})
            await contractors.update_license(session, actor, iid, body)
            if upload is not None:
                await contractors.attach_license_document(session, actor, storage, iid,
                                                          upload, upload.filename)
        else:
            policy = InsuranceUpdate.model_validate(
                {**posted, "expiration_date": date_field(posted["expiration_date"])})
            await contractors.update_policy(session, actor, iid, policy)
            if upload is not None:
                await contractors.attach_policy_document(session, actor, storage, iid,
                                                         upload, upload.filename)

    async def again(errors: list[str], status: int) -> Response:
        return await _edit_page(request, session, actor, kind, iid, errors=errors,
                                form=posted, status_code=status)

    done = "license-saved" if kind == "licenses" else "policy-saved"
    return await run(request, session, actor, update, f"{BASE}?done={done}", again)


@router.get(BASE + "/{kind}/{item_id}/document")
async def open_document(request: Request, session: SessionDep, kind: str,
                        item_id: str) -> Response:
    """The document's signed, expiring link (303), for its owner only."""
    try:
        actor = await contractor(request)
    except Denied as denied:
        return denied.response
    iid = parse_id(item_id)
    if iid is None or kind not in KINDS:
        return not_found(request, actor)
    storage = get_storage(request.app.state)
    try:
        if kind == "licenses":
            document = await contractors.license_document(session, actor, storage, iid)
        else:
            document = await contractors.policy_document(session, actor, storage, iid)
    except NotFound:
        return not_found(request, actor)
    return redirect(request, document.download_url)
