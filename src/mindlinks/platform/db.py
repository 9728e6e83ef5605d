"""Database engine, sessions, the declarative Base and the column types every domain shares.

One request is one transaction: the session is created lazily by `SessionDep`, committed by
`TransactionalRoute` after the endpoint returns, and rolled back on any error. Services only
`flush()`.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
import weakref
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import structlog
import uuid_utils
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    MetaData,
    String,
    Table,
    TypeDecorator,
    Uuid,
    any_,
    bindparam,
    event,
    insert,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.dml import Insert

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

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """On SQLite, the text SQLAlchemy stores (`2026-11-29 12:46:35.836914`, always this
        shape) is read straight into an aware UTC datetime: measured here, parsing it naive
        and then `replace(tzinfo=UTC)` cost ~13 µs a value, this ~3 µs (`/api/auth/me` reads
        three). Any other text goes the general way, with the same result."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or general is None:
            return general

        def process(value: Any) -> datetime | None:
            if type(value) is str and len(value) == 26 and value[10] == " " \
                    and value[19] == "." and value[4] == "-":
                return datetime.fromisoformat(value + "+00:00")
            return general(value)

        return process


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


# Row ids are time-ordered UUIDs (version 7, RFC 9562: 48 bits of Unix milliseconds, then
# 74 random bits), not random ones (v4): a new row's id lands at the right end of each id
# B-tree, so a batch of inserts touches a few index pages instead of one random page per
# row - what made large payroll runs grow faster than their row count (docs/performance.md).
# An id still cannot be guessed from another, but it tells when its row was created
# (docs/architecture.md). Secrets and tokens keep `uuid.uuid4()` / `secrets`.
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def new_id() -> uuid.UUID:
    """`uuid_utils.compat.uuid7()`, the same value and object: a stdlib UUID built around the
    Rust generator's int without `UUID.__init__`'s checks. Written out because the compat
    function reads `SafeUUID.unknown` - an enum member lookup, ~0.5 us - on every call, ~half
    its cost; a payroll item mints 7 ids."""
    u = object.__new__(uuid.UUID)
    object.__setattr__(u, "int", uuid_utils.uuid7().int)
    object.__setattr__(u, "is_safe", _UNKNOWN_SAFETY)
    return u


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


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


# Execution option of the sessions of read-only (GET/HEAD) requests: their transaction is begun
# lazily, at the first statement that writes or locks. Until then every statement runs on its
# own (SQLite autocommit, PostgreSQL autocommit): a read costs one round trip instead of
# BEGIN + SELECT + COMMIT, and on SQLite it never takes the write lock.
LAZY_BEGIN = "mindlinks_lazy_begin"
_PENDING = "mindlinks_lazy_pending"


def _is_plain_read(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    return head == "SELECT" and not any(
        lock in statement for lock in (" FOR UPDATE", " FOR SHARE", " FOR NO KEY", " FOR KEY")
    )


# SQLite connections (aiosqlite's, by identity) on which this module began a transaction. Every
# statement runs in autocommit mode unless we said BEGIN, so a COMMIT or ROLLBACK is sent only
# for these: each is a hop to aiosqlite's thread, and a read-only request would pay two of them
# (its commit, the pool's reset) for nothing.
_SQLITE_IN_TRANSACTION: weakref.WeakSet[Any] = weakref.WeakSet()


def _aiosqlite(dbapi_connection: Any) -> Any:
    adapted = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)  # a pool proxy
    return getattr(adapted, "_connection", adapted)


def _sqlite_begin_immediate(dbapi_connection: Any) -> None:
    # IMMEDIATE takes the write lock up front, which serialises writers
    # instead of failing one of them with "database is locked" on upgrade.
    dbapi_connection.cursor().execute("BEGIN IMMEDIATE")
    _SQLITE_IN_TRANSACTION.add(_aiosqlite(dbapi_connection))


def _sqlite_transaction_end(dialect: Any) -> None:
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection: Any) -> None:
        raw = _aiosqlite(dbapi_connection)
        if raw in _SQLITE_IN_TRANSACTION:
            commit(dbapi_connection)
            _SQLITE_IN_TRANSACTION.discard(raw)

    def do_rollback(dbapi_connection: Any) -> None:
        raw = _aiosqlite(dbapi_connection)
        if raw in _SQLITE_IN_TRANSACTION:
            _SQLITE_IN_TRANSACTION.discard(raw)
            rollback(dbapi_connection)

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback


def _begin(conn: Any) -> None:
    sqlite = conn.dialect.name == "sqlite"
    if conn.get_execution_options().get(LAZY_BEGIN):
        conn.info[_PENDING] = True
        if not sqlite:
            conn.connection.dbapi_connection.isolation_level = "autocommit"
        return
    if sqlite:
        _sqlite_begin_immediate(conn.connection.dbapi_connection)


