"""HTTP conventions every domain's router uses.

- `CamelModel`: one base for every request/response schema (camelCase JSON, snake_case Python).
- `Page[T]` + `PageParams`: the list envelope `{"data": [...], "meta": {...}}`.
- `TransactionalRoute` + `SessionDep`: one request = one transaction, committed after the
  endpoint returns and rolled back on any error.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.platform.db import after_commit, commit, rollback
from mindlinks.platform.errors import DomainError

__all__ = ["after_commit"]

T = TypeVar("T")

# The error type (and problem `code`) of text carrying a NUL character.
INVALID_CHARACTERS = "invalid_characters"


def contains_nul(value: Any) -> bool:
    """Whether a decoded JSON value holds U+0000 in any string, dict key included. Walked with
    a stack, not recursion, so a deeply nested value cannot exhaust the interpreter's stack."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


class CamelModel(BaseModel):
    """Base of every request body (responses use `ResponseModel`).

    Requests declare booleans and integers as `StrictBool`/`StrictInt`: `0`, `"no"` or
    `false` must not pass for a flag or a sequence number (tests/platform/test_request_limits.py
    checks every request model)."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        from_attributes=True,
        # Unknown fields are refused, so `{"role": "admin"}` in a profile update is a 422,
        # never silently accepted (mass assignment).
        extra="forbid",
    )

    # NUL is refused in every string of every request, nested models, lists and dict keys
    # included: PostgreSQL cannot store it in text (a 500) and SQLite would keep it silently.
    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any, info: ValidationInfo) -> Any:
        if contains_nul(value):
            raise PydanticCustomError(
                INVALID_CHARACTERS, "Text must not contain NUL (U+0000) characters"
            )
        return value


def _json_default(value: Any) -> Any:
    # asyncpg returns its own UUID subclass, which orjson (exact types only) does not know.
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class RowSerializer:
    """The JSON `model` would produce for a row the server has just read, without validating it
    again: the camelCase keys are taken from the model once, orjson writes the values (UTC
    datetimes with `Z`, as Pydantic does). Endpoints return its `Response` and keep
    `response_model=model` for the OpenAPI document."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.fields = tuple((name, info.alias or name) for name, info in model.model_fields.items())
        self.columns = tuple(name for name, _alias in self.fields)

    def dumps(self, row: Any) -> bytes:
        return orjson.dumps({alias: row[name] for name, alias in self.fields},
                            default=_json_default, option=orjson.OPT_UTC_Z)

    def response(self, row: Any) -> Response:
        return Response(self.dumps(row), media_type="application/json")

    def as_dict(self, row: Any) -> dict[str, Any]:
        """The row's response object (camelCase keys), for a larger document: `json_response`."""
        return {alias: row[name] for name, alias in self.fields}


def model_response(model: BaseModel, status_code: int = 200) -> Response:
    """The JSON of a response model the endpoint has just built (and so validated): what the
    route's `response_model` would write, without FastAPI validating it a second time."""
    return Response(model.model_dump_json(by_alias=True), status_code=status_code,
                    media_type="application/json")


def json_response(document: Any, status_code: int = 200) -> Response:
    """A JSON response of a document built from rows the server has just read (see
    `RowSerializer`): orjson, no second validation by the route's `response_model`."""
    return Response(orjson.dumps(document, default=_json_default, option=orjson.OPT_UTC_Z),
                    status_code=status_code, media_type="application/json")


# Ids for the OpenAPI examples (the seeds write "uuid").
EXAMPLE_ID = "3f2c1a9e-8d4b-4c2a-9f1e-5b6d7c8e9f01"
EXAMPLE_ID_2 = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
EXAMPLE_ID_3 = "c0ffee00-1234-4abc-8def-0123456789ab"


def seed_example(example: dict[str, Any]) -> ConfigDict:
    """`model_config` that shows `example` (from the seeds) in the OpenAPI document. The
    suite validates every such example against its model, so they cannot drift."""
    return ConfigDict(json_schema_extra={"examples": [example]})


class ResponseModel(CamelModel):
    """Responses may be built from ORM rows with more attributes than they show:
    `Contract.model_validate(row)`, or `Contract.model_validate(RowWith(row, rate=...))` when
    some fields are computed (another domain's name, a signed URL, an amount in major units)."""

    model_config = ConfigDict(extra="ignore")

    # Responses hold what the server stored; walking each of their fields would only cost time.
    @classmethod
    def _refuse_nul(cls, value: Any, info: ValidationInfo) -> Any:
        return value


class RowWith:
    """`row` as `model_validate(..., from_attributes=True)` reads it, with the attributes in
    `extra` added or replaced: the response names only what differs from the row."""

    __slots__ = ("_extra", "_row")

    def __init__(self, row: object, **extra: Any) -> None:
        self._row, self._extra = row, extra

    def __getattr__(self, name: str) -> Any:
        if name in self._extra:
            return self._extra[name]
        return getattr(self._row, name)


