"""Row ids are time-ordered UUIDs (version 7, RFC 9562), so that a batch of new rows lands at
the right end of each id index instead of on one random page per row (docs/performance.md,
payroll fourth pass). Both ways rows get an id - the ORM default and `bulk.insert_many`'s
Python-side defaults - and the ids the payroll writes itself are checked on both databases."""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

import pytest
from sqlalchemy import Table, select

from mindlinks.platform.bulk import insert_many
from mindlinks.platform.db import new_id
from mindlinks.platform.events import OutboxEvent, emit

_E = cast(Table, OutboxEvent.__table__)


def _millis(value: uuid.UUID) -> int:
    return value.int >> 80  # the 48 leading bits: Unix time in milliseconds


def test_new_id_is_a_version_7_uuid_carrying_its_creation_time() -> None:
    before = time.time_ns() // 1_000_000
    first = new_id()
    after = time.time_ns() // 1_000_000
    assert first.version == 7 and first.variant == uuid.RFC_4122
    assert before <= _millis(first) <= after
    time.sleep(0.002)  # into a later millisecond: the next id must sort after
    assert new_id() > first
    assert len({new_id() for _ in range(1000)}) == 1000


@pytest.mark.usefixtures("db_backend")
async def test_rows_get_version_7_ids_from_the_orm_and_from_insert_many(database: Any) -> None:
    async with database.session() as s:
        await emit(s, "ids.orm", {"n": 0})
        await insert_many(s, _E, [{"name": "ids.bulk", "payload": {"n": n}} for n in range(3)])
    async with database.session() as s:
        ids = (await s.scalars(select(_E.c.id).where(_E.c.name.in_(("ids.orm", "ids.bulk"))))
               ).all()
    assert len(ids) == 4
    assert {i.version for i in ids} == {7}
