"""Breached passwords (OWASP ASVS 6.2.12): a `BreachedPasswords` Protocol, a deterministic
sandbox list and a Have I Been Pwned "Pwned Passwords" adapter.

`MINDLINKS_BREACHED_PASSWORD_CHECK` selects one: `sandbox` (the default: a fixed list, offline,
what the tests use), `hibp` (production) or `off`. Only a password being *chosen* is checked
(register, invitation accept, reset, change), never one used to sign in.

The HIBP adapter uses the k-anonymity range API: only the first 5 hex characters of the
password's SHA-1 leave the process; the answer lists every known suffix of that range with its
count, padded (`Add-Padding: true`) with random zero-count suffixes so that the answer's size
does not reveal the range either.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from typing import Protocol

import httpx
import structlog

from mindlinks import __version__
from mindlinks.settings import Settings

log = structlog.get_logger("mindlinks.auth.breached")

HIBP_RANGE_URL = "https://api.pwnedpasswords.com/range/"
USER_AGENT = f"Mind-Links/{__version__} (breached-password check)"


class BreachedPasswords(Protocol):
    name: str

    async def count(self, password: str) -> int | None:
        """How often `password` appears in known breaches (0: never), or None when the
        source cannot answer now."""
        ...


def sha1_hex(password: str) -> str:
    """Upper-case SHA-1 hex of the UTF-8 password, as Pwned Passwords lists them. Not a
    password hash: a lookup key (one SHA-1 of <= 256 characters, microseconds)."""
    return hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


# --- sandbox --------------------------------------------------------------------------------

# Passwords the sandbox knows as breached, stored as SHA-1 (the form the real source is
# queried in), with made-up counts. Each is >= 12 characters and outside zxcvbn's
# common-password list, so the local policy accepts them and only this check refuses them.
# They are the documented samples that tests and demos use (docs/architecture.md, "Passwords"):
SANDBOX_SAMPLES = ("P@ssw0rd1234", "Summer2024!!", "1q2w3e4r5t6y7u", "iloveyou12345",
                   "Welcome2024!")
_SANDBOX_COUNTS: dict[str, int] = {
    "116A4DA0477B36B603C9382E8A14ED1679DD211D": 1_204,  # P@ssw0rd1234
    "450FC709DF13DBCC5B1E30C250C467E17CB64D66": 833,    # Summer2024!!
    "6EAE9FBA65EB781C46E8F97242C70CB3B82F3D1C": 9_861,  # 1q2w3e4r5t6y7u
    "1C7D9DE4703B2DD3328C40ED0BB24A275773B627": 4_420,  # iloveyou12345
    "6157A04ED2C5842835DB1E0D4CFD6F83147170EA": 2_317,  # Welcome2024!
}


class SandboxBreachedPasswords:
    """A fixed list: deterministic, offline. Anything not listed counts as never breached."""

    name = "sandbox"

    async def count(self, password: str) -> int | None:
        return _SANDBOX_COUNTS.get(sha1_hex(password), 0)


# --- Have I Been Pwned ----------------------------------------------------------------------

_tls: ssl.SSLContext | None = None


async def _tls_context() -> ssl.SSLContext:
    """One TLS context per process, built off the event loop: loading the CA bundle takes
    milliseconds of CPU, which each new `httpx.AsyncClient` would otherwise spend on the loop."""
    global _tls
    if _tls is None:
        _tls = await asyncio.to_thread(httpx.create_ssl_context)
    return _tls


class HibpBreachedPasswords:
    """`GET {base_url}{first 5 of SHA-1}` with `Add-Padding: true`; the answer is lines of
    `SUFFIX:COUNT`. No API key is needed for the range API."""

    name = "hibp"

    def __init__(self, *, base_url: str = HIBP_RANGE_URL, timeout: float = 2.0) -> None:
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout

    async def count(self, password: str) -> int | None:
        digest = sha1_hex(password)
        prefix, suffix = digest[:5], digest[5:]
        tls = await _tls_context()
        try:
            # httpx's timeout bounds each phase; the deadline bounds the whole exchange.
            async with asyncio.timeout(self.timeout), httpx.AsyncClient(
                timeout=self.timeout, verify=tls, headers={"User-Agent": USER_AGENT},
            ) as client:
                response = await client.get(self.base_url + prefix,
                                            headers={"Add-Padding": "true"})
        except (httpx.HTTPError, TimeoutError) as exc:
            return self._unavailable(error=type(exc).__name__)
        if response.status_code != 200:
            return self._unavailable(status=response.status_code)
        for line in response.text.splitlines():
            found, _, count = line.strip().partition(":")
            if found.upper() == suffix:
                # A padding line has count 0: not breached.
                return int(count) if count.isdigit() else self._unavailable(error="bad_line")
        return 0

    def _unavailable(self, **why: object) -> int | None:
        """Fail open (None: the caller accepts the password). Signing up and resetting a
        password must not depend on a third party being up; the local policy (length, the
        30,000 commonest passwords) still applies. Neither the password nor any part of its
        hash is logged."""
        log.warning("breached_password_check_unavailable", source=self.name, **why)
        return None


def breached_passwords_from_settings(settings: Settings) -> BreachedPasswords | None:
    """The configured source; None when the check is off."""
    if settings.breached_password_check == "hibp":
        return HibpBreachedPasswords(base_url=settings.hibp_range_url,
                                     timeout=settings.breached_password_timeout_seconds)
    if settings.breached_password_check == "sandbox":
        return SandboxBreachedPasswords()
    return None


def production_problems(settings: Settings) -> list[str]:
    if settings.breached_password_check == "sandbox":
        return ["MINDLINKS_BREACHED_PASSWORD_CHECK is 'sandbox' (a sample list); production "
                "needs 'hibp' (or 'off', deliberately)"]
    return []