def _before_execute(conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any,
                    _executemany: bool) -> None:
    if not conn.info.get(_PENDING):
        return
    # A streamed read runs on a server-side cursor, which PostgreSQL only keeps inside a
    # transaction: it begins one like a write does.
    streamed = context is not None and context.execution_options.get("stream_results")
    if _is_plain_read(statement) and not streamed:
        return
    # The first write (or locking read) of a read-only request: the transaction starts here,
    # so everything from now on commits or rolls back together.
    conn.info[_PENDING] = False
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "sqlite":
        _sqlite_begin_immediate(dbapi)
    else:
        # The asyncpg adapter begins a transaction before its next statement once it is no
        # longer in autocommit mode.
        dbapi.isolation_level = dbapi._isolation_setting


def _end(conn: Any) -> None:
    if conn.invalidated or conn.closed:
        # A connection lost mid-statement (a cancelled task): nothing to restore here, and
        # `conn.info` would raise; `_checkin` resets the pooled connection's mode.
        return
    if conn.info.pop(_PENDING, None) and conn.dialect.name != "sqlite":
        dbapi = conn.connection.dbapi_connection
        dbapi.isolation_level = dbapi._isolation_setting


def _checkin(dbapi_connection: Any, record: Any) -> None:
    # Never hand a connection still in lazy mode to the next user.
    if record.info.pop(_PENDING, None) and hasattr(dbapi_connection, "_isolation_setting"):
        dbapi_connection.isolation_level = dbapi_connection._isolation_setting


def _listen(engine: AsyncEngine) -> None:
    sync = engine.sync_engine
    event.listen(sync, "begin", _begin)
    event.listen(sync, "before_cursor_execute", _before_execute)
    event.listen(sync, "commit", _end)
    event.listen(sync, "rollback", _end)
    event.listen(sync.pool, "checkin", _checkin)


# PostgreSQL: how many driver connections `RawQuery`'s pooled reads keep out of the pool
# between reads, and for how long each. A checkout and return through SQLAlchemy's async pool
# (greenlet adapter, events, reset) cost ~30 µs of CPU around a ~17 µs asyncpg `fetchrow`
# (measured here: `/api/auth/me` reads once per request). After READER_AGE seconds a kept
# connection goes back through the pool, which recycles and resets it as usual.
READERS_KEPT = 16
READER_AGE = 60.0


def create_engine(url: str, *, echo: bool = False, pool: bool = True) -> AsyncEngine:
    """Create the async engine for `url`, with each database's connection settings."""
    # hide_parameters: bound values (an e-mail, a password hash) never appear in an error's
    # text or in echo logs - only the parameterised statement.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30}
        # SQLite has a single writer and every transaction here takes the write lock up front.
        # One pooled connection per process makes concurrent requests queue on an asyncio pool
        # instead of spinning in SQLite's sleeping busy handler (p99 of seconds under load).
        # Other processes (a separate worker) still wait through busy_timeout.
        kwargs.update(pool_size=1, max_overflow=0, pool_timeout=60)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        _sqlite_transaction_end(engine.sync_engine.dialect)
        _listen(engine)
        return engine
    if not pool:
        kwargs["poolclass"] = NullPool
    else:
        # No pre-ping: it cost a round trip (in its own BEGIN/ROLLBACK) on every checkout. A
        # connection found dead is retried once instead (`TransactionalRoute`); recycling
        # keeps connections younger than typical server/proxy idle timeouts.
        # Enough pooled connections for the usual concurrency: an overflow connection is
        # closed on return, so a pool smaller than the load opened a new connection (TCP,
        # authentication, type introspection: tens of ms) on a share of the requests.
        # READERS_KEPT more for the connections RawQuery keeps between its reads, taken from
        # the overflow: a process never holds more than 40 connections, as before the readers
        # were kept (two test workers' race tests, 50 requests each, must fit in PostgreSQL's
        # default max_connections of 100; so must a few server processes in production).
        kwargs.update(pool_size=20 + READERS_KEPT, max_overflow=20 - READERS_KEPT,
                      pool_pre_ping=False, pool_recycle=1800)
    engine = create_async_engine(url, **kwargs)
    _listen(engine)
    return engine


_REQUIRED = object()  # a bind parameter the caller must pass


