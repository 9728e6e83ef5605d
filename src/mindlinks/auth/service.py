"""The auth domain's public API: accounts, logins, passwords, email verification, MFA.

Every function takes the session first, flushes but never commits, and records an audit
line for each state change. Unknown emails and wrong passwords are indistinguishable
(same status, body and argon2 cost).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth import mfa, revocations, throttle
from mindlinks.auth import page_reads as page_reads
from mindlinks.auth import repository as repo
from mindlinks.auth.models import EmailVerification, PasswordReset, UserStatus
from mindlinks.auth.models import User as User
from mindlinks.auth.passwords import (
    burn_password_check,
    check_new_password,
    hash_password,
    verify_password,
)
from mindlinks.auth.schemas import (
    LoginRequest,
    MfaChallenge,
    MfaConfirmed,
    MfaEnrollment,
    RegisterRequest,
    TokenPair,
)
from mindlinks.auth.schemas import User as UserOut
from mindlinks.auth.sessions import AccountSuspended, start_login

# The browser session's sign-out and token renewal (web/auth_pages.py, web/sessions.py): the
# functions `POST /api/auth/logout` and `/refresh` call.
from mindlinks.auth.sessions import logout as logout
from mindlinks.auth.sessions import refresh as refresh

# Public API for higher domains (they may import only `service`/`schemas`): the claims
# registration and the user row type that registration hooks and claims providers receive.
from mindlinks.auth.sessions import register_claims_provider as register_claims_provider
from mindlinks.platform import audit
from mindlinks.platform.api import RowSerializer
from mindlinks.platform.db import Database, after_commit, utcnow
from mindlinks.platform.errors import (
    BadRequest,
    Conflict,
    ForbiddenRole,
    NotFound,
    PermissionDenied,
    Unauthorized,
)
from mindlinks.platform.errors import (
    InvalidToken as InvalidAccessToken,
)
from mindlinks.platform.events import emit
from mindlinks.platform.ratelimit import enforce
from mindlinks.platform.runtime import Runtime
from mindlinks.platform.security import (
    MFA_PENDING,
    Actor,
    Role,
    keyed_hash,
    password_needs_rehash,
    token_digest,
)
from mindlinks.settings import Settings

# Higher domains create their profile in the registration transaction (so the first token
# already carries contractorId / clientId) by registering a hook at start-up.
RegistrationHook = Callable[[AsyncSession, User], Awaitable[None]]
_registration_hooks: list[RegistrationHook] = []


def register_registration_hook(hook: RegistrationHook) -> None:
    if hook not in _registration_hooks:
        _registration_hooks.append(hook)


class InvalidCredentials(Unauthorized):
    code, title = "invalid_credentials", "Invalid email or password"


class EmailTaken(Conflict):
    code = "email_taken"


class InvalidToken(BadRequest):
    code, title = "invalid_or_expired_token", "Invalid or expired token"


class InvalidCurrentPassword(BadRequest):
    code, title = "invalid_current_password", "The current password is wrong"


class EmailAlreadyVerified(Conflict):
    code, title = "email_already_verified", "The email is already verified"


class MfaAlreadyEnabled(Conflict):
    code, title = "mfa_already_enabled", "MFA is already enabled"


class MfaNotEnrolled(Conflict):
    code, title = "mfa_not_enrolled", "Start the enrolment first"


class MfaNotEnabled(Conflict):
    code, title = "mfa_not_enabled", "MFA is not enabled"


class MfaRequiredForAdmins(PermissionDenied):
    code, title = "mfa_required_for_admins", "Administrators cannot disable MFA"


# --- accounts --------------------------------------------------------------------------


async def register(
    session: AsyncSession, rt: Runtime, data: RegisterRequest
) -> tuple[User, TokenPair]:
    """Create a client or contractor account and sign it in. Admins are only created by
    `mindlinks create-admin`. Limited per address and in total per hour."""
    await throttle.take_registration_budget(rt)
    email = repo.normalize_email(data.email)
    await check_new_password(rt.settings, data.password, email)
    if await repo.user_by_email(session, email) is not None:
        raise EmailTaken("An account with this email already exists")
    user = User(
        id=uuid.uuid4(), email=email, password_hash=await hash_password(data.password),
        role=data.role, name=data.name, status=UserStatus.ACTIVE, password_changed_at=utcnow(),
    )
    session.add(user)
    await session.flush()
    for hook in _registration_hooks:
        await hook(session, user)
    await audit.record(session, user.id, "auth.user.registered", "auth_user", user.id,
                       {"role": user.role})
    await emit(session, "auth.user.registered",
               {"userId": user.id, "role": user.role, "email": user.email, "name": user.name})
    await _send_verification(session, rt, user)
    return user, await start_login(session, rt, user, ["pwd"])


async def get_user(session: AsyncSession, actor: Actor) -> User:
    user = await repo.user_by_id(session, actor.user_id)
    if user is None:
        raise NotFound("User not found")
    return user


_ME = RowSerializer(UserOut)
_ME_QUERY = repo.public_user_query(_ME.columns)


async def me_json(db: Database, actor: Actor) -> bytes:
    """The actor's own account as `User` JSON: one compiled query, serialised straight from
    the row (nothing to validate: the server just read it)."""
    row = await repo.public_user(db, _ME_QUERY, actor.user_id)
    if row is None:
        raise NotFound("User not found")
    return _ME.dumps(row)


@dataclass(frozen=True)
class UserContact:
    """How to reach a user (for notifications): no secrets, no credentials."""

    user_id: uuid.UUID
    email: str
    name: str | None
    role: str
    active: bool


async def get_user_contact(session: AsyncSession, user_id: uuid.UUID) -> UserContact | None:
    """The user's address book entry, or None for an unknown id. Read-only."""
    user = await repo.user_by_id(session, user_id)
    if user is None:
        return None
    return UserContact(user.id, user.email, user.name, user.role,
                       user.status == UserStatus.ACTIVE)


