"""Browser sessions: the API's own token pair carried in cookies, and the CSRF token.

The access and refresh tokens are the ones `POST /api/auth/login` returns, so a browser
login is the same session (same revocation, same logout) as an API login. Both cookies are
`HttpOnly` (no script can read them), `SameSite=Lax` (not sent on cross-site POSTs) and
`Secure`, except for a plain-http loopback address in development so the app can be used at
http://127.0.0.1 without TLS.

CSRF: a signed double-submit token. The `ml_csrf` cookie holds `random.hmac(secret, random)`;
every state-changing form repeats it in a hidden `csrf_token` field. A cross-site page can
neither read the cookie nor forge the signature, so a post without the matching pair is
refused (403) before any service is called.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request, Response

from mindlinks.auth import service as auth_service
from mindlinks.auth.schemas import TokenPair
from mindlinks.platform.api import request_session
from mindlinks.platform.errors import DomainError, PermissionDenied
from mindlinks.platform.security import Actor
from mindlinks.web import i18n

ACCESS_COOKIE = "ml_access"
REFRESH_COOKIE = "ml_refresh"
CSRF_COOKIE = "ml_csrf"
CSRF_FIELD = "csrf_token"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class CsrfRefused(PermissionDenied):
    code, title = "csrf_failed", "The form expired or came from another site"


def secure(request: Request) -> bool:
    """Secure cookies everywhere except plain http on a loopback host outside production."""
    if request.app.state.settings.env == "production":
        return True
    host = (request.url.hostname or "").strip("[]")
    return not (request.url.scheme == "http" and host in _LOOPBACK)


def _cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        secure=secure(request), samesite="lax")


def _sign(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()[:32]


def _valid_csrf(secret: bytes, token: str) -> bool:
    nonce, _, signature = token.partition(".")
    return bool(nonce) and hmac.compare_digest(_sign(secret, nonce), signature)


def csrf_token(request: Request) -> str:
    """The CSRF token of this browser (created on first use; `set_csrf_cookie` stores it)."""
    cached: str | None = getattr(request.state, "csrf_token", None)
    if cached:
        return cached
    current = request.cookies.get(CSRF_COOKIE, "")
    secret: bytes = request.app.state.runtime.secret
    if not (current and len(current) < 200 and _valid_csrf(secret, current)):
        nonce = secrets.token_urlsafe(18)
        current = f"{nonce}.{_sign(secret, nonce)}"
        request.state.csrf_new = True
    request.state.csrf_token = current
    return current


def set_csrf_cookie(request: Request, response: Response) -> None:
    if getattr(request.state, "csrf_new", False):
        _cookie(request, response, CSRF_COOKIE, request.state.csrf_token, 7 * 24 * 3600)


def check_csrf(request: Request, form: Any) -> None:
    """Refuse a state-changing form whose token does not match this browser's cookie."""
    sent = form.get(CSRF_FIELD)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    secret: bytes = request.app.state.runtime.secret
    if not (isinstance(sent, str) and cookie and len(sent) < 200
            and hmac.compare_digest(sent, cookie) and _valid_csrf(secret, cookie)):
        raise CsrfRefused("Reload the page and try again")


def sign_in(request: Request, response: Response, pair: TokenPair) -> None:
    settings = request.app.state.settings
    _cookie(request, response, ACCESS_COOKIE, pair.access_token, pair.expires_in)
    _cookie(request, response, REFRESH_COOKIE, pair.refresh_token,
            settings.refresh_token_ttl_seconds)


def sign_out(request: Request, response: Response) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, secure=secure(request),
                               samesite="lax")


async def browser_actor(request: Request, *, preference: bool = True) -> Actor | None:
    """The signed-in user of this browser, or None. An expired access token is renewed with
    the refresh cookie (rotation as in `POST /api/auth/refresh`); the new pair is kept in
    `request.state.renewed` for `pages.render` to store.

    `preference=False`: the page reads the user's language itself (`i18n.keep_preference`),
    with its own data. A loader that checks the revocation set needs no session: a valid
    access token then opens none."""
    loader = request.app.state.actor_loader
    tokens = request.app.state.tokens
    access = request.cookies.get(ACCESS_COOKIE)
    if access:
        try:
            session = request_session(request) if getattr(loader, "needs_session", True) \
                else None
            actor: Actor = await loader(session, tokens.verify(access))
            if preference:
                await i18n.remember_preference(request, request_session(request), actor)
            return actor
        except DomainError:
            pass
    refresh = request.cookies.get(REFRESH_COOKIE)
    if not refresh:
        return None
    session = request_session(request)
    try:
        pair = await auth_service.refresh(session, request.app.state.runtime, refresh)
        actor = await loader(session, tokens.verify(pair.access_token))
    except DomainError:
        return None
    request.state.renewed = pair
    if preference:
        await i18n.remember_preference(request, session, actor)
    return actor


def same_origin(request: Request) -> bool:
    """Whether a GET carrying the cookie session comes from this site's own pages. Browsers
    send `Origin` on every cross-origin `fetch`/`EventSource` (and `Sec-Fetch-Site`); a
    same-origin GET may carry neither. Either header naming another site refuses it; the
    site is the request's own origin or the configured public URL (behind a proxy)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True
    own = {f"{request.url.scheme}://{request.url.netloc}"}
    public = request.app.state.settings.public_url
    if public:
        parsed = urlsplit(str(public))
        own.add(f"{parsed.scheme}://{parsed.netloc}")
    return origin.rstrip("/") in own


async def cookie_actor(request: Request) -> Actor | None:
    """The signed-in user of the access cookie alone, checked as on pages (signature, expiry,
    the login's revocation and the account's status, through the app's `actor_loader`), or
    None. No renewal from the refresh cookie: a long-lived background request (the live
    stream) never rotates the browser's tokens; the page itself renews them."""
    access = request.cookies.get(ACCESS_COOKIE)
    if not access:
        return None
    loader = request.app.state.actor_loader
    try:
        session = request_session(request) if getattr(loader, "needs_session", True) else None
        actor: Actor = await loader(session, request.app.state.tokens.verify(access))
    except DomainError:
        return None
    return actor
