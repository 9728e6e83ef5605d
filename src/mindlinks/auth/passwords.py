"""Password policy (NIST SP 800-63B / OWASP ASVS 6.2): length, not a common password, not
the email's local part, and - for a password being chosen - not a breached one (ASVS 6.2.12,
`check_new_password`, auth/providers.py). No composition rules; Unicode kept verbatim; never
truncated.

Hashing and verification are awaited here: argon2id costs ~50-100 ms of CPU and 64 MiB, so it
runs on a small dedicated thread pool (argon2-cffi releases the GIL), never on the event loop.
The pool is bounded so a burst of logins queues instead of taking every core and 64 MiB each.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, TypeVar

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from mindlinks.auth.providers import breached_passwords_from_settings
from mindlinks.platform import security
from mindlinks.platform.errors import ValidationFailed
from mindlinks.settings import Settings

T = TypeVar("T")

# A plain executor (not an asyncio.Semaphore) bounds the work: it belongs to no event loop.
_ARGON2_POOL = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)),
                                  thread_name_prefix="argon2")


async def _off_loop(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(_ARGON2_POOL, fn, *args)


async def hash_password(password: str) -> str:
    return await _off_loop(security.hash_password, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await _off_loop(security.verify_password, password_hash, password)


async def burn_password_check(password: str) -> None:
    """Same cost as a verification, for unknown emails."""
    await _off_loop(security.burn_password_check, password)

MIN_LENGTH = 12
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    # zxcvbn ships the 30,000 most frequent passwords of public breach corpora.
    return frozenset(FREQUENCY_LISTS["passwords"])


class WeakPassword(ValidationFailed):
    code, title = "weak_password", "Password does not meet the policy"


Problem = tuple[str, dict[str, object]]


def _refuse(problems: list[Problem], field: str) -> WeakPassword:
    return WeakPassword(
        "The password " + "; ".join(p for p, _ in problems) + ".",
        errors=[{"field": field, "message": p, "code": "weak_password", "params": params}
                for p, params in problems],
    )


def check_password_policy(password: str, email: str | None = None, field: str = "password") -> None:
    """Raise `WeakPassword` (422) naming every local rule `password` breaks."""
    # (message, params): `params.rule` names the rule for a client that shows its own text
    # (the web pages' Arabic), with the figure it needs.
    problems: list[Problem] = []
    if len(password) < MIN_LENGTH:
        problems.append((f"must be at least {MIN_LENGTH} characters",
                         {"rule": "min_length", "min": MIN_LENGTH}))
    if len(password) > MAX_LENGTH:
        problems.append((f"must be at most {MAX_LENGTH} characters",
                         {"rule": "max_length", "max": MAX_LENGTH}))
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append(("is one of the most commonly used passwords", {"rule": "common"}))
    if email:
        local = email.split("@", 1)[0].lower()
        if len(local) >= 3 and local in lowered:
            problems.append(("must not contain the part of your email address before the @",
                             {"rule": "email"}))
    if problems:
        raise _refuse(problems, field)


async def check_new_password(
    settings: Settings, password: str, email: str | None = None, field: str = "password"
) -> None:
    """The policy for a password being chosen (register, invitation accept, reset, change):
    the local rules, then - only once they pass, so a refused password costs no request -
    the configured breached-password source (`breached` rule). A source that cannot answer
    accepts the password (fails open, see auth/providers.py). A password used to sign in is
    never checked here: a breach must not lock anyone out."""
    check_password_policy(password, email, field)
    source = breached_passwords_from_settings(settings)
    if source is not None and await source.count(password):
        raise _refuse([("has appeared in a known data breach", {"rule": "breached"})], field)
