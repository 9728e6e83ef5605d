"""TOTP (RFC 6238) second factor: enrolment, confirmation, verification without replay,
single-use recovery codes stored as digests."""

from __future__ import annotations

import hmac
import secrets
import time

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth import repository as repo
from mindlinks.auth.models import User
from mindlinks.platform.crypto import seal, unseal
from mindlinks.platform.errors import Unauthorized
from mindlinks.platform.security import token_digest

ISSUER = "Mind-Links"
STEP_SECONDS = 30
RECOVERY_CODES = 10


class InvalidMfaCode(Unauthorized):
    code, title = "invalid_mfa_code", "Invalid MFA code"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step (±1, for clock drift) whose code equals `code`, else None."""
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP_SECONDS)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


async def store_secret(session: AsyncSession, user: User, secret: str | None) -> None:
    """Keep (or clear) the user's TOTP secret, encrypted under their data key."""
    await seal(session, user, "mfa_secret_enc", secret, subject_id=user.id)


async def verify_code(session: AsyncSession, user: User, code: str) -> None:
    """Accept `code` once: a code (or an older one) already used is rejected as a replay."""
    secret = await unseal(session, user, "mfa_secret_enc")
    if not secret:
        raise InvalidMfaCode("MFA is not enrolled")
    step = matching_step(secret, code)
    if step is None or not await repo.accept_totp_step(session, user.id, step):
        raise InvalidMfaCode("Invalid or already used code")


def _normalise_recovery(code: str) -> str:
    return code.replace("-", "").replace(" ", "").lower()


async def issue_recovery_codes(session: AsyncSession, user: User) -> list[str]:
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]  # 40 bits each, shown once
    await repo.replace_recovery_codes(
        session, user.id, [token_digest(_normalise_recovery(c)) for c in codes]
    )
    return [f"{c[:5]}-{c[5:]}" for c in codes]


async def use_recovery_code(session: AsyncSession, user: User, code: str) -> None:
    from mindlinks.platform.db import utcnow

    digest = token_digest(_normalise_recovery(code))
    if not await repo.consume_recovery_code(session, user.id, digest, utcnow()):
        raise InvalidMfaCode("Invalid or already used recovery code")
