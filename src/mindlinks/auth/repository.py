"""Every query of the auth domain."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth import revocations
from mindlinks.auth.models import (
    AuthSession,
    EmailVerification,
    PasswordReset,
    RecoveryCode,
    User,
)
from mindlinks.platform.db import Database
from mindlinks.platform.keyed_reads import KeyedRead


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalize_email(email)))


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


async def address_has_signed_in(session: AsyncSession, user_id: uuid.UUID, ip_hash: str) -> bool:
    """Whether any login of the user (live or ended) started from this address."""
    found = await session.scalar(select(exists().where(
        AuthSession.user_id == user_id, AuthSession.ip_address == ip_hash)))
    return bool(found)


def public_user_query(columns: tuple[str, ...]) -> KeyedRead:
    """`SELECT <columns> FROM auth_users WHERE id = :key`, built and compiled once by the
    caller, for reads that only serialise the row (`GET /api/auth/me`); concurrent reads
    share one statement on PostgreSQL (platform/keyed_reads.py)."""
    return KeyedRead(cast(Table, User.__table__), columns, "id")


async def public_user(db: Database, query: KeyedRead, user_id: uuid.UUID) -> Any:
    """One row of `query` (see `public_user_query`) as a mapping, or None: outside any
    transaction, on a pooled connection."""
    return await query.get(db, user_id)


# Built once: this query runs on every authenticated request, and composing the expression
# costs more than executing it. The values are bound per call.
_USER_WITH_LIVE_FAMILY = select(
    User,
    exists()
    .where(
        AuthSession.family_id == bindparam("family_id"),
        AuthSession.user_id == bindparam("user_id"),
        AuthSession.revoked_at.is_(None),
        AuthSession.absolute_expires_at > bindparam("now"),
    )
    .correlate(None),
).where(User.id == bindparam("user_id"))


async def user_with_live_family(
    session: AsyncSession, user_id: uuid.UUID, family_id: uuid.UUID, now: datetime
) -> tuple[User | None, bool]:
    """The user, and whether the login (`family_id`) is still alive - in one round trip."""
    result = await session.execute(
        _USER_WITH_LIVE_FAMILY, {"user_id": user_id, "family_id": family_id, "now": now}
    )
    row = result.first()
    if row is None:
        return None, False
    return row[0], bool(row[1])


async def session_by_token_hash(session: AsyncSession, token_hash: str) -> AuthSession | None:
    return await session.scalar(
        select(AuthSession).where(AuthSession.refresh_token_hash == token_hash)
    )


async def claim_rotation(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> bool:
    """Mark a refresh token used. Of concurrent callers exactly one gets True: the UPDATE's
    condition is re-checked under the row lock (PostgreSQL) or the write lock (SQLite)."""
    result = await session.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            AuthSession.rotated_at.is_(None),
            AuthSession.revoked_at.is_(None),
        )
        .values(rotated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


# Every login that ends goes through one of these two, so they also record the ended families
# in the revocation set that authenticated requests check instead of querying (revocations.py).


async def revoke_family(
    session: AsyncSession, family_id: uuid.UUID, now: datetime, reason: str
) -> None:
    await session.execute(
        update(AuthSession)
        .where(AuthSession.family_id == family_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if (revoked := revocations.of(session)) is not None:
        await revoked.publish(families=[family_id])


async def revoke_user_sessions(
    session: AsyncSession, user_id: uuid.UUID, now: datetime, reason: str
) -> None:
    families = set(await session.scalars(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
        .returning(AuthSession.family_id)
        .execution_options(synchronize_session=False)
    ))
    if families and (revoked := revocations.of(session)) is not None:
        await revoked.publish(families=sorted(families, key=str))


async def accept_totp_step(session: AsyncSession, user_id: uuid.UUID, step: int) -> bool:
    """Record `step` as used; False when it (or a later one) was used already (replay)."""
    result = await session.execute(
        update(User)
        .where(
            User.id == user_id,
            (User.mfa_last_step.is_(None)) | (User.mfa_last_step < step),
        )
        .values(mfa_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def live_password_reset(
    session: AsyncSession, token_hash: str, now: datetime
) -> PasswordReset | None:
    return await session.scalar(
        select(PasswordReset).where(
            PasswordReset.token_hash == token_hash,
            PasswordReset.used.is_(False),
            PasswordReset.expires_at > now,
        )
    )


async def consume_password_reset(session: AsyncSession, reset_id: uuid.UUID, now: datetime) -> bool:
    result = await session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == reset_id, PasswordReset.used.is_(False))
        .values(used=True, used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def invalidate_password_resets(
    session: AsyncSession, user_id: uuid.UUID, now: datetime
) -> None:
    await session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user_id, PasswordReset.used.is_(False))
        .values(used=True, used_at=now)
        .execution_options(synchronize_session=False)
    )


async def consume_email_verification(
    session: AsyncSession, token_hash: str, now: datetime
) -> uuid.UUID | None:
    row = await session.scalar(
        select(EmailVerification).where(
            EmailVerification.token_hash == token_hash,
            EmailVerification.used_at.is_(None),
            EmailVerification.expires_at > now,
        )
    )
    if row is None:
        return None
    result = await session.execute(
        update(EmailVerification)
        .where(and_(EmailVerification.id == row.id, EmailVerification.used_at.is_(None)))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return row.user_id if result.rowcount == 1 else None  # type: ignore[attr-defined]


async def consume_recovery_code(
    session: AsyncSession, user_id: uuid.UUID, code_hash: str, now: datetime
) -> bool:
    result = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user_id,
            RecoveryCode.code_hash == code_hash,
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def replace_recovery_codes(
    session: AsyncSession, user_id: uuid.UUID, code_hashes: list[str]
) -> None:
    from sqlalchemy import delete

    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.add_all(RecoveryCode(user_id=user_id, code_hash=h) for h in code_hashes)
    await session.flush()


async def live_family_ids(session: AsyncSession, user_id: uuid.UUID) -> set[uuid.UUID]:
    """The user's logins (refresh-token families) that are not revoked."""
    rows = await session.scalars(
        select(AuthSession.family_id).where(
            AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None)
        )
    )
    return set(rows)
