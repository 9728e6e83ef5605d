"""Database engine, sessions, the declarative Base and the column types every domain shares.

One request is one transaction: the session is created lazily by `SessionDep`, committed by
`TransactionalRoute` after the endpoint returns, and rolled back on any error. Services only
`flush()`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import JSON, DateTime, MetaData, String, TypeDecorator, Uuid, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

log = structlog.get_logger("mindlinks.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    SQLite keeps no offset, so values are normalised to UTC on the way in and marked UTC
    on the way out; a naive datetime is a programming error and is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# JSONB on PostgreSQL (indexable), JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        str: String(),
    }


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; foreign keys are off by default in SQLite;
    # busy_timeout makes a second writer wait instead of failing at once.
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of pysqlite's implicit one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front, which serialises writers
    # instead of failing one of them with "database is locked" on upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False, pool: bool = True) -> AsyncEngine:
    """Create the async engine for `url`, with each database's connection settings."""
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
        # SQLite has a single writer and every transaction here takes the write lock up front.
        # One pooled connection per process makes concurrent requests queue on an asyncio pool
        # instead of spinning in SQLite's sleeping busy handler (p99 of seconds under load).
        # Other processes (a separate worker) still wait through busy_timeout.
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    if not pool:
        kwargs["poolclass"] = NullPool
    else:
        kwargs.update(pool_size=10, max_overflow=20, pool_pre_ping=True)
    return create_async_engine(url, **kwargs)


def after_commit(session: AsyncSession, hook: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `hook` once `session` has committed (never if it rolls back)."""
    session.info.setdefault("after_commit", []).append(hook)


def on_rollback(session: AsyncSession, hook: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `hook` if `session` rolls back (never once it has committed): how a file written to
    storage during a transaction that then fails is taken back."""
    session.info.setdefault("on_rollback", []).append(hook)


async def commit(session: AsyncSession) -> None:
    """Commit, then run the after-commit hooks registered on the session."""
    await session.commit()
    session.info.pop("on_rollback", None)
    for hook in session.info.pop("after_commit", []):
        await hook()


async def rollback(session: AsyncSession) -> None:
    """Roll back, drop the after-commit hooks and run the on-rollback ones (best effort: a
    failing hook is logged, the others still run)."""
    session.info.pop("after_commit", None)
    hooks = session.info.pop("on_rollback", [])
    await session.rollback()
    for hook in hooks:
        try:
            await hook()
        except Exception:
            log.warning("rollback_hook_failed", exc_info=True)


class Database:
    """The engine and the session factory of one application instance."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work for jobs and the CLI: commits on success, rolls back on error."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await commit(session)
            except BaseException:
                await rollback(session)
                raise

    async def commit(self, session: AsyncSession) -> None:
        await commit(session)

    async def dispose(self) -> None:
        await self.engine.dispose()