class RawQuery:
    """A Core SELECT compiled once per dialect and run straight on the driver connection of the
    session (aiosqlite: one hop to its thread instead of four; asyncpg: one round trip, no
    SQLAlchemy result machinery). Values go through the columns' own bind and result
    processors, so rows come back as the ORM would give them (UUIDs, aware UTC datetimes).

    For hot statements only (`GET /api/auth/me`, the lists, the withdrawal request); given a
    session it runs on the session's connection, inside its transaction (begun if need be).
    Nothing of SQLAlchemy's runs for it: no events, no statement cache, no ORM identity map."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, list[tuple[str, Any, Any]],
                                        list[tuple[str, Any]]]] = {}

    def _compile(
        self, dialect: Any
    ) -> tuple[str, list[tuple[str, Any, Any]], list[tuple[str, Any]]]:
        compiled = self.statement.compile(dialect=dialect)
        binds = []
        for name in compiled.positiontup or []:
            bind = compiled.binds[name]
            # A value written in the statement (`status == "scheduled"`) is bound like the
            # others; the caller passes only the named parameters (`bindparam("x")`).
            default = _REQUIRED if bind.required else bind.effective_value
            binds.append((name, bind.type.dialect_impl(dialect).bind_processor(dialect),
                          default))
        results = [(col.key, col.type.dialect_impl(dialect).result_processor(dialect, None))
                   for col in self.statement.selected_columns]
        entry = (str(compiled), binds, results)
        self._compiled[dialect.name] = entry
        return entry

    def _args(self, dialect: Any, params: dict[str, Any]) -> tuple[str, list[Any],
                                                                   list[tuple[str, Any]]]:
        sql, binds, results = self._compiled.get(dialect.name) or self._compile(dialect)
        args = []
        for name, proc, default in binds:
            value = params[name] if default is _REQUIRED else params.get(name, default)
            args.append(proc(value) if proc else value)
        return sql, args, results

    async def first(self, source: AsyncSession | Database, **params: Any) -> dict[str, Any] | None:
        """The first row, on the session's connection (inside its transaction) or - given the
        `Database` - on a pooled connection taken for this one statement only (no session, no
        transaction: nothing to begin or end)."""
        dialect, rows = await self._run(source, params, one=True)
        return self._row(dialect, rows[0]) if rows else None

    async def all(self, source: AsyncSession | Database, **params: Any) -> list[dict[str, Any]]:
        """Every row, on the session's connection or a pooled one (see `first`)."""
        dialect, rows = await self._run(source, params, one=False)
        return [self._row(dialect, row) for row in rows]

    async def _run(self, source: AsyncSession | Database, params: dict[str, Any], *,
                   one: bool) -> tuple[Any, list[Any]]:
        if isinstance(source, Database):
            return source.engine.dialect, await self._pooled(source, params, one=one)
        connection = await source.connection()
        raw = await connection.get_raw_connection()
        dialect = connection.dialect
        sql, args, _results = self._args(dialect, params)
        # The session's transaction, which SQLAlchemy's asyncpg adapter begins only before its
        # own next statement: begun here, so that this statement (a `FOR UPDATE` above all)
        # runs inside it and its locks last until the session commits.
        await _begun(raw.dbapi_connection)
        return dialect, await _fetch(dialect, raw.driver_connection, sql, args, one=one)

    def _row(self, dialect: Any, row: Any) -> dict[str, Any]:
        _sql, _binds, results = self._compiled[dialect.name]
        return {key: proc(value) if proc else value
                for (key, proc), value in zip(results, row, strict=True)}

    async def _pooled(self, db: Database, params: dict[str, Any], *, one: bool) -> list[Any]:
        dialect = db.engine.dialect
        sql, args, _results = self._args(dialect, params)
        reader = db.sqlite_reader()
        if reader is not None:
            try:
                return reader.execute(sql, args).fetchall()
            except sqlite3.OperationalError:
                pass  # busy (never waited for on the loop): through aiosqlite's thread below
        # No pre-ping (see `create_engine`): pooled connections the server closed while they
        # were idle (a restart, an idle timeout) are dropped here and the read - nothing was
        # written - runs on the next one; at most every pooled connection plus a fresh one.
        attempts = 2 + _pool_size(db.engine) + READERS_KEPT
        for attempt in range(1, attempts + 1):
            pooled, since = db._readers.pop() if db._readers else \
                (await db.engine.raw_connection(), time.monotonic())
            driver = pooled.driver_connection
            if _closed(driver) and attempt < attempts:
                pooled.invalidate()
                continue
            try:
                rows = await _fetch(dialect, driver, sql, args, one=one)
            except Exception:
                if attempt < attempts and _closed(driver):
                    pooled.invalidate()
                    continue
                pooled.close()
                raise
            db._keep_reader(pooled, since)
            return rows
        raise AssertionError("unreachable")  # pragma: no cover


def _pool_size(engine: AsyncEngine) -> int:
    size = getattr(engine.sync_engine.pool, "size", None)
    return int(size()) if callable(size) else 0


