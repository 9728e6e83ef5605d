"""Passwords, access tokens and the current-user dependencies every domain uses.

- Passwords: argon2id (argon2-cffi, RFC 9106 low-memory profile or stronger).
- Access tokens: JWT RS256 signed with our key, verified with `algorithms=["RS256"]` only.
- `CurrentUser` / `AdminUser` / `require_role(...)`: the request's `Actor`.

Platform knows no domain: whether a token's session is still alive and the user not
suspended is asked of an `ActorLoader` that the auth domain registers at start-up.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import os
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Protocol

import jwt
from argon2 import PasswordHasher
from argon2 import exceptions as argon2_exc
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.base import SecurityBase
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.platform.api import request_session
from mindlinks.platform.errors import (
    ForbiddenRole,
    InvalidToken,
    MfaRequired,
    NotAuthenticated,
    TokenExpired,
)
from mindlinks.platform.json_input import parse_json
from mindlinks.platform.logging import bind_user
from mindlinks.settings import Settings


class Role(StrEnum):
    CLIENT = "client"
    CONTRACTOR = "contractor"
    ADMIN = "admin"


# --- passwords ---------------------------------------------------------------------------

# argon2-cffi's defaults are RFC 9106's "low memory" profile (argon2id, 64 MiB, t=3, p=4),
# above OWASP's floor (m >= 19 MiB, t >= 2). Hashes made with weaker parameters are
# upgraded at the next successful login (`password_needs_rehash`).
password_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return password_hasher.verify(password_hash, password)
    except (argon2_exc.VerificationError, argon2_exc.InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return password_hasher.check_needs_rehash(password_hash)


# A real hash to verify against when the email is unknown, so both paths cost the same.
_DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


# --- secrets on disk -------------------------------------------------------------------


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def load_secret_key(settings: Settings) -> bytes:
    """The HMAC secret for hashed IPs and signed links: from settings, else generated once."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.keys_dir / "secret.key"
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # another process won the race
            _write_private(path, base64.urlsafe_b64encode(secrets.token_bytes(32)))
    return path.read_bytes().strip()


