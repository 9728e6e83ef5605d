"""`/api/auth` routes: parse, call one service function, answer a schema."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response, status

from mindlinks.auth import service, sessions
from mindlinks.auth.schemas import (
    ForgotPasswordRequest,
    LoginRequest,
    Message,
    MfaChallenge,
    MfaCodeRequest,
    MfaConfirmed,
    MfaDisableRequest,
    MfaEnrollment,
    MfaLoginRequest,
    PasswordChangeRequest,
    RefreshRequest,
    Registered,
    RegisterRequest,
    ResetPasswordRequest,
    TokenPair,
    TokenRequest,
    User,
)
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.runtime import RuntimeDep
from mindlinks.platform.security import CurrentUser

router = domain_router(prefix="/api/auth", tags=["Auth Service"])
jwks_router = domain_router(tags=["Auth Service"])


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=Registered)
async def register(body: RegisterRequest, session: SessionDep, rt: RuntimeDep) -> Registered:
    user, pair = await service.register(session, rt, body)
    return Registered(user=User.model_validate(user), **pair.model_dump())


@router.post("/login", response_model=TokenPair | MfaChallenge)
async def login(body: LoginRequest, session: SessionDep, rt: RuntimeDep) -> Any:
    return await service.login(session, rt, body)


@router.post("/login/mfa", response_model=TokenPair)
async def login_mfa(body: MfaLoginRequest, session: SessionDep, rt: RuntimeDep) -> TokenPair:
    return await service.login_mfa(session, rt, body.mfa_token, body.code, body.recovery_code)


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshRequest, session: SessionDep, rt: RuntimeDep) -> TokenPair:
    return await sessions.refresh(session, rt, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(actor: CurrentUser, session: SessionDep) -> None:
    await sessions.logout(session, actor)


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(actor: CurrentUser, session: SessionDep) -> None:
    await sessions.logout_all(session, actor)


@router.get("/me", response_model=User)
async def me(actor: CurrentUser, request: Request) -> Response:
    # A read of one row: no session, no transaction (see service.me_json).
    return Response(await service.me_json(request.app.state.db, actor),
                    media_type="application/json")


@router.post("/password/change", response_model=Message)
async def change_password(
    body: PasswordChangeRequest, actor: CurrentUser, session: SessionDep, rt: RuntimeDep
) -> Message:
    await service.change_password(session, rt, actor, body.current_password, body.new_password)
    return Message(message="Password changed. Other sessions were signed out.")


@router.post("/password/forgot", status_code=status.HTTP_202_ACCEPTED, response_model=Message)
async def forgot_password(
    body: ForgotPasswordRequest, session: SessionDep, rt: RuntimeDep
) -> Message:
    await service.forgot_password(session, rt, body.email)
    return Message(message="If an account exists for this email, a reset link has been sent.")


@router.post("/password/reset", response_model=Message)
async def reset_password(
    body: ResetPasswordRequest, session: SessionDep, rt: RuntimeDep
) -> Message:
    await service.reset_password(session, rt, body.token, body.new_password)
    return Message(message="Password reset. Sign in with your new password.")


@router.post("/email/verify", response_model=Message)
async def verify_email(body: TokenRequest, session: SessionDep) -> Message:
    await service.verify_email(session, body.token)
    return Message(message="Email verified.")


@router.post("/email/resend", status_code=status.HTTP_202_ACCEPTED, response_model=Message)
async def resend_verification(actor: CurrentUser, session: SessionDep, rt: RuntimeDep) -> Message:
    await service.resend_verification(session, rt, actor)
    return Message(message="A new verification email has been sent.")


@router.post("/mfa/totp/enroll", response_model=MfaEnrollment)
async def mfa_enroll(actor: CurrentUser, session: SessionDep) -> MfaEnrollment:
    return await service.mfa_enroll(session, actor)


@router.post("/mfa/totp/confirm", response_model=MfaConfirmed)
async def mfa_confirm(
    body: MfaCodeRequest, actor: CurrentUser, session: SessionDep
) -> MfaConfirmed:
    return await service.mfa_confirm(session, actor, body.code)


@router.post("/mfa/totp/disable", status_code=status.HTTP_204_NO_CONTENT)
async def mfa_disable(body: MfaDisableRequest, actor: CurrentUser, session: SessionDep) -> None:
    await service.mfa_disable(session, actor, body.code, body.password)


@jwks_router.get("/.well-known/jwks.json")
async def jwks(request: Request, rt: RuntimeDep) -> dict[str, Any]:
    return rt.keys.jwks()


routers = [jwks_router, router]
