"""Scheduled work of the contracts domain (`mindlinks jobs run`, the worker's daily scheduler).

- `contracts.extend-schedules`: an active contract without an end date has its payment
  schedule kept a year ahead of today (activation schedules the first year). Only dates after
  the last scheduled one are added, so a second run the same day adds nothing; the contract
  rows are locked (skipping those another worker holds) and the unique (contract, due date)
  constraint is the last guard. Each extension is audited.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contracts import repository as repo
from mindlinks.contracts.models import ContractPayment
from mindlinks.contracts.signing import SCHEDULE_HORIZON_DAYS, payment_dates
from mindlinks.platform import audit
from mindlinks.platform.db import Database, utcnow


async def extend_schedules_in(session: AsyncSession, today: date | None = None) -> int:
    """Add the missing dates; returns how many payment rows were added."""
    today = today or utcnow().date()
    until = today + timedelta(days=SCHEDULE_HORIZON_DAYS)
    added = 0
    for contract in await repo.open_ended_active(session):
        last = await repo.last_due_date(session, contract.id)
        dates = [d for d in payment_dates(contract.start_date, None, contract.frequency,
                                          until=until)
                 if last is None or d > last]
        if not dates:
            continue
        amount = contract.rate_minor if contract.type == "fixed" else None
        session.add_all([
            ContractPayment(id=uuid.uuid4(), contract_id=contract.id, due_date=d,
                            amount_minor=amount, currency=contract.currency, status="scheduled")
            for d in dates
        ])
        await session.flush()
        await audit.record(session, None, "contract.schedule.extended", "contract", contract.id,
                           {"added": len(dates), "from": dates[0].isoformat(),
                            "to": dates[-1].isoformat()})
        added += len(dates)
    return added


async def extend_schedules(db: Database) -> int:
    async with db.session() as session:
        return await extend_schedules_in(session)


# Run by `mindlinks jobs run` and the worker (every domain's JOBS, bottom of DOMAINS first).
JOBS = {"contracts.extend-schedules": extend_schedules}