async def set_user_status(
    session: AsyncSession, actor: Actor, user_id: uuid.UUID, status: UserStatus
) -> User:
    """Suspend or reactivate an account (admins). Suspension ends every login at once."""
    if not actor.is_admin:
        raise ForbiddenRole("Administrators only")
    user = await repo.user_by_id(session, user_id)
    if user is None:
        raise NotFound("User not found")
    user.status = status
    revoked = revocations.of(session)
    if status == UserStatus.SUSPENDED:
        if revoked is not None:
            await revoked.publish(suspend=[user.id])
        await repo.revoke_user_sessions(session, user.id, utcnow(), "suspended")
    elif revoked is not None and revoked.is_suspended(user.id):
        lifted = revoked

        async def _lift() -> None:  # only once the reactivation is committed
            await lifted.publish(unsuspend=[user_id])

        after_commit(session, _lift)
    await audit.record(session, actor, "auth.user.status_changed", "auth_user", user.id,
                       {"status": str(status)})
    return user


async def create_admin(
    session: AsyncSession, settings: Settings, email: str, password: str, name: str | None = None
) -> tuple[User, str, list[str]]:
    """An administrator with TOTP already enrolled: (user, otpauth URI, recovery codes)."""
    email = repo.normalize_email(email)
    await check_new_password(settings, password, email)
    if await repo.user_by_email(session, email) is not None:
        raise EmailTaken("An account with this email already exists")
    secret = mfa.new_secret()
    user = User(
        id=uuid.uuid4(), email=email, password_hash=await hash_password(password), role=Role.ADMIN,
        name=name, status=UserStatus.ACTIVE, email_verified=True, mfa_enabled=True,
        password_changed_at=utcnow(),
    )
    await mfa.store_secret(session, user, secret)
    session.add(user)
    await session.flush()
    codes = await mfa.issue_recovery_codes(session, user)
    await audit.record(session, None, "auth.admin.created", "auth_user", user.id)
    return user, mfa.provisioning_uri(secret, email), codes


# --- login -----------------------------------------------------------------------------


async def login(
    session: AsyncSession, rt: Runtime, data: LoginRequest
) -> TokenPair | MfaChallenge:
    """Check the password; a token pair, or an MFA challenge for users with TOTP enrolled.
    5 attempts per account (per known address, see `throttle`) or 20 per IP in 15 minutes,
    taken before the password is checked; then 429 with Retry-After."""
    email = repo.normalize_email(data.email)
    user = await repo.user_by_email(session, email)
    budget = await throttle.take_login_budget(session, rt, email, user)
    if user is None:
        await burn_password_check(data.password)
        ok = False
    else:
        ok = await verify_password(user.password_hash, data.password)
    if not ok or user is None:
        await audit.record(session, user.id if user else None, "auth.login.failed", "auth_user",
                           user.id if user else None, {"emailHash": keyed_hash(rt.secret, email)})
        raise InvalidCredentials("Invalid email or password", persist=True)
    await throttle.login_succeeded(rt, budget)
    if password_needs_rehash(user.password_hash):
        user.password_hash = await hash_password(data.password)
    if user.status == UserStatus.SUSPENDED:
        raise AccountSuspended("This account is suspended")
    if user.mfa_enabled:
        token = rt.tokens.issue(subject=user.id, token_type=MFA_PENDING,
                                ttl_seconds=rt.settings.mfa_token_ttl_seconds, claims={})
        return MfaChallenge(mfa_token=token)
    await audit.record(session, user.id, "auth.login", "auth_user", user.id)
    return await start_login(session, rt, user, ["pwd"])


