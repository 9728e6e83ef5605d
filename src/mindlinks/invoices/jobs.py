"""Scheduled work of the invoices domain (`mindlinks jobs run`, the worker's daily scheduler).

- `invoices.issue-due`: issue the invoice of every payment-schedule period that is due and has
  none (fixed: the period's amount; hourly: its approved timesheets). One transaction per
  invoice, so one failure does not hold back the others; the unique source key makes a second
  or concurrent run issue nothing twice, and a run after downtime issues what was missed,
  dated as it would have been.
- `invoices.mark-overdue`: every `sent` invoice past its due date becomes `overdue`, emits
  `invoice.overdue` (the client is notified) and gets a step record per thing done
  (`marked_overdue`, `client_reminded`) in the same transaction - so each happens once per
  invoice however often or late the job runs. Batches of rows locked with SKIP LOCKED, so two
  workers share the work instead of doing it twice.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contracts import service as contracts
from mindlinks.invoices import generation
from mindlinks.invoices import repository as repo
from mindlinks.invoices.models import Invoice, InvoiceStatus, InvoiceStep, InvoiceStepRecord
from mindlinks.invoices.service import InvoiceContext, _payload, next_status
from mindlinks.platform.db import Database, new_id, utcnow
from mindlinks.platform.events import emit_many

OVERDUE_BATCH = 500


async def issue_due(db: Database, today: date | None = None) -> int:
    """Returns how many invoices were issued."""
    InvoiceContext.for_database(db)
    today = today or utcnow().date()
    async with db.session() as session:
        periods = await contracts.due_periods(session, today)
        done = await repo.existing_sources(session,
                                           [f"schedule:{p.schedule_id}" for p in periods])
    issued = 0
    for period in periods:
        # An invoiced hourly period is looked at again for timesheets approved since.
        if f"schedule:{period.schedule_id}" in done and period.contract.type != "hourly":
            continue
        async with db.session() as session:
            if await generation.issue_for_period(session, period) is not None:
                issued += 1
    return issued


async def mark_overdue_in(session: AsyncSession, today: date, limit: int = OVERDUE_BATCH) -> int:
    """One batch, in set statements (one UPDATE, one INSERT of steps, two of events); returns
    how many invoices it marked."""
    ids = list(await repo.past_due_ids(session, today, limit))
    if not ids:
        return 0
    now = utcnow()
    invoices = list(await repo.load_many(session, ids))
    for invoice in invoices:
        next_status(invoice, "mark_overdue")  # the transition table decides, even in bulk
    already = await repo.steps_done(session, ids, InvoiceStep.MARKED_OVERDUE)
    fresh = [invoice for invoice in invoices if invoice.id not in already]
    await session.execute(
        update(Invoice).where(Invoice.id.in_(ids), Invoice.status == InvoiceStatus.SENT)
        .values(status=InvoiceStatus.OVERDUE, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if fresh:
        await session.execute(insert(InvoiceStepRecord), [
            {"id": new_id(), "invoice_id": invoice.id, "step": step, "done_at": now}
            for invoice in fresh
            for step in (InvoiceStep.MARKED_OVERDUE, InvoiceStep.CLIENT_REMINDED)
        ])
        await emit_many(session, "invoice.overdue", [
            {**_payload(invoice), "status": InvoiceStatus.OVERDUE,
             "daysOverdue": (today - invoice.due_date).days if invoice.due_date else None}
            for invoice in fresh
        ])
    return len(ids)


async def mark_overdue(db: Database, today: date | None = None) -> int:
    """Returns how many invoices were marked overdue."""
    today = today or utcnow().date()
    total = 0
    while True:
        async with db.session() as session:
            marked = await mark_overdue_in(session, today)
        total += marked
        if marked < OVERDUE_BATCH:
            return total


# Run by `mindlinks jobs run` and the worker (every domain's JOBS, bottom of DOMAINS first).
JOBS = {"invoices.issue-due": issue_due, "invoices.mark-overdue": mark_overdue}
