"""`/profile`: the signed-in user's account facts, and for a contractor the profile form and
the avatar (issue 15 §2 "profile + avatar"; the mailed `/profile` link lands here).

- The form is `PUT /api/contractors/me`'s body (`ProfileUpdate`) and service
  (`contractors.service.update_profile`): the same limits, E.164 phone, an active country of
  the country rules, an IANA time zone, an ISO address country, the same error codes and the
  same audit line and event. Every field is sent: an emptied optional field is cleared; the
  name cannot be emptied. A refused form is shown again with what was typed and each field's
  error next to it (in the page's language); nothing is kept.
- The avatar is `POST /api/contractors/me/avatar`'s service (`set_avatar`: JPEG/PNG/WebP by
  content, 5 MiB, 16 megapixels, re-encoded into a 512 px WebP on the CPU pool, the old file
  deleted after commit). `GET /profile/avatar` serves it from this origin to its owner (the
  pages' CSP allows images from this origin only; a presigned S3 URL is another one).
- Both forms carry the CSRF token and a key made once per rendered form
  (`platform.idempotency.claim`): the same form posted twice replays the first answer.

Another role gets the account facts only; its POSTs and the avatar are the 404 page.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from mindlinks.auth import service as auth_service
from mindlinks.contractors import service as contractors
from mindlinks.contractors.schemas import ProfileUpdate
from mindlinks.countries import service as countries
from mindlinks.platform import idempotency
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.offload import run_cpu
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import get_storage
from mindlinks.web import sessions
from mindlinks.web.company_pages import logo_version
from mindlinks.web.dash import Denied, form_of, not_found, private_image, signed_in, text
from mindlinks.web.i18n import N_, gettext
from mindlinks.web.pages import by_field, field_errors, redirect, refused, render, to_login

router = domain_router(include_in_schema=False)
PAGE = "/profile"
AVATAR = PAGE + "/avatar"
# The form's fields and the request model's limits (+1: a longer value is refused by the
# schema, never silently cut). `address_*` are the model's `address.*`.
FIELDS = {"name": 200, "first_name": 100, "last_name": 100, "phone": 40, "country": 2,
          "timezone": 64, "legal_name": 200, "dba_name": 200, "website": 300}
ADDRESS = {"line1": 200, "line2": 200, "city": 100, "state": 100, "postal_code": 20,
           "country": 2}
DONE = {"saved": N_("Profile saved."), "avatar": N_("Photo saved.")}


def _posted(form: Any) -> dict[str, str]:
    values = {name: text(form, name, limit + 1).strip() for name, limit in FIELDS.items()}
    values |= {f"address_{name}": text(form, f"address_{name}", limit + 1).strip()
               for name, limit in ADDRESS.items()}
    values["idempotency_key"] = text(form, "idempotency_key", 40)
    return values


def _body(posted: dict[str, str]) -> ProfileUpdate:
    """Every field sent: empty clears an optional one (the name's empty value is refused)."""
    data: dict[str, Any] = {name: posted[name] or None for name in FIELDS}
    data["name"] = posted["name"]
    data["address"] = {name: posted[f"address_{name}"] or None for name in ADDRESS}
    return ProfileUpdate.model_validate(data)


def _form_of(profile: Any) -> dict[str, str]:
    values = {name: getattr(profile, name) or "" for name in FIELDS}
    address = profile.address
    values |= {f"address_{name}": getattr(address, name) or "" for name in ADDRESS}
    return values


async def _page(request: Request, session: SessionDep, actor: Actor, *,
                form: dict[str, str] | None = None, errors: list[str] | None = None,
                status_code: int = 200) -> Response:
    user = await auth_service.get_user(session, actor)
    context: dict[str, Any] = {"user": user, "profile": None}
    if actor.role == Role.CONTRACTOR:
        row = await contractors.profile_by_user(session, actor.user_id)
        if row is not None:
            profile = await contractors.profile_out(session, get_storage(request.app.state),
                                                    row)
            values = {**_form_of(profile), **(form or {})}
            # One key per rendered form: the same form posted again replays its answer.
            values["idempotency_key"] = values.get("idempotency_key") or str(uuid.uuid4())
            general, per_field = by_field(errors or [], values)
            if per_field:
                general.insert(0, gettext("Check the fields marked below."))
            done = request.query_params.get("done", "")
            context |= {
                "profile": profile, "form": values, "field_errors": per_field,
                "avatar_version": logo_version(row.avatar_key),
                "avatar_key": str(uuid.uuid4()),
                "countries": await countries.active_countries(session),
                "done": gettext(DONE[done]) if done in DONE else None}
            errors = general
    return render(request, "profile.html", {**context, "errors": errors}, actor=actor,
                  status_code=status_code)


@router.get(PAGE, response_class=HTMLResponse)
async def profile_page(request: Request, session: SessionDep) -> Response:
    actor = await sessions.browser_actor(request)
    if actor is None:
        return to_login(request)
    return await _page(request, session, actor)


@router.post(PAGE, response_class=HTMLResponse)
async def save_profile(request: Request, session: SessionDep) -> Response:
    try:
        actor = await signed_in(request, Role.CONTRACTOR)
    except Denied as denied:
        return denied.response
    await request.body()  # kept: the idempotency hash reads it after the form parser
    posted = _posted(await form_of(request))  # 403 `csrf_failed` before anything runs
    try:
        body = _body(posted)
        await idempotency.claim(request, actor, posted["idempotency_key"])
        await contractors.update_profile(session, actor, body)
    except contractors.ContractorNotFound:
        return not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc)
        request.state.before_commit = []  # nothing is memoised for a refused request
        return await _page(request, session, actor, form=posted, errors=field_errors(exc),
                           status_code=status)
    return redirect(request, f"{PAGE}?done=saved")


def _file_digest(file: Any) -> bytes:
    """The uploaded file's SHA-256 (on the CPU pool: up to the upload limit is read), the
    file left at its start for the upload itself: what identifies one send of the form."""
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(1 << 20):
        digest.update(chunk)
    file.seek(0)
    return digest.digest()


@router.post(AVATAR, response_class=HTMLResponse)
async def upload_avatar(request: Request, session: SessionDep) -> Response:
    try:
        actor = await signed_in(request, Role.CONTRACTOR)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    upload = form.get("avatar")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _page(request, session, actor, status_code=422,
                           errors=[gettext("Choose an image (JPEG, PNG or WebP).")])
    try:
        await idempotency.claim(request, actor, text(form, "idempotency_key", 40),
                                content=await run_cpu(_file_digest, upload.file))
        await contractors.set_avatar(session, actor, get_storage(request.app.state), upload,
                                     upload.filename)
    except contractors.ContractorNotFound:
        return not_found(request, actor)
    except DomainError as exc:  # not an image, too large, too many pixels, undecodable
        status = await refused(session, exc)
        request.state.before_commit = []
        return await _page(request, session, actor, errors=field_errors(exc),
                           status_code=status)
    return redirect(request, f"{PAGE}?done=avatar")


@router.get(AVATAR)
async def avatar(request: Request, session: SessionDep) -> Response:
    """The contractor's own avatar (re-encoded WebP), from this origin."""
    try:
        actor = await signed_in(request, Role.CONTRACTOR)
    except Denied as denied:
        return denied.response
    try:
        data, mime = await contractors.own_avatar(session, actor, get_storage(request.app.state))
    except NotFound:
        return not_found(request, actor)
    return private_image(request, data, mime)
