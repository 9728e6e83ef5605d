"""The daily reminder job: one reminder (row, event, mail) per (contract, week) that ended
without a submitted timesheet — whether the job runs twice a day, every day, or not at all for
five days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from mindlinks.timesheets import jobs
from mindlinks.timesheets.models import TimesheetReminder
from tests.factories import mails
from tests.timesheets.conftest import events

pytestmark = pytest.mark.usefixtures("db_backend")

SUBJECT = "Your timesheet is due"


async def _run(app: Any, today: date) -> int:
    async with app.state.db.session() as session:
        sent = await jobs.remind_in(session, today=today, lookback_days=28, due_days=2)
    await app.state.dispatcher.drain()
    await app.state.notifier.drain()
    return sent


async def _reminded(app: Any) -> list[tuple[str, str]]:
    async with app.state.db.session() as session:
        rows = (await session.execute(select(TimesheetReminder))).scalars().all()
        return sorted((str(r.contract_id), r.week_ending.isoformat()) for r in rows)


async def test_reminders_once_per_week_despite_reruns_and_downtime(
    app: Any, settings: Any, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    cid = active_hourly["id"]
    await sheets.submitted(party.contractor, cid)  # 2024-12-07 is submitted: no reminder
    draft_week = "2024-12-14"  # a draft is not submitted: reminded
    await sheets.submitted(party.contractor, cid, week=draft_week, status="draft",
                           entries=[{"date": "2024-12-10", "hours": 1, "description": ""}])
    friday = date(2024, 12, 20)  # weeks ending from 2024-11-22 on, before today, count

    assert await _run(app, friday) == 3
    assert await _run(app, friday) == 0  # twice in a row
    first = [(cid, "2024-11-23"), (cid, "2024-11-30"), (cid, draft_week)]
    assert await _reminded(app) == first

    # the worker was down for five days: the week that ended meanwhile is caught up, once
    back = friday + timedelta(days=5)
    assert await _run(app, back) == 1
    assert await _run(app, back) == 0
    assert await _reminded(app) == [*first, (cid, "2024-12-21")]

    reminders = await events(app, "timesheet.reminder")
    assert sorted(e["weekEnding"] for e in reminders) == [w for _, w in await _reminded(app)]
    assert reminders[0]["userId"] == party.contractor.user_id
    assert reminders[0]["dueAt"] == "2024-11-26T00:00:00+00:00"  # end of the Monday after
    sent = [m for m in mails(settings.mail_dir, party.contractor.email)
            if m["Subject"] == SUBJECT]
    assert len(sent) == 4


async def test_weeks_outside_the_contract_or_not_ended_are_not_reminded(
    app: Any, party: Any, active_hourly: dict[str, Any]
):
    # the contract starts 2024-11-01 (a Friday): its first week ends 2024-11-02
    assert await _run(app, date(2024, 11, 2)) == 0  # that week has not ended yet
    assert await _run(app, date(2024, 11, 3)) == 1
    assert await _reminded(app) == [(active_hourly["id"], "2024-11-02")]
