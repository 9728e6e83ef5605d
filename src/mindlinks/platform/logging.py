"""Structured logs (structlog): JSON in production, readable in development.

Every line carries the request id and, once known, the user id (contextvars). Secrets never
reach a log: callers log codes and ids, and `_scrub` masks known-sensitive keys as a backstop.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import MutableMapping
from typing import Any

import structlog

SENSITIVE_KEYS = {
    "password", "new_password", "newPassword", "token", "access_token", "refresh_token",
    "accessToken", "refreshToken", "authorization", "secret", "mfa_token", "mfaToken",
    "sig", "account_number", "iban", "tax_id",
}


def _scrub(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key in SENSITIVE_KEYS:
            event[key] = "***"
    return event


class _Stderr:
    """`sys.stderr` looked up at each write, so loggers cached on first use follow a later
    redirection (pytest's capture, a supervisor swapping streams) instead of writing to the
    stream that was current when logging was configured."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _scrub,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )


def bind_request(request_id: str) -> None:
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)


def bind_user(user_id: uuid.UUID) -> None:
    structlog.contextvars.bind_contextvars(user_id=str(user_id))
