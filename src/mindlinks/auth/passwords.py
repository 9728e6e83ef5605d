"""Password policy (NIST SP 800-63B / OWASP ASVS 6.2): length, not a common password, not
the email's local part. No composition rules; Unicode kept verbatim; never truncated.

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

from mindlinks.platform import security
from mindlinks.platform.errors import ValidationFailed

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


def check_password_policy(password: str, email: str | None = None, field: str = "password") -> None:
    """Raise `WeakPassword` (422) naming every rule `password` breaks."""
    # (message, params): `params.rule` names the rule for a client that shows its own text
    # (the web pages' Arabic), with the figure it needs.
    problems: list[tuple[str, dict[str, object]]] = []
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
        raise WeakPassword(
            "The password " + "; ".join(p for p, _ in problems) + ".",
            errors=[{"field": field, "message": p, "code": "weak_password", "params": params}
                    for p, params in problems],
        )
