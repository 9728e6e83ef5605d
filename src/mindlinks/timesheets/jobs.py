"""Scheduled work of the timesheets domain (`mindlinks jobs run`, the worker's daily scheduler).

- `timesheets.remind`: for every hourly contract being worked on, each week that has ended
  (its Saturday is before today, UTC) within the last `timesheet_reminder_lookback_days`, inside
  the contract's dates, with no submitted timesheet (a draft does not count) gets one
  `timesheet.reminder` event for the contractor (notifications mails it).

  "Once per (contract, week)" is a row in `contract_timesheet_reminders`, inserted with
  ON CONFLICT DO NOTHING in the same transaction as the event: a second run, two workers at
  once, or a run after days of downtime (every missed week still inside the look-back is
  reminded, once) never remind twice. The week's due time is in the event.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contracts import service as contracts
from mindlinks.contracts.schemas import WorkTerms
from mindlinks.platform.db import Database, utcnow
from mindlinks.platform.events import emit
from mindlinks.settings import get_settings
from mindlinks.timesheets import entries as rules
from mindlinks.timesheets import repository as repo


def ended_weeks(terms: WorkTerms, since: date, today: date) -> list[date]:
    """Saturdays from `since` until before `today` whose week overlaps the contract."""
    first = max(since, terms.start_date)
    saturday = first + timedelta(days=(rules.SATURDAY - first.weekday()) % 7)
    weeks = []
    while saturday < today:
        if terms.last_day is None or rules.week_start(saturday) <= terms.last_day:
            weeks.append(saturday)
        saturday += timedelta(days=7)
    return weeks


async def remind_in(
    session: AsyncSession, *, today: date | None = None, lookback_days: int = 28,
    due_days: int = 2,
) -> int:
    """Send the missing reminders; returns how many were sent by this run."""
    today = today or utcnow().date()
    since = today - timedelta(days=lookback_days)
    terms_list = await contracts.hourly_work_terms(session, since)
    ids = [t.id for t in terms_list]
    done = (await repo.submitted_weeks(session, ids, since)
            | await repo.reminded_weeks(session, ids, since))
    sent = 0
    now = utcnow()
    for terms in terms_list:
        for week in ended_weeks(terms, since, today):
            if (terms.id, week) in done:
                continue
            reminder_id = await repo.claim_reminder(session, terms.id, terms.contractor_id,
                                                    week, now)
            if reminder_id is None:  # another worker got there first
                continue
            event_id = await emit(session, "timesheet.reminder", {
                "contractId": terms.id, "contractorId": terms.contractor_id,
                "userId": terms.contractor_user_id, "contractTitle": terms.title,
                "weekEnding": week.isoformat(),
                "periodStart": rules.week_start(week).isoformat(),
                "periodEnd": week.isoformat(),
                "dueAt": rules.due_at(week, due_days).isoformat(),
            })
            await repo.set_reminder_event(session, reminder_id, event_id)
            sent += 1
    return sent


async def remind(db: Database) -> int:
    settings = get_settings()
    async with db.session() as session:
        return await remind_in(session, lookback_days=settings.timesheet_reminder_lookback_days,
                               due_days=settings.timesheet_due_days)


# Run by `mindlinks jobs run` and the worker (every domain's JOBS, bottom of DOMAINS first).
JOBS = {"timesheets.remind": remind}
