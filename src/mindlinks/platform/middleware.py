"""One pure-ASGI middleware for what every request needs, in the cheapest form:

- `X-Request-ID`: accepted when sane, generated otherwise, echoed, bound into every log line;
- the client's address and user agent for audit records (`request_context`);
- body size limits, enforced on the declared length and while streaming (413 problem+json);
- security headers (HSTS in production, nosniff, Referrer-Policy, CSP on HTML);
- an access log line, and a generic problem+json 500 that never leaks a traceback.
"""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mindlinks.platform.errors import PROBLEM_BASE, PROBLEM_JSON
from mindlinks.platform.logging import bind_request
from mindlinks.platform.security import keyed_hash

log = structlog.get_logger("mindlinks.http")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
HTML_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# The interactive API docs load their assets from a CDN; only those pages get a wider policy.
DOCS_CSP = (
    "default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline' https:; "
    "script-src 'self' 'unsafe-inline' https:; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class RequestContext:
    """What audit records and sessions keep of a request: the IP only as a keyed hash."""

    request_id: str
    ip_hash: str | None
    user_agent: str | None


request_context: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


class BodyTooLarge(HTTPException):
    """Raised from `receive` while streaming. An HTTPException so that FastAPI's body parser
    re-raises it as is (it turns any other exception into a 400) and it renders as a 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The body exceeds {limit} bytes.")


def _problem(status: int, code: str, title: str, detail: str, request_id: str) -> list[Message]:
    body = orjson.dumps(
        {"type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail,
         "code": code}
    )
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", request_id.encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


class PlatformMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_json_bytes: int,
        max_upload_bytes: int,
        production: bool,
        secret: bytes,
        access_log: bool = True,
    ) -> None:
        self.app = app
        self.secret = secret
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes
        self.production = production
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        incoming = headers.get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        bind_request(request_id)
        client = scope.get("client")
        request_context.set(
            RequestContext(
                request_id,
                keyed_hash(self.secret, client[0]) if client else None,
                (headers.get("user-agent") or "")[:512] or None,
            )
        )
        started = time.perf_counter()
        path: str = scope.get("path", "")

        limit = (
            self.max_upload_bytes
            if headers.get("content-type", "").startswith("multipart/form-data")
            else self.max_json_bytes
        )
        # A NUL in the path or the query string is refused like one in a body field
        # (`CamelModel`): PostgreSQL cannot store it, and no route needs it.
        if "\x00" in path or b"%00" in scope.get("query_string", b""):
            for message in _problem(
                422, "invalid_characters", "Invalid characters",
                "Text must not contain NUL (U+0000) characters.", request_id,
            ):
                await send(message)
            return

        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            for message in _problem(
                413, "payload_too_large", "Payload too large",
                f"The body exceeds {limit} bytes.", request_id,
            ):
                await send(message)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        status_holder: dict[str, Any] = {"status": 500, "started": False}
        extra_headers = [(b"x-request-id", request_id.encode()),
                         (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"strict-origin-when-cross-origin")]
        if self.production:
            extra_headers.append(
                (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
            )

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                hdrs = list(message.get("headers", []))
                content_type = next((v for k, v in hdrs if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    csp = DOCS_CSP if path in ("/docs", "/redoc") else HTML_CSP
                    hdrs.append((b"content-security-policy", csp.encode()))
                    hdrs.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": hdrs + extra_headers}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except BodyTooLarge:
            if not status_holder["started"]:
                for message in _problem(
                    413, "payload_too_large", "Payload too large",
                    f"The body exceeds {limit} bytes.", request_id,
                ):
                    await send(message)
            status_holder["status"] = 413
        except Exception:
            log.exception("unhandled_error", path=path)
            if not status_holder["started"]:
                for message in _problem(
                    500, "internal_error", "Internal server error",
                    "An unexpected error occurred.", request_id,
                ):
                    await send(message)
            status_holder["status"] = 500
        finally:
            # Safety net: a route outside `domain_router` that used the session (through an
            # auth dependency, say) must not keep its connection - or SQLite's write lock.
            state = scope.get("state") or {}
            leftover = state.get("db_session")
            if leftover is not None:
                state["db_session"] = None
                await leftover.close()
            if self.access_log:
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=path,
                    status=status_holder["status"],
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
