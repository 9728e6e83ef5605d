"""Public pages: sign-in (with the MFA step), sign-up, sign-out, and the pages the mails link
to (`/verify-email?token=`, `/reset-password?token=`, `/invitations/{token}`)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mindlinks.auth import service as auth_service
from mindlinks.auth.schemas import (
    ForgotPasswordRequest,
    LoginRequest,
    MfaChallenge,
    RegisterRequest,
    TokenPair,
)
from mindlinks.clients import service as clients
from mindlinks.clients.schemas import AcceptInvitation
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import DomainError
from mindlinks.platform.runtime import RuntimeDep
from mindlinks.platform.storage import get_storage
from mindlinks.web import i18n, sessions
from mindlinks.web.pages import discard, field_errors, redirect, render, safe_next

router = domain_router(include_in_schema=False)
MAX_FIELD = 1024  # no form field of these pages needs more


def _text(form: FormData, name: str, limit: int = MAX_FIELD) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


async def _form(request: Request) -> FormData:
    form = await request.form()
    sessions.check_csrf(request, form)
    return form


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> Response:
    actor = await sessions.browser_actor(request)
    if actor is not None:
        return redirect(request, safe_next(next))
    return render(request, "login.html", {"next": safe_next(next), "email": ""})


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    form = await _form(request)
    email, target = _text(form, "email", 320), safe_next(_text(form, "next", 500))
    try:
        result = await auth_service.login(
            session, rt, LoginRequest(email=email, password=_text(form, "password")))
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        errors = field_errors(exc) if isinstance(exc, DomainError) else [
            i18n.gettext("Invalid email or password")]
        return render(request, "login.html", {"next": target, "email": email,
                                              "errors": errors}, status_code=400)
    if isinstance(result, MfaChallenge):
        return render(request, "login_mfa.html", {"next": target,
                                                  "mfa_token": result.mfa_token})
    response = redirect(request, target)
    sessions.sign_in(request, response, result)
    return response


@router.post("/login/mfa", response_class=HTMLResponse)
async def login_mfa_submit(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    form = await _form(request)
    target, mfa_token = safe_next(_text(form, "next", 500)), _text(form, "mfa_token", 4096)
    code, recovery = _text(form, "code", 20).strip(), _text(form, "recovery_code", 64).strip()
    try:
        pair = await auth_service.login_mfa(session, rt, mfa_token, code or None,
                                            recovery or None)
    except DomainError as exc:
        await discard(session, exc)
        return render(request, "login_mfa.html", {
            "next": target, "mfa_token": mfa_token, "errors": field_errors(exc)},
            status_code=400)
    response = redirect(request, target)
    sessions.sign_in(request, response, pair)
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    form = await _form(request)
    del form
    actor = await sessions.browser_actor(request)
    if actor is not None:
        await auth_service.logout(session, actor)
    request.state.renewed = None  # a token renewed just now must not be stored again
    response = redirect(request, "/login")
    sessions.sign_out(request, response)
    return response


@router.get("/signup", response_class=HTMLResponse)
async def signup_page(request: Request) -> Response:
    return render(request, "signup.html", {"role": "contractor", "email": "", "name": ""})


@router.post("/signup", response_class=HTMLResponse)
async def signup_submit(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    form = await _form(request)
    email, name, role = _text(form, "email", 320), _text(form, "name", 200), _text(form, "role")
    try:
        data = RegisterRequest.model_validate({
            "email": email, "password": _text(form, "password"), "role": role,
            "name": name or None})
        _user, pair = await auth_service.register(session, rt, data)
    except (DomainError, ValidationError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        return render(request, "signup.html", {
            "role": role, "email": email, "name": name, "errors": field_errors(exc)},
            status_code=400)
    response = redirect(request, "/?welcome=1")
    sessions.sign_in(request, response, pair)
    return response


@router.get("/verify-email", response_class=HTMLResponse)
async def verify_email(request: Request, session: SessionDep, token: str = "") -> Response:
    """The link in the welcome mail: a GET that consumes the single-use token. Mail scanners
    that prefetch links would use it up too, but the result is the same: verified."""
    try:
        await auth_service.verify_email(session, token[:200])
    except DomainError as exc:
        await discard(session, exc)
        return render(request, "verify_email.html", {"ok": False, "detail": exc.detail},
                      actor=await sessions.browser_actor(request), status_code=400)
    return render(request, "verify_email.html", {"ok": True},
                  actor=await sessions.browser_actor(request))


@router.get("/forgot-password", response_class=HTMLResponse)
async def forgot_page(request: Request) -> Response:
    return render(request, "forgot_password.html", {"sent": False})


@router.post("/forgot-password", response_class=HTMLResponse)
async def forgot_submit(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    form = await _form(request)
    # Same answer whether or not the account exists (as `POST /api/auth/forgot-password`).
    # The address goes through the API's request model first: raw form text with a NUL
    # reached the user lookup, and PostgreSQL refuses NUL in a query (a 500). Text the
    # model refuses can belong to no account, so it gets the same answer and no mail.
    try:
        email = ForgotPasswordRequest(email=_text(form, "email", 320)).email
    except ValidationError:
        return render(request, "forgot_password.html", {"sent": True})
    await auth_service.forgot_password(session, rt, email)
    return render(request, "forgot_password.html", {"sent": True})


@router.get("/reset-password", response_class=HTMLResponse)
async def reset_page(request: Request, token: str = "") -> Response:
    return render(request, "reset_password.html", {"token": token[:200], "done": False})


@router.post("/reset-password", response_class=HTMLResponse)
async def reset_submit(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    form = await _form(request)
    token, password = _text(form, "token", 200), _text(form, "password")
    if password != _text(form, "password_confirm"):
        return render(request, "reset_password.html", {
            "token": token, "done": False, "errors": [i18n.gettext("The two passwords differ")]},
            status_code=400)
    try:
        await auth_service.reset_password(session, rt, token, password)
    except DomainError as exc:
        await discard(session, exc)
        return render(request, "reset_password.html", {
            "token": token, "done": False, "errors": field_errors(exc)}, status_code=400)
    return render(request, "reset_password.html", {"token": "", "done": True})


@router.get("/invitations/{token}", response_class=HTMLResponse)
async def invitation_page(
    request: Request, session: SessionDep, rt: RuntimeDep, token: str
) -> Response:
    actor = await sessions.browser_actor(request)
    try:
        invitation = await clients.invitations.view(session, rt, get_storage(request.app.state),
                                            token[:200])
    except DomainError as exc:
        await discard(session, exc)
        return render(request, "invitation.html", {"invitation": None, "detail": exc.detail},
                      actor=actor, status_code=exc.status)
    return render(request, "invitation.html", {"invitation": invitation, "token": token},
                  actor=actor)


@router.post("/invitations/{token}", response_class=HTMLResponse)
async def invitation_accept(
    request: Request, session: SessionDep, rt: RuntimeDep, token: str
) -> Response:
    form = await _form(request)
    actor = await sessions.browser_actor(request)
    try:
        data = None if actor else AcceptInvitation(
            password=_text(form, "password") or None, name=_text(form, "name", 200) or None)
        result, _created = await clients.invitations.accept(session, rt, token[:200], actor, data)
    except (DomainError, ValidationError) as exc:
        status = 400
        if isinstance(exc, DomainError):
            await discard(session, exc)
            status = exc.status
        return render(request, "invitation.html", {
            "invitation": None, "detail": "; ".join(field_errors(exc)), "token": token},
            actor=actor, status_code=status)
    response = redirect(request, "/?joined=1")
    if result.access_token and result.refresh_token and result.expires_in:
        sessions.sign_in(request, response, TokenPair(
            access_token=result.access_token, refresh_token=result.refresh_token,
            expires_in=result.expires_in))
    return response
