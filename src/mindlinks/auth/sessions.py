"""Logins as token families: access JWTs, rotating refresh tokens, revocation, and the
`ActorLoader` that checks on every request that the login is alive and the user not suspended.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth import repository as repo
from mindlinks.auth.models import AuthSession, User, UserStatus
from mindlinks.auth.revocations import Revocations
from mindlinks.auth.schemas import TokenPair
from mindlinks.platform import audit
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import InvalidToken, PermissionDenied, Unauthorized
from mindlinks.platform.middleware import request_context
from mindlinks.platform.runtime import Runtime
from mindlinks.platform.security import ACCESS, Actor, ActorLoader, Role, token_digest

# Higher domains (contractors, clients, kyc) add claims such as contractorId and kycStatus by
# registering a provider at start-up: auth never imports them (DESIGN.md §3).
ClaimsProvider = Callable[[AsyncSession, User], Awaitable[dict[str, Any]]]
_claims_providers: list[ClaimsProvider] = []


def register_claims_provider(provider: ClaimsProvider) -> None:
    if provider not in _claims_providers:
        _claims_providers.append(provider)


async def extra_claims(session: AsyncSession, user: User) -> dict[str, Any]:
    claims: dict[str, Any] = {"contractorId": None, "clientId": None, "kycStatus": None}
    for provider in _claims_providers:
        claims.update(await provider(session, user))
    return claims


class RefreshTokenReused(Unauthorized):
    code = "refresh_token_reused"


class SessionRevoked(Unauthorized):
    code = "session_revoked"


class AccountSuspended(PermissionDenied):
    code, title = "account_suspended", "Account suspended"


class InvalidRefreshToken(Unauthorized):
    code, title = "invalid_refresh_token", "Invalid refresh token"


class RefreshTokenExpired(Unauthorized):
    code, title = "refresh_token_expired", "Refresh token expired"


async def _access_token(
    session: AsyncSession, rt: Runtime, user: User, family_id: uuid.UUID, amr: list[str],
    absolute_expires_at: datetime,
) -> str:
    claims = {
        "email": user.email,
        "role": user.role,
        "sid": str(family_id),
        "amr": amr,
        **(await extra_claims(session, user)),
    }
    # Never beyond the login's absolute expiry: the revocation set relies on a token not
    # outliving its login.
    left = int((absolute_expires_at - utcnow()).total_seconds())
    return rt.tokens.issue(
        subject=user.id,
        token_type=ACCESS,
        ttl_seconds=max(1, min(rt.settings.access_token_ttl_seconds, left)),
        claims=claims,
    )


async def _new_refresh_row(
    session: AsyncSession,
    rt: Runtime,
    user: User,
    *,
    family_id: uuid.UUID,
    amr: list[str],
    absolute_expires_at: datetime,
    now: datetime,
) -> str:
    refresh = secrets.token_urlsafe(32)  # 256 bits
    ctx = request_context.get()
    session.add(
        AuthSession(
            user_id=user.id,
            family_id=family_id,
            refresh_token_hash=token_digest(refresh),
            amr=" ".join(amr),
            user_agent=ctx.user_agent if ctx else None,
            ip_address=ctx.ip_hash if ctx else None,
            expires_at=min(
                now + timedelta(seconds=rt.settings.refresh_token_ttl_seconds), absolute_expires_at
            ),
            absolute_expires_at=absolute_expires_at,
        )
    )
    await session.flush()
    return refresh


async def start_login(
    session: AsyncSession, rt: Runtime, user: User, amr: list[str]
) -> TokenPair:
    """Open a new login (token family) for `user` and return its first token pair."""
    now = utcnow()
    family_id = uuid.uuid4()
    absolute = now + timedelta(seconds=rt.settings.session_absolute_ttl_seconds)
    refresh = await _new_refresh_row(
        session, rt, user, family_id=family_id, amr=amr, now=now, absolute_expires_at=absolute,
    )
    user.last_login = now
    return TokenPair(
        access_token=await _access_token(session, rt, user, family_id, amr, absolute),
        refresh_token=refresh,
        expires_in=rt.settings.access_token_ttl_seconds,
    )


async def refresh(session: AsyncSession, rt: Runtime, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for a new pair. Each refresh token works once: presenting a
    used one again (or losing a race for it) revokes the whole login and answers 401
    `refresh_token_reused` - the revocation is committed even though the request fails."""
    now = utcnow()
    row = await repo.session_by_token_hash(session, token_digest(refresh_token))
    if row is None or row.revoked_at is not None:
        raise InvalidRefreshToken("Invalid refresh token")
    if row.expires_at <= now or row.absolute_expires_at <= now:
        raise RefreshTokenExpired("Refresh token expired")
    if row.rotated_at is not None or not await repo.claim_rotation(session, row.id, now):
        await repo.revoke_family(session, row.family_id, now, "refresh_token_reused")
        await audit.record(session, row.user_id, "auth.refresh_token.reused", "auth_session",
                           row.family_id)
        raise RefreshTokenReused("Refresh token already used; the session was revoked",
                                 persist=True)
    user = await repo.user_by_id(session, row.user_id)
    if user is None:
        raise InvalidRefreshToken("Invalid refresh token")
    if user.status == UserStatus.SUSPENDED:
        raise AccountSuspended("This account is suspended")
    # The identity map holds objects weakly: without a reference the row would be dropped at
    # once and the endpoint's `session.get(User, …)` would query it a second time.
    session.info["actor_user"] = user
    amr = row.amr.split()
    new_refresh = await _new_refresh_row(
        session, rt, user, family_id=row.family_id, amr=amr, now=now,
        absolute_expires_at=row.absolute_expires_at,
    )
    return TokenPair(
        access_token=await _access_token(session, rt, user, row.family_id, amr,
                                         row.absolute_expires_at),
        refresh_token=new_refresh,
        expires_in=rt.settings.access_token_ttl_seconds,
    )


