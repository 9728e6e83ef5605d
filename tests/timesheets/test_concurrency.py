"""Races on PostgreSQL (SQLite serialises writers, so these could not fail there: skipped).

- 50 simultaneous approvals of one timesheet: one 200, 49 x 409 `invalid_transition`; one
  `timesheet.approved` event, one journal entry. The row is locked and reloaded before its
  status is checked.
- 20 simultaneous submissions of the same week: one 201, the rest 409 `timesheet_exists` (the
  partial unique index settles what the pre-check cannot see).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.timesheets.models import Timesheet
from tests.timesheets.conftest import events, journal

pytestmark = [pytest.mark.usefixtures("db_backend"), pytest.mark.race]


async def test_fifty_concurrent_approvals_approve_once(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    sheet = await sheets.submitted(party.contractor, active_hourly["id"])
    answers = await asyncio.gather(*[sheets.act(party.client, sheet["id"], "approve")
                                     for _ in range(50)])
    codes = sorted(r.status_code for r in answers)
    assert codes.count(200) == 1, codes
    assert codes.count(409) == 49, codes
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"invalid_transition"}
    assert len(await events(app, "timesheet.approved")) == 1
    [entry] = await journal(app)
    assert entry.entity_id == sheet["id"]


async def test_concurrent_submissions_of_one_week_make_one_timesheet(
    app: Any, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    answers = await asyncio.gather(*[sheets.post(party.contractor, active_hourly["id"])
                                     for _ in range(20)])
    codes = sorted(r.status_code for r in answers)
    assert codes.count(201) == 1, codes
    assert all(r.json()["code"] == "timesheet_exists" for r in answers if r.status_code != 201)
    async with app.state.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Timesheet)) == 1
    assert len(await events(app, "timesheet.submitted")) == 1
