"""Domain errors and their RFC 9457 problem+json rendering.

Services raise `DomainError` subclasses with a stable machine `code`; one set of handlers
turns them, framework errors and unexpected exceptions into `application/problem+json`.
A 500 never carries a traceback or an exception message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, ClassVar

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match

from mindlinks.platform.logging import route_template

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://mindlinks.dev/problems/"

log = structlog.get_logger("mindlinks.errors")


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    title: str
    module: str = field(default="", compare=False)  # where it was first declared


class DuplicateErrorCode(TypeError):
    """A code declared again with another status or title: raised at import time."""


# Every machine code an answer can carry -> its one status and title. Filled by
# `register_code` and, for each `DomainError` subclass, at class creation.
ERROR_CODES: dict[str, ErrorCode] = {}


def register_code(code: str, status: int, title: str, module: str = __name__) -> ErrorCode:
    """Declare `code`. Declaring it again is allowed only with the same status and title, so
    a client can rely on one code meaning one thing wherever it is raised."""
    entry = ErrorCode(code, status, title, module)
    known = ERROR_CODES.setdefault(code, entry)
    if known != entry:
        raise DuplicateErrorCode(
            f"error code {code!r} is already {known.status} {known.title!r}; "
            f"cannot also be {status} {title!r} - choose another code"
        )
    return known


class DomainError(Exception):
    """A failure the caller can act on. Each subclass that sets `code` (and `status`/`title`,
    or inherits them) registers that code; the code is fixed by the class, never per raise."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_code(cls.code, cls.status, cls.title, cls.__module__)

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        persist: bool = False,
    ) -> None:
        super().__init__(detail or self.title)
        # The error is the answer, but what the service did before raising must be kept
        # (a revoked token family, an audit line of a failed login): commit, don't roll back.
        self.persist = persist
        self.detail = detail or self.title
        self.errors = errors
        self.headers = headers or {}


register_code(DomainError.code, DomainError.status, DomainError.title)


class BadRequest(DomainError):
    pass


class Unauthorized(DomainError):
    status, code, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class PermissionDenied(DomainError):
    status, code, title = 403, "permission_denied", "Permission denied"


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class InvalidTransition(Conflict):
    code, title = "invalid_transition", "Invalid state transition"


class ValidationFailed(DomainError):
    status, code, title = 422, "validation_error", "Validation failed"


class PayloadTooLarge(DomainError):
    status, code, title = 413, "payload_too_large", "Payload too large"


class TooManyRequests(DomainError):
    status, code, title = 429, "too_many_requests", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, retry_after))})
        super().__init__(detail, **kw)
        self.retry_after = retry_after


class InsufficientFunds(DomainError):
    status, code, title = 422, "insufficient_funds", "Insufficient funds"


class ServiceUnavailable(DomainError):
    status, code, title = 503, "service_unavailable", "Service unavailable"


# Codes every domain raises: declared here once so each means one thing everywhere.
class NotAuthenticated(Unauthorized):
    code, title = "not_authenticated", "Not authenticated"


class InvalidToken(Unauthorized):
    code, title = "invalid_token", "Invalid token"


class TokenExpired(Unauthorized):
    code, title = "token_expired", "Token expired"


class ForbiddenRole(PermissionDenied):
    code, title = "forbidden_role", "This action needs another role"


class MfaRequired(PermissionDenied):
    code, title = "mfa_required", "Admin actions need MFA"


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail or title,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("permission_denied", "Permission denied"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("too_many_requests", "Too many requests"),
}
for _status, (_code, _title) in _HTTP_CODES.items():
    register_code(_code, _status, _title)
INVALID_JSON = register_code("invalid_json", 400, "Malformed JSON")
REQUEST_INVALID = register_code("validation_error", 422, "Validation failed")
INVALID_CHARACTERS = register_code("invalid_characters", 422, "Invalid characters")
INTERNAL_ERROR = register_code("internal_error", 500, "Internal server error")


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "HTTP error"


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        entry: dict[str, Any] = {"field": ".".join(loc), "message": err.get("msg", ""),
                                 "code": err.get("type")}
        # The figures of the rule (`max_length`, `ge`, ...), for a client that shows its own
        # text: plain values only (`ctx` may also hold the exception of a validator).
        params = {k: v for k, v in (err.get("ctx") or {}).items()
                  if isinstance(v, int | float | str) and not isinstance(v, bool)}
        if params:
            entry["params"] = params
        out.append(entry)
    return out


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's own `Allow` names only the
    first matching route's, but GET and POST of one path are often separate routes. Asking
    each route whether it would fully match the same request with another method uses only
    the public `matches` API, whatever the router nesting."""
    routes = request.app.router.routes
    return [
        method for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL
               for route in routes)
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        if exc.status in (401, 403):
            # Denials are security events: logged with their code, never with credentials.
            log.info("access_denied", status=exc.status, code=exc.code,
                     path=route_template(request.scope))
        return problem(
            exc.status, exc.code, exc.title, exc.detail, errors=exc.errors, headers=exc.headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        if any(e["code"] == "json_invalid" for e in errors):
            return problem(INVALID_JSON.status, INVALID_JSON.code, INVALID_JSON.title,
                           "The body is not valid JSON.")
        if any(e["code"] == INVALID_CHARACTERS.code for e in errors):
            return problem(INVALID_CHARACTERS.status, INVALID_CHARACTERS.code,
                           INVALID_CHARACTERS.title,
                           "Text must not contain NUL (U+0000) characters.", errors=errors)
        return problem(REQUEST_INVALID.status, REQUEST_INVALID.code, REQUEST_INVALID.title,
                       "The request is invalid.", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code in _HTTP_CODES:
            code, title = _HTTP_CODES[exc.status_code]
        else:  # a status no route of ours raises: still one code per status
            code, title = f"http_{exc.status_code}", _status_phrase(exc.status_code)
        detail = exc.detail if isinstance(exc.detail, str) else title
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
        return problem(exc.status_code, code, title, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=route_template(request.scope))
        return problem(INTERNAL_ERROR.status, INTERNAL_ERROR.code, INTERNAL_ERROR.title,
                       "An unexpected error occurred.")