async def logout(session: AsyncSession, actor: Actor) -> None:
    """End the login the access token belongs to (every refresh token of its family)."""
    if actor.session_id:
        await repo.revoke_family(session, actor.session_id, utcnow(), "logout")
    await audit.record(session, actor, "auth.logout", "auth_session", actor.session_id)


async def logout_all(session: AsyncSession, actor: Actor) -> None:
    await repo.revoke_user_sessions(session, actor.user_id, utcnow(), "logout_all")
    await audit.record(session, actor, "auth.logout_all", "auth_user", actor.user_id)


def _ids(claims: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        return uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"])
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidToken("Invalid token") from exc


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


# Actors built from verified claims, per login identity (see `actor_loader`); bounded.
ACTOR_CACHE_SIZE = 4096


def _identity(claims: dict[str, Any]) -> tuple[Any, ...] | None:
    """Everything `actor_loader` builds an `Actor` from, as a key (None: not cacheable)."""
    amr = claims.get("amr") or ()
    try:
        return (claims["sub"], claims["sid"], claims["role"], claims.get("email"), tuple(amr),
                claims.get("contractorId"), claims.get("clientId"), claims.get("kycStatus"))
    except (KeyError, TypeError):
        return None


def actor_loader(revoked: Revocations) -> ActorLoader:
    """`ActorLoader` that checks the revocation set instead of the database: no query. The
    identity comes from the verified token (role and profile ids are fixed for a login: a role
    change must end the user's logins, as suspension does).

    A token is sent with every request of its 15 minutes: the `Actor` built from its claims
    (ids parsed, role checked) is remembered, keyed by every claim it is built from, so the
    same claims always give the same actor. The revocation set is asked on every request."""
    built: dict[tuple[Any, ...], Actor] = {}

    async def load(_session: AsyncSession, claims: dict[str, Any]) -> Actor:
        key = _identity(claims)
        actor = built.get(key) if key is not None else None
        if actor is not None:
            if not revoked.ready:
                await revoked.ensure_started()
            _check_live(revoked, actor.user_id, actor.session_id)  # type: ignore[arg-type]
            return actor
        user_id, family_id = _ids(claims)
        if not revoked.ready:
            await revoked.ensure_started()
        _check_live(revoked, user_id, family_id)
        if "role" not in claims and _session is not None:
            # Not a token's claims but a liveness re-check (an open stream passes `sub` and
            # `sid` only): the database answers, with the row's own role.
            return await load_actor(_session, claims)
        actor = _from_claims(claims, user_id, family_id)
        if key is not None:
            if len(built) >= ACTOR_CACHE_SIZE:
                del built[next(iter(built))]  # the oldest
            built[key] = actor
        return actor

    load.needs_session = False  # type: ignore[attr-defined]
    return load  # type: ignore[return-value]


def _check_live(revoked: Revocations, user_id: uuid.UUID, family_id: uuid.UUID) -> None:
    if revoked.is_suspended(user_id):  # before the login: suspension says more
        raise AccountSuspended("This account is suspended")
    if revoked.is_revoked(family_id):
        raise SessionRevoked("This session has ended; sign in again")


def _from_claims(claims: dict[str, Any], user_id: uuid.UUID, family_id: uuid.UUID) -> Actor:
    try:
        role = Role(claims["role"])
    except (KeyError, ValueError) as exc:
        raise InvalidToken("Invalid token") from exc
    return Actor(
        user_id=user_id,
        email=str(claims.get("email", "")),
        role=role,
        session_id=family_id,
        amr=tuple(claims.get("amr") or ()),
        contractor_id=_uuid(claims.get("contractorId")),
        client_id=_uuid(claims.get("clientId")),
        kyc_status=claims.get("kycStatus"),
    )


async def load_actor(session: AsyncSession, claims: dict[str, Any]) -> Actor:
    """`ActorLoader` that asks the database (user + live login, one query): the source of
    truth, used when no revocation set can be trusted (several workers without Redis) and by
    long-lived requests that re-check their login."""
    user_id, family_id = _ids(claims)
    user, alive = await repo.user_with_live_family(session, user_id, family_id, utcnow())
    if user is None or not alive:
        raise SessionRevoked("This session has ended; sign in again")
    if user.status == UserStatus.SUSPENDED:
        raise AccountSuspended("This account is suspended")
    # The identity map holds objects weakly: without a reference the row would be dropped at
    # once and the endpoint's `session.get(User, …)` would query it a second time.
    session.info["actor_user"] = user
    return Actor(
        user_id=user.id,
        email=user.email,
        role=Role(user.role),  # from the database: a role change applies at once
        session_id=family_id,
        amr=tuple(claims.get("amr") or ()),
        contractor_id=_uuid(claims.get("contractorId")),
        client_id=_uuid(claims.get("clientId")),
        kyc_status=claims.get("kycStatus"),
    )
