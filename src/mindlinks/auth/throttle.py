"""Throttling of the unauthenticated auth endpoints: login, registration, password-reset mail.

Budgets are *taken* (an atomic increment returning the new count) before the argon2 check or
the mail, so concurrent attempts cannot all read the same old count. A successful login gives
its share back.

Lock-out of the real owner (docs/architecture.md, Identity): the per-account failure budget
is shared only by addresses that never signed in to the account. An address with a login of
the account on record (`auth_sessions.ip_address`, a keyed hash) gets its own budget of the
same size, so an attacker exhausting the shared budget from elsewhere does not lock the owner
out at home or at the office.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth import repository as repo
from mindlinks.auth.models import User
from mindlinks.platform.errors import TooManyRequests
from mindlinks.platform.middleware import request_context
from mindlinks.platform.ratelimit import enforce
from mindlinks.platform.runtime import Runtime
from mindlinks.platform.security import keyed_hash


def _ip_hash() -> str:
    ctx = request_context.get()
    return ctx.ip_hash if ctx and ctx.ip_hash else "-"


@dataclass(frozen=True)
class LoginBudget:
    account_key: str
    ip_key: str | None


async def take_login_budget(
    session: AsyncSession, rt: Runtime, email: str, user: User | None
) -> LoginBudget:
    """Spend one attempt of the account's and the address's budgets; 429 once either is
    exhausted. Unknown emails are throttled exactly like known ones."""
    ctx = request_context.get()
    ip_hash = ctx.ip_hash if ctx else None
    account = f"login:acct:{keyed_hash(rt.secret, email)}"
    if user is not None and ip_hash and await repo.address_has_signed_in(session, user.id,
                                                                         ip_hash):
        account = f"{account}:known:{ip_hash}"
    budget = LoginBudget(account, f"login:ip:{ip_hash}" if ip_hash else None)
    window = rt.settings.login_window_seconds
    keys = [(budget.account_key, rt.settings.login_failures_per_account)]
    if budget.ip_key:
        keys.append((budget.ip_key, rt.settings.login_failures_per_ip))
    # Every key is hit (no early exit), so an attempt refused on one budget still counts on
    # the other: spraying many accounts from one address exhausts the address. Both are taken
    # in one atomic step: taken one after the other, a burst could interleave so that the
    # attempts within the account's budget fall outside the address's, and fewer than the
    # budget would reach the password check (seen under load on Redis).
    counted = await rt.limiter.hit_many([key for key, _ in keys], window)
    refused = [state for state, (_, limit) in zip(counted, keys, strict=True)
               if state.count > limit]
    if refused:
        raise TooManyRequests("Too many failed sign-ins; try again later.",
                              retry_after=max(s.retry_after for s in refused))
    return budget


async def login_succeeded(rt: Runtime, budget: LoginBudget) -> None:
    """A correct password: the budget it used starts afresh and the address gets its attempt
    back (an office behind one address signs in many people)."""
    await rt.limiter.reset(budget.account_key)
    if budget.ip_key:
        await rt.limiter.give_back(budget.ip_key)


async def take_registration_budget(rt: Runtime) -> None:
    """Registrations per address and in total per hour (each costs an argon2 hash, a row
    and a verification mail)."""
    await enforce(rt.limiter, f"register:ip:{_ip_hash()}",
                  limit=rt.settings.registrations_per_ip_per_hour, window=3600)
    await enforce(rt.limiter, "register:all", limit=rt.settings.registrations_per_hour,
                  window=3600)


async def take_reset_mail_budget(rt: Runtime, email: str) -> bool:
    """Forgot-password: 429 past the per-address limit; past the per-account limit the
    request is still answered 202 but no mail goes out (the answer must not depend on
    whether the account exists, and the owner's last link stays valid)."""
    await enforce(rt.limiter, f"email:ip:{_ip_hash()}",
                  limit=rt.settings.email_requests_per_ip_per_minute, window=60)
    state = await rt.limiter.hit(f"reset:acct:{keyed_hash(rt.secret, email)}", 3600)
    return state.count <= rt.settings.password_resets_per_account_per_hour
