"""Reads of one row by its key, coalesced per event-loop turn on PostgreSQL.

Measured under load (issue 11, `GET /api/auth/me`, wrk at 16 connections): of a request's
server CPU on PostgreSQL, ~30 % was the one `write` that sends its query - on this VM, waking
a sleeping backend process costs far more than the bytes. The hot single-row reads of one
shape that start in the same turn of the loop therefore go out as ONE statement
(`WHERE key = ANY($1)`, one write, one backend woken) and each caller gets its own row.
A lone read waits one turn of the loop, not a timer. SQLite reads run on the loop's own
thread (`Database.sqlite_reader`): nothing to wake, nothing to share, so they go straight.

What a caller sees is what a read of its own would give: the row as it is committed when the
statement runs (each read is one autocommit statement either way), None for a missing key,
the statement's error if it fails. A caller cancelled while waiting is left out; the others
still get their rows.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from sqlalchemy import ARRAY, Table, any_, bindparam, select

from mindlinks.platform.db import Database, RawQuery

# Keys per statement: a bound on one array parameter, far above what one turn gathers.
MAX_KEYS = 500

_running: set[asyncio.Task[None]] = set()  # flushes in flight, kept from the collector


class _Batch:
    __slots__ = ("loop", "waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiters: list[tuple[Any, asyncio.Future[dict[str, Any] | None]]] = []


class KeyedRead:
    """`SELECT <columns> FROM <table> WHERE <key> = :key`, built and compiled once, whose
    concurrent reads share a statement (see the module's docstring). `key` must be one of
    `columns`, and keys are given as the column's Python type (a UUID for a UUID column)."""

    def __init__(self, table: Table, columns: tuple[str, ...], key: str) -> None:
        if key not in columns:
            raise ValueError(f"the key {key!r} must be one of the columns read")
        selected = [table.c[c] for c in columns]
        key_column = table.c[key]
        self.key = key
        self.one = RawQuery(select(*selected).where(key_column == bindparam("key")))
        self.many = RawQuery(select(*selected).where(
            key_column == any_(bindparam("keys", type_=ARRAY(key_column.type)))))
        self._open: weakref.WeakKeyDictionary[Database, _Batch] = weakref.WeakKeyDictionary()

    async def get(self, db: Database, key: Any) -> dict[str, Any] | None:
        """The row with this key as a mapping of `columns`, or None."""
        if db.is_sqlite:
            return await self.one.first(db, key=key)
        loop = asyncio.get_running_loop()
        batch = self._open.get(db)
        if batch is None or batch.loop is not loop:
            batch = self._open[db] = _Batch(loop)
            # Its first step runs in the loop's next turn: every read begun in this one joins.
            task = loop.create_task(self._flush(db, batch))
            _running.add(task)
            task.add_done_callback(_running.discard)
        future: asyncio.Future[dict[str, Any] | None] = loop.create_future()
        batch.waiters.append((key, future))
        return await future

    async def _flush(self, db: Database, batch: _Batch) -> None:
        if self._open.get(db) is batch:
            del self._open[db]  # reads from now on start the next batch
        waiters = [(k, f) for k, f in batch.waiters if not f.done()]
        for start in range(0, len(waiters), MAX_KEYS):
            await self._read(db, waiters[start:start + MAX_KEYS])

    async def _read(self, db: Database,
                    waiters: list[tuple[Any, asyncio.Future[dict[str, Any] | None]]]) -> None:
        keys = list(dict.fromkeys(k for k, _ in waiters))
        try:
            if len(keys) == 1:
                row = await self.one.first(db, key=keys[0])
                rows = [row] if row is not None else []
            else:
                rows = await self.many.all(db, keys=keys)
        except BaseException as exc:
            for _, future in waiters:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        by_key = {row[self.key]: row for row in rows}
        for key, future in waiters:
            if not future.done():
                row = by_key.get(key)
                # Each caller its own mapping: one may change what it was given.
                future.set_result(dict(row) if row is not None else None)