def keyed_hash(secret: bytes, value: str) -> str:
    """A stable pseudonym (HMAC-SHA256) for values we must match but never store: IPs."""
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    """Opaque tokens (refresh, reset, verification) are >= 256 random bits, so a plain
    SHA-256 is enough to store them: nothing to brute-force."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- JWT keys --------------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    kid: str
    public_pem: bytes
    private_key: Any | None  # only the current key signs
    # Parsed once: verification runs on every request.
    public_key: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "public_key", serialization.load_pem_public_key(self.public_pem))


def _kid(public_key: Any) -> str:
    # RFC 7638 JWK thumbprint: stable for a key, whoever computes it.
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
    canonical = '{"e":"%s","kty":"RSA","n":"%s"}' % (jwk["e"], jwk["n"])  # noqa: UP031
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _public_pem(private_key: Any) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@functools.lru_cache(maxsize=4)
def _load_private_key(pem: bytes) -> Any:
    """Parsing checks the RSA key's arithmetic (~30 ms of CPU): an app built again in the same
    process (a worker's restart, the tests' one app per test) reuses the parsed key."""
    return serialization.load_pem_private_key(pem, password=None)


class KeyRing:
    """The current signing key plus previous public keys still accepted during rotation."""

    def __init__(self, current: SigningKey, previous: list[SigningKey]) -> None:
        self.current = current
        self.by_kid = {k.kid: k for k in [current, *previous]}

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        if settings.jwt_private_key:
            pem = settings.jwt_private_key.encode()
        else:
            path = settings.keys_dir / "jwt-private.pem"
            if not path.exists():
                key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
                with contextlib.suppress(FileExistsError):  # another process won the race
                    _write_private(
                        path,
                        key.private_bytes(
                            serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption(),
                        ),
                    )
            pem = path.read_bytes()
        private_key = _load_private_key(pem)
        current = SigningKey(_kid(private_key.public_key()), _public_pem(private_key), private_key)
        previous = []
        for prev_pem in settings.jwt_previous_public_keys:
            pub = serialization.load_pem_public_key(prev_pem.encode())
            previous.append(SigningKey(_kid(pub), prev_pem.encode(), None))
        return cls(current, previous)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for key in self.by_kid.values():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key, as_dict=True)
            keys.append({**jwk, "kid": key.kid, "use": "sig", "alg": "RS256"})
        return {"keys": keys}


# --- tokens ----------------------------------------------------------------------------

ACCESS = "access"
MFA_PENDING = "mfa"


class TokenService:
    """Issues and verifies our JWTs. Only RS256, only our keys, every claim required.

    A token is reused on every request of its 15 minutes, so the claims of tokens that passed
    verification are remembered (bounded LRU, per process). A remembered token still has its
    time window checked on each use, and is forgotten if its key leaves the key ring: the
    bytes are the same bytes, so the signature and the fixed claims (`iss`, `aud`, `typ`)
    cannot have changed. Revocation is not a token property: `ActorLoader` checks it per request.
    """

    VERIFIED_CACHE_SIZE = 4096

    def __init__(self, settings: Settings, keys: KeyRing) -> None:
        self.settings = settings
        self.keys = keys
        self._verified: OrderedDict[tuple[str, str], tuple[str, dict[str, Any]]] = OrderedDict()

    def issue(
        self,
        *,
        subject: uuid.UUID,
        token_type: str,
        ttl_seconds: int,
        claims: dict[str, Any],
        now: datetime | None = None,
    ) -> str:
        now = now or datetime.now(UTC)
        payload = {
            **claims,
            "sub": str(subject),
            "typ": token_type,
            "iss": self.settings.jwt_issuer,
            # MFA-pending tokens get their own audience so they can never pass as access tokens.
            "aud": self._audience(token_type),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        assert self.keys.current.private_key is not None  # the current key always signs
        return jwt.encode(
            payload,
            self.keys.current.private_key,
            algorithm="RS256",
            headers={"kid": self.keys.current.kid, "typ": "JWT"},
        )

    def _audience(self, token_type: str) -> str:
        aud = self.settings.jwt_audience
        return aud if token_type == ACCESS else f"{aud}:{token_type}"

    def verify(self, token: str, *, token_type: str = ACCESS) -> dict[str, Any]:
        """The token's claims, or `Unauthorized` for anything short of a valid token of
        `token_type` signed by one of our keys. Header fields such as `jku`, `x5u` or `jwk`
        are never consulted: the key is chosen by `kid` from our own key ring only."""
        remembered = self._verified.get((token, token_type))
        if remembered is not None:
            kid, claims = remembered
            now = time.time()
            if kid in self.keys.by_kid and claims["nbf"] <= now < claims["exp"]:
                self._verified.move_to_end((token, token_type))
                return dict(claims)
            del self._verified[(token, token_type)]
        kid, claims = self._verify(token, token_type)
        self._verified[(token, token_type)] = (kid, claims)
        if len(self._verified) > self.VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return dict(claims)

    def _verify(self, token: str, token_type: str) -> tuple[str, dict[str, Any]]:
        try:
            header = _unverified_header(token)
            key = self.keys.by_kid.get(str(header.get("kid")))
            if key is None or header.get("alg") != "RS256":
                raise InvalidToken("Invalid token")
            claims: dict[str, Any] = jwt.decode(
                token,
                key.public_key,
                algorithms=["RS256"],
                audience=self._audience(token_type),
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "typ"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired("Token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("Invalid token") from exc
        if claims.get("typ") != token_type:
            raise InvalidToken("Invalid token")
        return key.kid, claims


def _unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, read only to pick our key by `kid`: `jwt.decode` below then checks the
    whole token, header included. (PyJWT's own `get_unverified_header` parses and validates
    the entire token, which doubled the cost of every authenticated request.)"""
    segment = token.split(".", 1)[0]
    try:
        header = parse_json(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise jwt.DecodeError("Invalid header") from exc
    if not isinstance(header, dict):
        raise jwt.DecodeError("Invalid header")
    return header


# --- the current actor -----------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who is making the request, as loaded fresh from the database on every request
    (so a suspension or role change takes effect on the next request)."""

    user_id: uuid.UUID
    email: str
    role: Role
    session_id: uuid.UUID | None = None
    amr: tuple[str, ...] = ()
    contractor_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    kyc_status: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def mfa_verified(self) -> bool:
        return "otp" in self.amr


class ActorLoader(Protocol):
    """Implemented by the auth domain: turns verified claims into a live `Actor`, or raises
    `Unauthorized` (session revoked) / `PermissionDenied` (account suspended)."""

    async def __call__(self, session: AsyncSession, claims: dict[str, Any]) -> Actor: ...


_bearer = HTTPBearer(auto_error=False, description="Access token from POST /api/auth/login")

# The request's actor, once resolved from its bearer token: every auth dependency of the
# request (a route may ask for `CurrentUser` and a role) shares it.
_ACTOR_KEY = "mindlinks.actor"


async def _resolve(request: Request, token: str) -> Actor:
    """Verify `token` (signature, audience, issuer, time window) and have the loader check the
    login is alive and the user not suspended; the actor, remembered for this request."""
    claims = request.app.state.tokens.verify(token)
    loader: ActorLoader = request.app.state.actor_loader
    # A loader that checks a revocation set instead of the database takes no session, so a
    # request that reads nothing else opens none.
    session = request_session(request) if getattr(loader, "needs_session", True) else None
    actor = await loader(session, claims)  # type: ignore[arg-type]
    request.state.actor = actor
    request.scope[_ACTOR_KEY] = actor
    bind_user(actor.user_id)
    return actor


def _bearer_token(request: Request) -> str | None:
    """The credentials of an `Authorization: Bearer ...` header, as `HTTPBearer` reads them.

    The header is looked up as `request.headers.get` does (the first one, names as the server
    sent them: lowercase), without building the `Headers` object (~1 µs a request)."""
    header = None
    for key, value in request.scope["headers"]:
        if key == b"authorization":
            header = value.decode("latin-1")
            break
    scheme, credentials = get_authorization_scheme_param(header)
    if not (scheme and credentials) or scheme.lower() != "bearer":
        return None
    return credentials


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The actor of a request whose credentials were read by an `HTTPBearer` (a router's own
    optional scheme); routes use `CurrentUser`."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("Missing bearer token")
    actor: Actor | None = request.scope.get(_ACTOR_KEY)
    return actor if actor is not None else await _resolve(request, credentials.credentials)


class BearerActor(SecurityBase):
    """The request's `Actor` as ONE dependency: the bearer token read, verified, the login
    checked alive, then the role rules of this instance.

    It was a chain (`require_role` -> `current_actor` -> `HTTPBearer`): FastAPI solves each
    level on every request (sub-dependencies, cache keys, parameter extraction), which cost
    more than verifying the token. A security scheme itself, so the OpenAPI document shows the
    same `HTTPBearer` scheme on the same operations."""

    def __init__(self, roles: frozenset[Role] | None = None, *, admin_only: bool = False,
                 optional: bool = False) -> None:
        self.model = _bearer.model
        self.scheme_name = _bearer.scheme_name
        self.roles = roles
        self.admin_only = admin_only
        self.optional = optional

    async def __call__(self, request: Request) -> Actor | None:
        actor: Actor | None = request.scope.get(_ACTOR_KEY)
        if actor is None:
            token = _bearer_token(request)
            if token is None:
                if self.optional:
                    return None
                raise NotAuthenticated("Missing bearer token")
            actor = await _resolve(request, token)
        if self.admin_only:
            if actor.role != Role.ADMIN:
                raise ForbiddenRole("Administrators only")
            if not actor.mfa_verified:
                raise MfaRequired("Admin actions need MFA")
        elif self.roles is not None:
            if actor.role not in self.roles:
                raise ForbiddenRole("This action needs another role")
            if actor.role == Role.ADMIN and not actor.mfa_verified:
                raise MfaRequired("Admin actions need MFA")
        return actor


CurrentUser = Annotated[Actor, Depends(BearerActor())]

# The signed-in user when a bearer token is sent (then it must be valid), else None: for
# routes that also accept another proof (a link's token).
OptionalUser = Annotated[Actor | None, Depends(BearerActor(optional=True))]


def require_role(*roles: Role | str) -> Any:
    """A dependency that lets only `roles` through (403 `forbidden_role` otherwise)."""
    return Depends(BearerActor(frozenset(Role(r) for r in roles)))


AdminUser = Annotated[Actor, Depends(BearerActor(admin_only=True))]
CurrentContractor = Annotated[Actor, require_role(Role.CONTRACTOR)]
CurrentClient = Annotated[Actor, require_role(Role.CLIENT)]
