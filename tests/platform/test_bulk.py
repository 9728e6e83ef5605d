"""`bulk.insert_many` stores exactly what a Core executemany stores, on both databases (the
PostgreSQL path is an unnest of one array per column): JSON, NULLs, aware timestamps, enum
strings, and the Python-side defaults of columns the rows leave out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import Table, insert, select

from mindlinks.platform import audit
from mindlinks.platform.bulk import insert_many
from mindlinks.platform.events import OutboxEvent

pytestmark = pytest.mark.usefixtures("db_backend")

_A = cast(Table, audit.AuditLog.__table__)
_E = cast(Table, OutboxEvent.__table__)


def _rows(action: str, n: int) -> list[dict[str, Any]]:
    at = datetime(2026, 6, 1, 12, 30, 15, 123456, tzinfo=UTC)
    return [{"id": uuid.uuid4(), "actor_id": None if k % 2 else uuid.uuid4(),
             "actor_role": None, "action": action, "entity_type": "invoice",
             "entity_id": f"e{k}", "ip_address": None, "user_agent": "ua \u00e9\u4e2d",
             "request_id": None, "details": {"k": k, "nested": [1, "two", None],
                                             "text": "quote \" and \\ slash"},
             "created_at": at + timedelta(seconds=k), "updated_at": at} for k in range(n)]


def _seen(rows: Any) -> list[tuple[Any, ...]]:
    return sorted((r.entity_id, r.actor_id, r.actor_role, r.user_agent, r.details, r.created_at,
                   r.updated_at) for r in rows)


async def test_insert_many_stores_what_an_executemany_stores(database: Any) -> None:
    bulk, core = _rows("bulk.probe", 7), _rows("core.probe", 7)
    for a, b in zip(bulk, core, strict=True):
        b["actor_id"] = a["actor_id"]
    async with database.session() as s:
        await insert_many(s, _A, bulk)
        await s.execute(insert(_A), core)
    async with database.session() as s:
        got = {action: _seen((await s.execute(select(_A).where(_A.c.action == action))).all())
               for action in ("bulk.probe", "core.probe")}
    assert len(got["bulk.probe"]) == 7
    assert got["bulk.probe"] == got["core.probe"]


async def test_insert_many_fills_python_side_defaults(database: Any) -> None:
    before = datetime.now(UTC)
    async with database.session() as s:
        await insert_many(s, _E, [{"name": "bulk.defaults", "payload": {"n": n}}
                                  for n in range(3)])
        await insert_many(s, _E, [])  # nothing to do
    async with database.session() as s:
        rows = (await s.execute(select(_E).where(_E.c.name == "bulk.defaults"))).all()
    assert sorted(r.payload["n"] for r in rows) == [0, 1, 2]
    assert len({r.id for r in rows}) == 3  # one id each, not one for all
    assert all(r.occurred_at >= before - timedelta(seconds=1) and r.created_at for r in rows)


async def test_columns_bound_once_store_what_an_executemany_stores(database: Any) -> None:
    """A column holding the same object in every row is bound once as a scalar on PostgreSQL
    (a JSON value, NULLs, a timestamp, a string); one row, and equal values that are not the
    same object, stay arrays. The rows stored are the same as a Core executemany's."""
    shared = {"same": True, "list": [1, None, "x"]}
    at = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)

    def rows(action: str, n: int) -> list[dict[str, Any]]:
        return [{"id": uuid.uuid4(), "actor_id": None, "actor_role": "admin", "action": action,
                 "entity_type": "invoice", "entity_id": f"e{k}", "ip_address": None,
                 "user_agent": None, "request_id": None, "details": shared,
                 "created_at": at, "updated_at": at.replace()} for k in range(n)]

    bulk, core, one = rows("bulk.const", 5), rows("core.const", 5), rows("bulk.const1", 1)
    agent = "same object first and last"
    for batch in (bulk, core):  # not the same in every row: stays an array
        batch[0]["user_agent"] = batch[-1]["user_agent"] = agent
        batch[2]["user_agent"] = "another in the middle"
    one[0]["user_agent"] = agent
    async with database.session() as s:
        await insert_many(s, _A, bulk)
        await insert_many(s, _A, one)
        await s.execute(insert(_A), core)
    async with database.session() as s:
        got = {action: _seen((await s.execute(select(_A).where(_A.c.action == action))).all())
               for action in ("bulk.const", "core.const", "bulk.const1")}
    assert len(got["bulk.const"]) == 5 and got["bulk.const"] == got["core.const"]
    assert got["bulk.const1"] == got["core.const"][:1]
    assert got["bulk.const"][0][4] == shared and got["bulk.const"][0][2] == "admin"


async def test_emit_many_stores_the_payloads_emit_stores(database: Any) -> None:
    """On PostgreSQL `emit_many` sends each payload's JSON text as it was encoded once (no
    decode and re-encode); the events stored are those `emit` stores, on both databases."""
    from decimal import Decimal

    from mindlinks.platform.events import emit, emit_many

    def payload(k: int) -> dict[str, Any]:
        return {"id": uuid.UUID(int=k + 1), "day": datetime(2026, 6, k + 1, tzinfo=UTC).date(),
                "at": datetime(2026, 6, 1, 8, k, 5, 123, tzinfo=UTC), "amount": Decimal("12.50"),
                "minor": 1250, "none": None, "nested": {"list": [1, "two", None], "t": True},
                "text": "quote \" and \\ slash \u00e9"}

    async with database.session() as s:
        await emit_many(s, "bulk.emit_many", [payload(k) for k in range(3)])
        for k in range(3):
            await emit(s, "bulk.emit_one", payload(k))
    async with database.session() as s:
        got = {name: sorted((r.payload for r in (await s.execute(
            select(_E).where(_E.c.name == name))).all()), key=lambda p: p["id"])
            for name in ("bulk.emit_many", "bulk.emit_one")}
    assert len(got["bulk.emit_many"]) == 3
    assert got["bulk.emit_many"] == got["bulk.emit_one"]
    assert got["bulk.emit_many"][0]["amount"] == "12.50"