async def _begun(adapted: Any) -> None:
    """Begin the transaction of an asyncpg connection adapted by SQLAlchemy as its own next
    statement would (`_prepare_and_execute`: under its mutex, unless in autocommit mode - a
    read-only request's lazily begun session). SQLite's is begun by the session already."""
    if getattr(adapted, "_transaction", False) is not None or \
            adapted.isolation_level == "autocommit":
        return
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()


async def _fetch(dialect: Any, driver: Any, sql: str, args: list[Any], *, one: bool) -> list[Any]:
    if dialect.name == "sqlite":
        return list(await driver.execute_fetchall(sql, args))
    if one:
        row = await driver.fetchrow(sql, *args)
        return [] if row is None else [row]
    return list(await driver.fetch(sql, *args))


def _closed(driver: Any) -> bool:
    """Whether the driver's connection is gone (asyncpg knows; aiosqlite's never is)."""
    is_closed = getattr(driver, "is_closed", None)
    return bool(is_closed()) if callable(is_closed) else False


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
        self._read_engine = self.engine.execution_options(**{LAZY_BEGIN: True})
        self._reader: sqlite3.Connection | None = None
        self._reader_thread: int | None = None
        self._readers: list[tuple[Any, float]] = []  # (pooled connection, taken at)

    def _keep_reader(self, pooled: Any, since: float) -> None:
        """After a `RawQuery` read: keep the connection for the next read (PostgreSQL), or
        return it to the pool (SQLite's one pooled connection is the sessions')."""
        if (not self.is_sqlite and len(self._readers) < READERS_KEPT
                and time.monotonic() - since < READER_AGE):
            self._readers.append((pooled, since))
        else:
            pooled.close()

    def sqlite_reader(self) -> sqlite3.Connection | None:
        """SQLite only: a connection of the event loop's thread for `RawQuery`'s pooled reads
        (the hot GETs). Through aiosqlite a read is a hop to its thread and back - measured
        ~130 µs of CPU and ~700 µs of wall time under load, while the indexed read itself
        costs ~5 µs - and it holds the process's one pooled connection for that time, which
        capped every read to ~1,400/s. Here: autocommit (each statement reads the latest
        committed state, WAL readers never wait for the writer), never waits for a lock
        (busy timeout 0: a busy database falls back to the pool), opened without creating
        the file. None for other databases, in-memory ones and other threads."""
        if self._reader_thread is not None and self._reader_thread != threading.get_ident():
            return None
        if self._reader is None:
            url = self.engine.url
            if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
                return None
            path = Path(url.database).absolute().as_uri()  # percent-encoded
            self._reader = sqlite3.connect(f"{path}?mode=rw", uri=True, isolation_level=None,
                                           timeout=0)
            self._reader_thread = threading.get_ident()
        return self._reader

    def read_sessionmaker(self) -> AsyncSession:
        """A session for a read-only request: configured as `sessionmaker` is (whatever was
        configured on it later, `info` included), its transaction begun at the first write
        (see LAZY_BEGIN)."""
        return AsyncSession(**{**self.sessionmaker.kw, "bind": self._read_engine})

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
        while self._readers:
            self._readers.pop()[0].close()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        await self.engine.dispose()


def in_list(session: AsyncSession, column: Any, values: Any) -> ColumnElement[bool]:
    """`column IN (values)` for a long list (batches): on PostgreSQL `column = ANY($1)` with
    one array parameter - one bind and one statement text whatever the length, instead of
    a placeholder per value rendered, sent and parsed on every execution; elsewhere an IN."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type), unique=True))
    return column.in_(values)


@lru_cache(maxsize=256)
def _record_type(keys: tuple[str, ...]) -> Any:
    return namedtuple("Record", keys)  # built from a result's keys at run time


def records(result: Any) -> list[Any]:
    """A result's rows as named tuples, for a batch that reads each row's columns by name many
    times: a `Row` finds a name after a failed attribute lookup (~0.35 us a read here), a
    named tuple by a slot (~0.01 us) - measured ~15 % of the payroll's client CPU before."""
    make = _record_type(tuple(result.keys()))._make
    return list(map(make, result))


def named_insert(table: Table, prefix: str) -> Insert:
    """A single-row INSERT of every column of `table`, each a named parameter `prefix+name`.
    Built once at import, so a request only binds values: a statement built with its values is
    constructed, keyed and looked up in the compiled cache on every call. The prefix lets
    several such INSERTs share one parameter dict (one round trip for a request's writes)."""
    return insert(table).values({c.name: bindparam(prefix + c.name, type_=c.type)
                                 for c in table.columns})


def discard(session: AsyncSession, obj: object) -> None:
    """Forget an object whose INSERT failed in a savepoint (rolling the savepoint back already
    expunges a pending object; a flushed-then-failed one may still be there)."""
    if obj in session:
        session.expunge(obj)
