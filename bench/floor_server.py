"""The floor of http_bench: a bare FastAPI app served by its own `uvicorn.run` with exactly the
options `mindlinks serve` uses (`cli.uvicorn_options`), in its own process.

- `/bare`: `{"ok": true}` - what any endpoint costs with FastAPI and uvicorn and nothing else;
- `/floor/me`, `/floor/contracts`, `/floor/notifications`: the same rows the platform's
  `GET /api/auth/me`, `/api/contracts/contractor/me` and `/api/notifications/me` read, with
  the raw driver (aiosqlite / asyncpg) and `orjson`, no auth, no ORM, no middleware.

Environment: MINDLINKS_BENCH_FLOOR_PORT, MINDLINKS_BENCH_FLOOR_DB (the database URL),
MINDLINKS_BENCH_FLOOR_USER / _CONTRACTOR (the ids the floor reads).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI
from fastapi.responses import Response

from mindlinks.cli import uvicorn_options

USER_COLUMNS = ("id, email, role, name, status, email_verified, mfa_enabled, last_login, "
                "created_at, updated_at")


class RawDb:
    """One aiosqlite connection, or an asyncpg pool; `?` placeholders on both. Shared by the
    floors of http_bench and web_bench."""

    def __init__(self, url: str) -> None:
        self.pg = url.startswith("postgresql")
        self.url = url
        self.pool: Any = None

    async def open(self) -> None:
        if self.pg:
            import asyncpg

            self.pool = await asyncpg.create_pool(
                self.url.replace("postgresql+asyncpg", "postgresql"), min_size=4, max_size=16)
        else:
            import aiosqlite

            self.pool = await aiosqlite.connect(self.url.split("///", 1)[1], isolation_level=None)

    async def close(self) -> None:
        await self.pool.close()

    def _sql(self, sql: str) -> str:
        if self.pg:
            parts = sql.split("?")
            return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))
        return sql

    def _arg(self, value: Any) -> Any:
        """A value as SQLAlchemy would have bound it."""
        if self.pg:
            return value
        if isinstance(value, uuid.UUID):
            return value.hex  # SQLAlchemy's Uuid on SQLite: 32 hex chars
        if isinstance(value, datetime):  # SQLAlchemy's SQLite DATETIME text
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, date):
            return value.isoformat()
        return value

    async def tuples(self, sql: str, *args: Any) -> list[Any]:
        values = [self._arg(a) for a in args]
        if self.pg:
            return list(await self.pool.fetch(self._sql(sql), *values))
        return list(await self.pool.execute_fetchall(sql, values))

    async def rows(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        values = [self._arg(a) for a in args]
        if self.pg:
            return [dict(r) for r in await self.pool.fetch(self._sql(sql), *values)]
        cursor = await self.pool.execute(sql, values)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in await cursor.fetchall()]


def _default(value: Any) -> Any:
    if isinstance(value, datetime | uuid.UUID):
        return str(value)
    raise TypeError


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data, default=_default), media_type="application/json")


def create() -> FastAPI:
    db = RawDb(os.environ["MINDLINKS_BENCH_FLOOR_DB"])
    user_id = uuid.UUID(os.environ["MINDLINKS_BENCH_FLOOR_USER"])
    contractor_id = uuid.UUID(os.environ["MINDLINKS_BENCH_FLOOR_CONTRACTOR"])

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await db.open()
        yield
        await db.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/bare")
    async def bare() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/floor/me")
    async def me() -> Response:
        rows = await db.rows(f"SELECT {USER_COLUMNS} FROM auth_users WHERE id = ?", user_id)
        return _json(rows[0])

    @app.get("/floor/contracts")
    async def contracts() -> Response:
        total = await db.rows("SELECT count(*) AS n FROM contracts WHERE contractor_id = ?",
                              contractor_id)
        rows = await db.rows("SELECT * FROM contracts WHERE contractor_id = ? "
                             "ORDER BY created_at DESC, id LIMIT 20 OFFSET 0", contractor_id)
        return _json({"data": rows, "meta": {"total": total[0]["n"]}})

    @app.get("/floor/notifications")
    async def notifications() -> Response:
        total = await db.rows(
            "SELECT count(*) AS n FROM notification_notifications WHERE user_id = ?", user_id)
        unread = await db.rows("SELECT count(*) AS n FROM notification_notifications "
                               "WHERE user_id = ? AND NOT read", user_id)
        rows = await db.rows("SELECT * FROM notification_notifications WHERE user_id = ? "
                             "ORDER BY created_at DESC, id LIMIT 20 OFFSET 0", user_id)
        return _json({"data": rows, "meta": {"total": total[0]["n"], "unread": unread[0]["n"]}})

    return app


if __name__ == "__main__":
    uvicorn.run("bench.floor_server:create", factory=True,
                **uvicorn_options("127.0.0.1", int(os.environ["MINDLINKS_BENCH_FLOOR_PORT"]), 1))
