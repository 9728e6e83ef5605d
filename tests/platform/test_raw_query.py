"""`RawQuery` on pooled connections (the hot reads: `/api/auth/me`, the inbox, the contract
lists): values written in the statement are bound without being passed, and - the pool has
no pre-ping - connections the server closed while idle are replaced, not answered with a
500."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import bindparam, literal_column, select

from mindlinks.auth.models import User
from mindlinks.platform.db import RawQuery
from tests.factories import Account, register


async def test_literal_values_of_the_statement_are_bound(app: Any, client: httpx.AsyncClient):
    account = Account(await register(client, "contractor", name="Ada"))
    users = User.__table__
    query = RawQuery(select(users.c.name, literal_column("1").label("one"))
                     .where(users.c.role == "contractor", users.c.name == bindparam("name")))
    assert await query.all(app.state.db, name="Ada") == [{"name": "Ada", "one": 1}]
    assert await query.first(app.state.db, name="Nobody") is None
    assert account.user_id
    with pytest.raises(KeyError):  # a named parameter is still required
        await query.all(app.state.db)


async def test_connections_closed_by_the_server_are_replaced(
    app: Any, client: httpx.AsyncClient, db_backend: str
):
    if db_backend != "postgresql":
        pytest.skip("no server closes SQLite connections")
    import asyncpg

    account = Account(await register(client, "contractor"))
    paths = ["/api/auth/me", "/api/notifications/me", "/api/contracts/contractor/me"]
    # Several idle connections in the pool.
    for _ in range(3):
        for path in paths:
            assert (await client.get(path, headers=account.headers)).status_code == 200
    url = app.state.db.url.replace("postgresql+asyncpg", "postgresql")
    admin = await asyncpg.connect(url)
    try:
        ended = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
    finally:
        await admin.close()
    assert ended >= 1
    for path in paths:
        response = await client.get(path, headers=account.headers)
        assert response.status_code == 200, (path, response.text)


async def test_sqlite_reads_see_the_latest_commit_and_fall_back_when_busy(
    app: Any, client: httpx.AsyncClient, db_backend: str, monkeypatch: pytest.MonkeyPatch
):
    """On SQLite the pooled reads run on the loop's own connection (`sqlite_reader`): they
    see what was just committed, and a busy database sends them through the pool."""
    if db_backend != "sqlite":
        pytest.skip("SQLite's loop-thread reader")
    import sqlite3

    account = Account(await register(client, "contractor", name="Before"))
    db = app.state.db
    assert db.sqlite_reader() is not None
    me = (await client.get("/api/auth/me", headers=account.headers)).json()
    assert me["name"] == "Before"
    async with db.session() as session:
        user = await session.get(User, uuid.UUID(account.user_id))
        user.name = "After"
    me = (await client.get("/api/auth/me", headers=account.headers)).json()
    assert me["name"] == "After"

    asked: list[str] = []

    class Busy:
        def execute(self, sql: str, *_args: Any) -> Any:
            asked.append(sql)
            raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(db, "_reader", Busy())
    response = await client.get("/api/auth/me", headers=account.headers)
    assert response.status_code == 200 and response.json()["name"] == "After"
    assert len(asked) == 1  # the reader was asked first


@pytest.mark.parametrize("text", [
    "2026-11-29 12:46:35.836914", "2026-11-29 12:46:35.000000", "0001-01-01 00:00:00.000000",
    "9999-12-31 23:59:59.999999", "2026-11-29 12:46:35", "2026-11-29 12:46:35.5", None,
])
def test_sqlite_timestamps_read_as_the_general_processor_reads_them(text: str | None) -> None:
    """`UTCDateTime` reads SQLAlchemy's own SQLite text directly (the hot reads' three
    timestamps): the same aware UTC value as the general way, any other text that way."""
    from datetime import UTC

    from sqlalchemy.dialects import sqlite
    from sqlalchemy.types import TypeDecorator

    from mindlinks.platform.db import UTCDateTime

    dialect = sqlite.dialect()
    column_type = UTCDateTime().dialect_impl(dialect)
    fast = column_type.result_processor(dialect, None)
    general = TypeDecorator.result_processor(column_type, dialect, None)
    value, expected = fast(text), general(text)
    assert value == expected and type(value) is type(expected)
    assert value is None or value.tzinfo is UTC


async def test_on_a_session_it_runs_inside_the_sessions_transaction(
    app: Any, client: httpx.AsyncClient, db_backend: str
):
    """Given a session whose transaction has not sent anything yet, the statement begins it:
    a row it locks stays locked until the session ends (the withdrawal request's first
    statement is its wallet lock)."""
    if db_backend != "postgresql":
        pytest.skip("SQLite's session begins its (write-locking) transaction itself")
    import asyncpg

    account = Account(await register(client, "contractor"))
    users = User.__table__
    lock = RawQuery(select(users.c.id).where(users.c.id == bindparam("id")).with_for_update())
    url = app.state.db.url.replace("postgresql+asyncpg", "postgresql")
    other = await asyncpg.connect(url)
    try:
        async with app.state.db.sessionmaker() as session:
            assert await lock.first(session, id=uuid.UUID(account.user_id)) is not None
            with pytest.raises(asyncpg.LockNotAvailableError):
                await other.fetch("SELECT id FROM auth_users WHERE id = $1 FOR UPDATE NOWAIT",
                                  uuid.UUID(account.user_id))
            await session.rollback()
        # Released with the session's transaction.
        assert await other.fetch("SELECT id FROM auth_users WHERE id = $1 FOR UPDATE NOWAIT",
                                 uuid.UUID(account.user_id))
    finally:
        await other.close()
