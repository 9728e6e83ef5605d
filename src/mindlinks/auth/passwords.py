"""Password policy (NIST SP 800-63B / OWASP ASVS 6.2): length, not a common password, not
the email's local part. No composition rules; Unicode kept verbatim; never truncated."""

from __future__ import annotations

from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from mindlinks.platform.errors import ValidationFailed

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
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if lowered in common_passwords():
        problems.append("is one of the most commonly used passwords")
    if email:
        local = email.split("@", 1)[0].lower()
        if len(local) >= 3 and local in lowered:
            problems.append("must not contain your email address")
    if problems:
        raise WeakPassword(
            "The password " + "; ".join(problems) + ".",
            errors=[{"field": field, "message": p, "code": "weak_password"} for p in problems],
        )
