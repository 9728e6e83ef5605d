"""`KeyedRead` (platform/keyed_reads.py): concurrent single-row reads share one statement on
PostgreSQL, and each caller still gets exactly what a read of its own would give."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, cast

import httpx
import pytest
from sqlalchemy import Table

from mindlinks.auth.models import User
from mindlinks.platform.keyed_reads import KeyedRead
from tests.factories import Account, register

COLUMNS = ("id", "email", "name", "role")


def _read() -> KeyedRead:
    return KeyedRead(cast(Table, User.__table__), COLUMNS, "id")


def _count(read: KeyedRead, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which statements ran: "one" (a key) or "many" (ANY of keys)."""
    ran: list[str] = []
    for name in ("one", "many"):
        query = getattr(read, name)
        for method in ("first", "all"):
            real = getattr(query, method)

            async def spy(*args: Any, _real: Any = real, _name: str = name, **kw: Any) -> Any:
                ran.append(_name)
                return await _real(*args, **kw)

            monkeypatch.setattr(query, method, spy)
    return ran


async def _accounts(client: httpx.AsyncClient, n: int) -> list[Account]:
    return [Account(await register(client, "contractor", name=f"User {k}")) for k in range(n)]


async def _batched_ids(client: httpx.AsyncClient, db_backend: str, n: int) -> list[uuid.UUID]:
    """`n` users' ids, for a test of what only PostgreSQL does (SQLite reads go one by one,
    each ending before another could join or be cancelled)."""
    if db_backend != "postgresql":
        pytest.skip("SQLite reads are not batched")
    return [uuid.UUID(a.user_id) for a in await _accounts(client, n)]


async def test_concurrent_reads_get_their_own_rows(
    app: Any, client: httpx.AsyncClient, db_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = await _accounts(client, 3)
    ids = [uuid.UUID(a.user_id) for a in accounts]
    read = _read()
    ran = _count(read, monkeypatch)
    missing = uuid.uuid4()
    keys = [ids[0], ids[1], missing, ids[2], ids[0]]  # a missing key and a repeated one
    rows = await asyncio.gather(*(read.get(app.state.db, k) for k in keys))
    expected = {i: {"id": i, "email": a.email, "name": f"User {n}", "role": "contractor"}
                for n, (i, a) in enumerate(zip(ids, accounts, strict=True))}
    assert rows == [expected[ids[0]], expected[ids[1]], None, expected[ids[2]],
                    expected[ids[0]]]
    assert rows[0] is not rows[4]  # each caller its own mapping
    # PostgreSQL: one statement for the five; SQLite: each read on its own (nothing to share).
    assert ran == (["many"] if db_backend == "postgresql" else ["one"] * 5)
    # Reads of a later turn make a batch of their own; a lone read uses the one-key statement.
    assert await read.get(app.state.db, ids[1]) == expected[ids[1]]
    assert ran[-1] == "one"


async def test_a_failed_statement_fails_every_caller_and_the_next_batch_works(
    app: Any, client: httpx.AsyncClient, db_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _batched_ids(client, db_backend, 2)
    read = _read()
    real = read.many.all

    async def broken(*args: Any, **kw: Any) -> Any:
        raise RuntimeError("the statement failed")

    monkeypatch.setattr(read.many, "all", broken)
    results = await asyncio.gather(*(read.get(app.state.db, k) for k in ids),
                                   return_exceptions=True)
    assert [str(r) for r in results] == ["the statement failed"] * 2
    monkeypatch.setattr(read.many, "all", real)
    rows = await asyncio.gather(*(read.get(app.state.db, k) for k in ids))
    assert [r["id"] for r in rows if r] == ids


async def test_a_cancelled_caller_leaves_the_others_their_rows(
    app: Any, client: httpx.AsyncClient, db_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await _batched_ids(client, db_backend, 4)
    read = _read()
    real, running, release = read.many.all, asyncio.Event(), asyncio.Event()

    async def held(*args: Any, **kw: Any) -> Any:
        running.set()
        await release.wait()
        return await real(*args, **kw)

    monkeypatch.setattr(read.many, "all", held)
    tasks = [asyncio.ensure_future(read.get(app.state.db, k)) for k in ids]
    await asyncio.sleep(0)  # every read has joined the batch
    tasks[1].cancel()  # before the statement
    await running.wait()
    tasks[2].cancel()  # while it runs
    release.set()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert [isinstance(d, asyncio.CancelledError) for d in done] == [False, True, True, False]
    assert [done[0]["id"], done[3]["id"]] == [ids[0], ids[3]]


async def test_me_answers_each_caller_with_its_own_account(
    client: httpx.AsyncClient
) -> None:
    """Concurrent `/api/auth/me` of different users (batched on PostgreSQL): each its own."""
    accounts = await _accounts(client, 4)
    answers = await asyncio.gather(*(client.get("/api/auth/me", headers=a.headers)
                                     for a in accounts * 2))
    assert [r.status_code for r in answers] == [200] * 8
    assert [r.json()["email"] for r in answers] == [a.email for a in accounts * 2]


def test_the_key_must_be_read() -> None:
    with pytest.raises(ValueError, match="must be one of the columns"):
        KeyedRead(cast(Table, User.__table__), ("email",), "id")
