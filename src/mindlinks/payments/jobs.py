"""Scheduled work of the payments domain.

- `payments.expire_holds`: every pending transfer whose `expires_at` has passed is voided (its
  funds go back to the debit account) and marked `expired`. One short transaction per hold, so a
  large backlog never holds many account locks at once; a hold posted or voided meanwhile is
  skipped. Idempotent: two workers at once void each hold once (the void's unique reference).
- `payments.reconcile`: yesterday's (UTC) book against the provider's records
  (`payments/reconciliation.py`); each difference raises one system alert, keyed, so a re-run
  raises nothing new.
- `payments.resend_stuck_payouts`: withdrawals waiting over an hour without a payout reference
  are sent again with the same idempotency key (`withdrawals_payouts.resend_stuck`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from mindlinks.payments import book, payroll, reconciliation, withdrawals_payouts
from mindlinks.payments.models import PendingStatus, Transfer, TransferKind
from mindlinks.platform import idempotency
from mindlinks.platform.db import Database, utcnow
from mindlinks.settings import get_settings

BATCH = 500


async def expire_holds(db: Database) -> int:
    now = utcnow()
    async with db.session() as s:
        due = (await s.scalars(select(Transfer).where(
            Transfer.kind == TransferKind.PENDING, Transfer.status == PendingStatus.PENDING,
            Transfer.expires_at <= now).order_by(Transfer.expires_at).limit(BATCH))).all()
    expired = 0
    for pending in due:
        async with db.session() as s:
            if await book.expire_pending(s, pending) is not None:
                expired += 1
    return expired


async def purge_idempotency_keys(db: Database) -> int:
    """Delete Idempotency-Key records older than 24 hours (money POSTs are this domain's)."""
    async with db.session() as s:
        return await idempotency.purge(s)


async def run_payroll(db: Database) -> dict[str, int]:
    """The daily payroll run (payments/payroll.py)."""
    return await payroll.run(db)


async def reconcile(db: Database) -> dict[str, Any]:
    """Reconcile yesterday, the last complete UTC day."""
    day = (utcnow() - timedelta(days=1)).date()
    records = reconciliation.records_provider(get_settings())
    async with db.session() as s:
        report = await reconciliation.reconcile(s, records, day)
    return {"day": day.isoformat(), "differences": len(report.differences),
            "alertsRaised": report.alerts_raised}


JOBS = {"payments.expire_holds": expire_holds, "payments.run_payroll": run_payroll,
        "payments.purge_idempotency_keys": purge_idempotency_keys,
        "payments.reconcile": reconcile,
        "payments.resend_stuck_payouts": withdrawals_payouts.resend_stuck}