async def login_mfa(
    session: AsyncSession, rt: Runtime, mfa_token: str, code: str | None,
    recovery_code: str | None,
) -> TokenPair:
    """Second step of an MFA login: a TOTP code (never accepted twice) or a recovery code."""
    claims = rt.tokens.verify(mfa_token, token_type=MFA_PENDING)
    user = await repo.user_by_id(session, uuid.UUID(claims["sub"]))
    if user is None or not user.mfa_enabled:
        raise InvalidAccessToken("Invalid token")
    if user.status == UserStatus.SUSPENDED:
        raise AccountSuspended("This account is suspended")
    await enforce(rt.limiter, f"mfa:{user.id}", limit=rt.settings.login_failures_per_account,
                  window=rt.settings.login_window_seconds)
    if code:
        await mfa.verify_code(session, user, code)
    elif recovery_code:
        await mfa.use_recovery_code(session, user, recovery_code)
    else:
        raise mfa.InvalidMfaCode("A code or a recovery code is required")
    await rt.limiter.reset(f"mfa:{user.id}")
    await audit.record(session, user.id, "auth.login", "auth_user", user.id,
                       {"mfa": "totp" if code else "recovery_code"})
    return await start_login(session, rt, user, ["pwd", "otp"])


# --- passwords -------------------------------------------------------------------------


async def change_password(
    session: AsyncSession, rt: Runtime, actor: Actor, current_password: str, new_password: str
) -> None:
    """Change the password; every other login of the user ends."""
    user = await get_user(session, actor)
    if not await verify_password(user.password_hash, current_password):
        raise InvalidCurrentPassword("The current password is wrong")
    await check_new_password(rt.settings, new_password, user.email, field="newPassword")
    user.password_hash = await hash_password(new_password)
    user.password_changed_at = utcnow()
    now = utcnow()
    for family in await repo.live_family_ids(session, user.id) - {actor.session_id}:
        await repo.revoke_family(session, family, now, "password_changed")
    await audit.record(session, actor, "auth.password.changed", "auth_user", user.id)


async def forgot_password(session: AsyncSession, rt: Runtime, email: str) -> None:
    """Mail a reset link if the account exists. The caller answers 202 either way."""
    email = repo.normalize_email(email)
    if not await throttle.take_reset_mail_budget(rt, email):
        return
    user = await repo.user_by_email(session, email)
    if user is None or user.status == UserStatus.SUSPENDED:
        return
    now = utcnow()
    await repo.invalidate_password_resets(session, user.id, now)
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(
        user_id=user.id, token_hash=token_digest(token),
        expires_at=now + timedelta(seconds=rt.settings.password_reset_ttl_seconds),
    ))
    await audit.record(session, user.id, "auth.password.reset_requested", "auth_user", user.id)
    # The link's host is fixed by settings, never taken from the request's Host header.
    link = f"{rt.settings.resolved_public_url}/reset-password?token={token}"
    minutes = rt.settings.password_reset_ttl_seconds // 60
    to = user.email

    async def _mail() -> None:
        rt.mailer.send_later(
            to=to, subject="Reset your Mind-Links password",
            text=(f"Someone asked to reset the password of your Mind-Links account.\n\n"
                  f"To choose a new password, open this link within {minutes} minutes:\n"
                  f"{link}\n\nIf it was not you, ignore this message; nothing changes."),
        )

    after_commit(session, _mail)


async def reset_password(
    session: AsyncSession, rt: Runtime, token: str, new_password: str
) -> None:
    """Set a new password with a reset token (single use, 30 minutes). Every login of the
    user ends; an administrator still needs MFA at the next login."""
    now = utcnow()
    reset = await repo.live_password_reset(session, token_digest(token), now)
    if reset is None or not await repo.consume_password_reset(session, reset.id, now):
        raise InvalidToken("This reset link is invalid or has expired")
    user = await repo.user_by_id(session, reset.user_id)
    assert user is not None
    await check_new_password(rt.settings, new_password, user.email, field="newPassword")
    user.password_hash = await hash_password(new_password)
    user.password_changed_at = now
    await repo.revoke_user_sessions(session, user.id, now, "password_reset")
    await repo.invalidate_password_resets(session, user.id, now)
    await audit.record(session, user.id, "auth.password.reset", "auth_user", user.id)


# --- email verification ------------------------------------------------------------------


