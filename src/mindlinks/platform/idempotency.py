"""`Idempotency-Key` for every money-moving POST: one dependency, `IdempotencyKeyDep`.

After Stripe and the IETF draft (draft-ietf-httpapi-idempotency-key-header):

- The header is required (400 `idempotency_key_required`); 16 to 255 printable ASCII characters
  with at least 6 different ones (400 `idempotency_key_invalid`: a short or repetitive key is
  likely to collide with another request's).
- Keys are scoped per user: `(user_id, key)` is a unique constraint of
  `platform_idempotency_keys`. The row is inserted (the key "claimed") in the request's own
  transaction, so it commits together with the write it guards, or not at all.
- The response (status, body bytes, content type, Location) is stored in that same transaction,
  just before the commit (`TransactionalRoute` runs `request.state.before_commit` hooks). The same
  key with the same request (method, path, body SHA-256) replays it byte for byte with
  `Idempotent-Replayed: true`; with another request it is 422 `idempotency_key_reused`.
- An error answer is not memoised: request validation fails, or a domain error rolls the
  transaction back - the claim with it - so a corrected retry under the same key executes.
- A key in use by a request still running is 409 `idempotency_key_in_flight` on PostgreSQL
  (the claim waits at most `IN_FLIGHT_WAIT` for the other transaction's unique-index entry); on
  SQLite writers are serialised (BEGIN IMMEDIATE), so the second request waits and replays.
- Keys are kept 24 hours; after that a key executes again (`purge` deletes expired rows).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from sqlalchemy import BigInteger, LargeBinary, String, UniqueConstraint, delete, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin, discard, utcnow
from mindlinks.platform.errors import BadRequest, Conflict, ValidationFailed
from mindlinks.platform.security import Actor, CurrentUser

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEEP = timedelta(hours=24)
MIN_LENGTH, MAX_LENGTH, MIN_DISTINCT = 16, 255, 6
IN_FLIGHT_WAIT = "200ms"
_KEPT_HEADERS = ("location",)


class IdempotencyKey(IdMixin, TimestampMixin, Base):
    __tablename__ = "platform_idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    user_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(MAX_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None]
    content_type: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str | None] = mapped_column(String(2000))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    body_size: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class KeyRequired(BadRequest):
    code, title = "idempotency_key_required", "Idempotency-Key header required"


class KeyInvalid(BadRequest):
    code, title = "idempotency_key_invalid", "Invalid Idempotency-Key"


class KeyReused(ValidationFailed):
    code, title = "idempotency_key_reused", "Idempotency-Key reused with another request"


class KeyInFlight(Conflict):
    code, title = "idempotency_key_in_flight", "A request with this Idempotency-Key is running"


class Replay(Exception):
    """Raised by the dependency to answer with a stored response instead of running the
    endpoint; turned into that response by the handler `install` registers."""

    def __init__(self, row: IdempotencyKey) -> None:
        super().__init__("idempotent replay")
        # Plain values: the request's rollback expires the row before the handler runs.
        self.status_code = row.status_code or 200
        self.content_type = row.content_type
        self.location = row.location
        self.body = row.body or b""


def _check_key(key: str | None) -> str:
    if key is None or key == "":
        raise KeyRequired(f"Send an {HEADER} header (e.g. a random UUID) with this request")
    if not MIN_LENGTH <= len(key) <= MAX_LENGTH or not key.isascii() or not key.isprintable() \
            or len(set(key)) < MIN_DISTINCT:
        raise KeyInvalid(f"An {HEADER} has {MIN_LENGTH} to {MAX_LENGTH} printable ASCII "
                         f"characters, not a short or repetitive value")
    return key


async def _fetch(session: AsyncSession, user_id: uuid.UUID, key: str) -> IdempotencyKey | None:
    return await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True))


def _lock_not_available(exc: DBAPIError) -> bool:
    orig: Any = exc.orig
    codes = {getattr(orig, "sqlstate", None), getattr(orig, "pgcode", None),
             getattr(getattr(orig, "__cause__", None), "sqlstate", None)}
    return "55P03" in codes


async def _claim(session: AsyncSession, row: IdempotencyKey) -> bool:
    """Insert the claim; False when another transaction committed the key meanwhile."""
    postgres = session.get_bind().dialect.name == "postgresql"
    try:
        async with session.begin_nested():
            if postgres:  # wait briefly for a running request's claim, then answer 409
                await session.execute(text(f"SET LOCAL lock_timeout = '{IN_FLIGHT_WAIT}'"))
            session.add(row)
            await session.flush()
    except IntegrityError:
        discard(session, row)
        return False
    except DBAPIError as exc:
        if _lock_not_available(exc):
            discard(session, row)
            raise KeyInFlight("Another request with this key is still running") from exc
        raise
    if postgres:
        await session.execute(text("SET LOCAL lock_timeout = DEFAULT"))
    return True


async def _record(row: IdempotencyKey, session: AsyncSession, response: Response) -> None:
    row.status_code = response.status_code
    row.content_type = response.headers.get("content-type")
    row.location = response.headers.get("location")
    row.body = bytes(response.body)
    row.body_size = len(row.body)
    await session.flush()


async def idempotency_key(request: Request, actor: CurrentUser) -> str:
    return await claim(request, actor, request.headers.get(HEADER))


async def claim(request: Request, actor: Actor, raw_key: str | None, *,
                content: bytes | None = None) -> str:
    """The dependency's work for a key that arrives another way: a web form carries it in a
    hidden field (the browser cannot send the header). Same checks, same replay of the stored
    response (raise `Replay`), same claim in the request's transaction. `content` stands for
    the body when the raw bytes differ between two sends of the same form: a multipart
    form's boundary is new on every post, so the page passes a digest of its fields."""
    from mindlinks.platform.api import request_session

    key = _check_key(raw_key)
    session = request_session(request)
    digest = hashlib.sha256()
    body = await request.body() if content is None else content
    for part in (request.method.encode(), request.url.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    request_hash = digest.hexdigest()
    now = utcnow()
    for _ in range(2):
        existing = await _fetch(session, actor.user_id, key)
        if existing is not None and existing.expires_at <= now:
            await session.execute(delete(IdempotencyKey).where(
                IdempotencyKey.id == existing.id))
            existing = None
        if existing is not None:
            if existing.request_hash != request_hash:
                raise KeyReused("This Idempotency-Key was used for another request")
            raise Replay(existing)
        row = IdempotencyKey(id=uuid.uuid4(), user_id=actor.user_id, key=key,
                             request_hash=request_hash, created_at=now, expires_at=now + KEEP)
        if await _claim(session, row):
            hooks = request.state.__dict__.setdefault("before_commit", [])
            hooks.append(lambda response, row=row: _record(row, session, response))
            return key
    raise KeyInFlight("Another request with this key is still running")


IdempotencyKeyDep = Annotated[str, Depends(idempotency_key)]


def _replay_response(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Replay)
    headers = {REPLAYED: "true"}
    if exc.location:
        headers["Location"] = exc.location
    response = Response(content=exc.body, status_code=exc.status_code, headers=headers)
    if exc.content_type:
        response.headers["content-type"] = exc.content_type
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(Replay, _replay_response)


async def purge(session: AsyncSession, now: datetime | None = None) -> int:
    result: Any = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow())))
    return int(result.rowcount or 0)


