"""`contracts.extend-schedules`: open-ended contracts keep a year of payment dates ahead."""

from __future__ import annotations

import uuid
from datetime import date
from itertools import pairwise
from typing import Any

import httpx
from sqlalchemy import func, select

from mindlinks.contracts.jobs import extend_schedules_in
from mindlinks.contracts.models import ContractPayment
from mindlinks.platform.audit import AuditLog
from mindlinks.scheduler import collect_jobs


async def _schedule(app: Any, contract_id: str) -> list[tuple[date, int | None]]:
    async with app.state.db.session() as session:
        rows = await session.execute(
            select(ContractPayment.due_date, ContractPayment.amount_minor)
            .where(ContractPayment.contract_id == uuid.UUID(contract_id))
            .order_by(ContractPayment.due_date))
        return [(due, amount) for due, amount in rows.all()]


async def test_open_ended_schedules_are_kept_a_year_ahead(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
) -> None:
    open_ended = await flow.active(party, fixed_template["id"], endDate=None,
                                   frequency="weekly", rate=1000)
    fixed_end = await flow.active(party, fixed_template["id"])
    first_year = await _schedule(app, open_ended["id"])
    assert first_year[0][0] == date(2026, 1, 8) and first_year[-1][0] == date(2026, 12, 31)
    bounded = await _schedule(app, fixed_end["id"])

    async with app.state.db.session() as session:
        added = await extend_schedules_in(session, today=date(2026, 6, 1))
    schedule = await _schedule(app, open_ended["id"])
    new = schedule[len(first_year):]
    assert added == len(new) == 21
    assert schedule[:len(first_year)] == first_year
    assert new[0] == (date(2027, 1, 7), 100000) and new[-1][0] == date(2027, 5, 27)
    days = [due for due, _ in schedule]
    assert all((b - a).days == 7 for a, b in pairwise(days))
    assert await _schedule(app, fixed_end["id"]) == bounded  # has an end date: untouched

    # Again the same day: nothing to add; the next week: one more date.
    async with app.state.db.session() as session:
        assert await extend_schedules_in(session, today=date(2026, 6, 1)) == 0
        assert await extend_schedules_in(session, today=date(2026, 6, 8)) == 1
    async with app.state.db.session() as session:
        audited = await session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "contract.schedule.extended"))
    assert audited == 2
    assert "contracts.extend-schedules" in collect_jobs()