async def _send_verification(session: AsyncSession, rt: Runtime, user: User) -> None:
    token = secrets.token_urlsafe(32)
    session.add(EmailVerification(
        user_id=user.id, token_hash=token_digest(token),
        expires_at=utcnow() + timedelta(seconds=rt.settings.email_verification_ttl_seconds),
    ))
    await session.flush()
    link = f"{rt.settings.resolved_public_url}/verify-email?token={token}"
    to = user.email

    async def _mail() -> None:
        rt.mailer.send_later(
            to=to, subject="Confirm your email for Mind-Links",
            text=f"Welcome to Mind-Links.\n\nConfirm your email address:\n{link}\n",
        )

    after_commit(session, _mail)


async def verify_email(session: AsyncSession, token: str) -> None:
    user_id = await repo.consume_email_verification(session, token_digest(token), utcnow())
    if user_id is None:
        raise InvalidToken("This verification link is invalid or has expired")
    user = await repo.user_by_id(session, user_id)
    assert user is not None
    user.email_verified = True
    if user.status == UserStatus.INACTIVE:
        user.status = UserStatus.ACTIVE
    await audit.record(session, user.id, "auth.email.verified", "auth_user", user.id)


async def resend_verification(session: AsyncSession, rt: Runtime, actor: Actor) -> None:
    user = await get_user(session, actor)
    if user.email_verified:
        raise EmailAlreadyVerified("The email is already verified")
    await enforce(rt.limiter, f"verify-mail:{user.id}", limit=3, window=3600)
    await _send_verification(session, rt, user)


# --- MFA management ----------------------------------------------------------------------


async def mfa_enroll(session: AsyncSession, actor: Actor) -> MfaEnrollment:
    user = await get_user(session, actor)
    if user.mfa_enabled:
        raise MfaAlreadyEnabled("MFA is already enabled")
    secret = mfa.new_secret()
    await mfa.store_secret(session, user, secret)
    user.mfa_last_step = None
    await audit.record(session, actor, "auth.mfa.enrollment_started", "auth_user", user.id)
    return MfaEnrollment(secret=secret, otpauth_uri=mfa.provisioning_uri(secret, user.email))


async def mfa_confirm(session: AsyncSession, actor: Actor, code: str) -> MfaConfirmed:
    user = await get_user(session, actor)
    if user.mfa_enabled:
        raise MfaAlreadyEnabled("MFA is already enabled")
    if not user.mfa_secret_enc:
        raise MfaNotEnrolled("Start the enrolment first")
    await mfa.verify_code(session, user, code)
    user.mfa_enabled = True
    codes = await mfa.issue_recovery_codes(session, user)
    await audit.record(session, actor, "auth.mfa.enabled", "auth_user", user.id)
    return MfaConfirmed(mfa_enabled=True, recovery_codes=codes)


async def mfa_disable(session: AsyncSession, actor: Actor, code: str, password: str) -> None:
    user = await get_user(session, actor)
    if user.role == Role.ADMIN:
        raise MfaRequiredForAdmins("Administrators cannot disable MFA")
    if not user.mfa_enabled:
        raise MfaNotEnabled("MFA is not enabled")
    if not await verify_password(user.password_hash, password):
        raise InvalidCurrentPassword("The password is wrong")
    await mfa.verify_code(session, user, code)
    user.mfa_enabled = False
    await mfa.store_secret(session, user, None)
    await repo.replace_recovery_codes(session, user.id, [])
    await audit.record(session, actor, "auth.mfa.disabled", "auth_user", user.id)


# --- administration (web/admin_pages) ------------------------------------------------------


async def search_users(
    session: AsyncSession, actor: Actor, *, query: str | None, role: str | None,
    status: str | None, offset: int, limit: int,
) -> tuple[list[User], int]:
    """Accounts whose email or name contains `query` (case-insensitive), newest first."""
    from sqlalchemy import func, or_, select

    if not actor.is_admin:
        raise ForbiddenRole("Administrators only")
    stmt = select(User)
    if query:
        like = "%" + query.lower().replace("\\", "").replace("%", "").replace("_", "")[:200] + "%"
        stmt = stmt.where(or_(func.lower(User.email).like(like),
                              func.lower(func.coalesce(User.name, "")).like(like)))
    if role:
        stmt = stmt.where(User.role == role)
    if status:
        stmt = stmt.where(User.status == status)
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    rows = await session.scalars(stmt.order_by(User.created_at.desc(), User.id)
                                 .offset(offset).limit(limit))
    return list(rows), total


async def user_counts(session: AsyncSession) -> dict[tuple[str, str], int]:
    """(role, status) -> number of accounts: one grouped query for the admin home."""
    from sqlalchemy import func, select

    rows = await session.execute(select(User.role, User.status, func.count())
                                 .group_by(User.role, User.status))
    return {(str(r), str(s)): int(n) for r, s, n in rows}
