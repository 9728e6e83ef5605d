"""One pure-ASGI middleware for what every request needs, in the cheapest form:

- `X-Request-ID`: accepted when sane, generated otherwise, echoed, bound into every log line;
- the client's address and user agent for audit records (`request_context`);
- body size limits, enforced on the declared length and while streaming (413 problem+json);
- security headers (HSTS in production, nosniff, Referrer-Policy, CSP on HTML);
- an access log line, and a generic problem+json 500 that never leaks a traceback.
"""

from __future__ import annotations

import os
import re
import time
from contextvars import ContextVar

import orjson
import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mindlinks.platform.errors import PROBLEM_BASE, PROBLEM_JSON
from mindlinks.platform.logging import AccessLog, bind_request, route_template
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


class RequestContext:
    """What audit records and sessions keep of a request: the IP only as a keyed hash.

    The hash (an HMAC) is computed on first use only: most requests never write an audit
    record, a session or a throttle key."""

    __slots__ = ("_ip", "_ip_hash", "_secret", "request_id", "user_agent")

    def __init__(self, request_id: str, ip: str | None, user_agent: str | None,
                 secret: bytes = b"") -> None:
        self.request_id = request_id
        self.user_agent = user_agent
        self._ip = ip
        self._secret = secret
        self._ip_hash: str | None = None

    @property
    def ip_hash(self) -> str | None:
        if self._ip_hash is None and self._ip is not None:
            self._ip_hash = keyed_hash(self._secret, self._ip)
        return self._ip_hash


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


_SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"),
                     (b"referrer-policy", b"strict-origin-when-cross-origin")]
_HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
_HTML_HEADERS = [(b"content-security-policy", HTML_CSP.encode()), (b"x-frame-options", b"DENY")]
_DOCS_HEADERS = [(b"content-security-policy", DOCS_CSP.encode()), (b"x-frame-options", b"DENY")]


class PlatformMiddleware:
    """Everything that does not depend on the request is prepared here, once."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_json_bytes: int,
        max_upload_bytes: int,
        production: bool,
        secret: bytes,
        access_log: AccessLog | None = None,
    ) -> None:
        self.app = app
        self.secret = secret
        self.max_json_bytes = max_json_bytes
        self.max_upload_bytes = max_upload_bytes
        self.static_headers = _SECURITY_HEADERS + ([_HSTS] if production else [])
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()
        incoming = user_agent = content_type = declared = None
        # Only the four headers needed here, bytes compared: ASGI servers send names lowercased.
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                incoming = value.decode("latin-1")
            elif key == b"user-agent":
                user_agent = value[:512].decode("latin-1") or None
            elif key == b"content-type":
                content_type = value
            elif key == b"content-length":
                declared = value
        request_id = (incoming if incoming is not None and _REQUEST_ID.match(incoming)
                      else os.urandom(16).hex())
        bind_request(request_id)
        client = scope.get("client")
        request_context.set(
            RequestContext(request_id, client[0] if client else None, user_agent, self.secret)
        )
        path: str = scope.get("path", "")

        limit = (
            self.max_upload_bytes
            if content_type is not None and content_type.startswith(b"multipart/form-data")
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

        status = 500
        response_started = False
        request_id_header = (b"x-request-id", request_id.encode())
        static_headers = self.static_headers

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = message.get("headers", ())
                html: list[tuple[bytes, bytes]] = []
                for k, v in headers:
                    if k == b"content-type" or k.lower() == b"content-type":
                        if v.startswith(b"text/html"):
                            html = _DOCS_HEADERS if path in ("/docs", "/redoc") else _HTML_HEADERS
                        break
                # One new header list; the message itself is the sender's, built for this one
                # send (ASGI), so it is updated in place rather than copied.
                message["headers"] = [*headers, *html, request_id_header, *static_headers]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_wrapper)
        except BodyTooLarge:
            if not response_started:
                for message in _problem(
                    413, "payload_too_large", "Payload too large",
                    f"The body exceeds {limit} bytes.", request_id,
                ):
                    await send(message)
            status = 413
        except Exception:
            log.exception("unhandled_error", path=route_template(scope))
            if not response_started:
                for message in _problem(
                    500, "internal_error", "Internal server error",
                    "An unexpected error occurred.", request_id,
                ):
                    await send(message)
            status = 500
        finally:
            # Safety net: a route outside `domain_router` that used the session (through an
            # auth dependency, say) must not keep its connection - or SQLite's write lock.
            state = scope.get("state")
            actor = None
            if state:
                actor = state.get("actor")
                leftover = state.get("db_session")
                if leftover is not None:
                    state["db_session"] = None
                    await leftover.close()
            if self.access_log is not None:
                self.access_log.write(scope.get("method", ""), route_template(scope), status,
                                      time.perf_counter() - started, request_id,
                                      actor.user_id if actor is not None else None)