class PageMeta(ResponseModel):
    total: int
    page: int
    limit: int
    total_pages: int


class Page(ResponseModel, Generic[T]):
    data: list[T]
    meta: PageMeta

    @classmethod
    def build(cls, data: list[Any], total: int, params: PageParams) -> Page[T]:
        return cls(
            data=data,
            meta=PageMeta(
                total=total,
                page=params.page,
                limit=params.limit,
                total_pages=math.ceil(total / params.limit) if total else 0,
            ),
        )


# An offset must fit the databases' 64-bit integers; no real listing comes near this.
MAX_PAGE = 1_000_000

# The largest value a BIGINT column holds: every integer path/query parameter and body field
# that reaches a query is bounded by it (or tighter), so 2**63 is a 422, not a driver overflow.
MAX_INT64 = 2**63 - 1


@dataclass(frozen=True)
class PageParams:
    """1 <= `page` <= 1,000,000 and 1 <= `limit` <= 100; anything else is a 422."""

    page: int = 1
    limit: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


async def page_params(
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1")] = 1,
    limit: Annotated[int, Query(ge=1, le=100, description="Items per page")] = 20,
) -> PageParams:
    return PageParams(page, limit)


PageDep = Annotated[PageParams, Depends(page_params)]


def _state(request: Request) -> dict[str, Any]:
    """The dict `request.state` wraps. Read with `.get`: Starlette's `State` answers a key not
    set by formatting and raising an AttributeError (~1 µs), twice per request that opens no
    session when read with `getattr(request.state, ..., None)`."""
    return request.scope.setdefault("state", {})


def request_session(request: Request) -> AsyncSession:
    """The request's session, created on first use; `TransactionalRoute` ends it."""
    session: AsyncSession | None = _state(request).get("db_session")
    if session is None:
        db = request.app.state.db
        # A read-only request begins its transaction only if it writes (`db.LAZY_BEGIN`).
        maker = db.read_sessionmaker if request.method in READ_ONLY_METHODS else db.sessionmaker
        session = maker()
        request.state.db_session = session
    return session


READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


def _dead_connection(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


# Dependencies are `async def` even when they do not await: FastAPI runs a plain `def`
# dependency in its thread pool, a thread hop on every request for nothing.
async def get_session(request: Request) -> AsyncSession:
    return request_session(request)


SessionDep = Annotated[AsyncSession, Depends(get_session)]


class TransactionalRoute(APIRoute):
    """Commits the request's session after the endpoint returned, before the response goes out.

    Doing it here rather than in a `yield` dependency makes the order certain: a failed commit
    becomes the response (the client never sees a 200 for a write that did not happen), and
    after-commit hooks (waking the event dispatcher, sending mail) run only for committed work.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run_in_transaction(request: Request) -> Response:
            try:
                try:
                    response = await handler(request)
                except DBAPIError as exc:
                    # A pooled connection that died while idle (no pre-ping): its transaction
                    # is gone with it, nothing was committed, so the request runs once more
                    # on a fresh connection.
                    if not _dead_connection(exc):
                        raise
                    await _discard_session(request)
                    response = await handler(request)
                session: AsyncSession | None = _state(request).get("db_session")
                if session is not None:
                    # Work that must commit with the response (the idempotency record).
                    for hook in getattr(request.state, "before_commit", ()):
                        await hook(response)
                    await commit(session)
                return response
            except BaseException as exc:
                session = _state(request).get("db_session")
                if session is not None:
                    if isinstance(exc, DomainError) and exc.persist:
                        await commit(session)
                    else:
                        await rollback(session)
                raise
            finally:
                session = _state(request).get("db_session")
                if session is not None:
                    request.state.db_session = None
                    await session.close()

        return run_in_transaction


async def _discard_session(request: Request) -> None:
    session: AsyncSession | None = _state(request).get("db_session")
    request.state.db_session = None
    if session is not None:
        await rollback(session)
        await session.close()


# RFC 9457 problem details, as every error answers (`platform/errors.py`).
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable machine-readable error code"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"},
            "code": {"type": "string"},
            "params": {"type": "object", "description": "The rule's figures (maxLength...)"},
        }}},
    },
}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}}}


# Documented on every domain route, so the OpenAPI document lists what clients really get
# (FastAPI's default 422 schema is replaced by the problem shape).
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_response("Bad request (e.g. malformed JSON)"),
    401: _problem_response("Missing, invalid or expired credentials"),
    403: _problem_response("Authenticated but not allowed"),
    404: _problem_response("Not found, or not yours"),
    409: _problem_response("Conflicts with the current state"),
    413: _problem_response("Body too large"),
    422: _problem_response("Validation failed (`errors` lists the fields)"),
    429: _problem_response("Too many requests (see Retry-After)"),
}


def domain_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes run in one transaction each and document the problem
    responses every route can give."""
    responses = {**PROBLEM_RESPONSES, **kwargs.pop("responses", {})}
    return APIRouter(route_class=TransactionalRoute, responses=responses, **kwargs)
