"""Subscribers of the contractors domain (idempotent: delivery is at least once).

Payloads this domain expects from later domains (ids as strings):
- `contract.signed`: `{"contractId", "contractorId", "signedBy", ...}` - the contractor's first
  signature (`signedBy` not `client`) sets the onboarding step "first contract signed" and the
  "First contract signed" achievement.
- `timesheet.approved`: `{"timesheetId", "contractorId", "onTime": bool}` (or, without
  `onTime`, `submittedAt` and `dueAt` ISO timestamps to compare) - counts towards
  "25 timesheets approved" and, when on time, "10 timesheets approved on time"; each timesheet
  counts once however often the event arrives.

The profile's `kyc_status` is not written from `contractor.kyc.completed`: the KYC domain sets
it through `service.set_kyc_status` in the transaction that decides the session, so a late or
replayed event of an older session can never overwrite a newer one (docs/kyc.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import achievements
from mindlinks.contractors import repository as repo
from mindlinks.platform.db import utcnow
from mindlinks.platform.events import Event, subscriber


def _contractor_id(payload: dict[str, Any]) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(payload["contractorId"]))
    except (KeyError, ValueError, TypeError):
        return None


@subscriber("contractor.profile.updated", name="contractors.achievements.on_profile")
@subscriber("contractor.bank_account.verified", name="contractors.achievements.on_bank")
@subscriber("contractor.tax_info.reviewed", name="contractors.achievements.on_tax")
async def refresh_completion(session: AsyncSession, event: Event) -> None:
    if (cid := _contractor_id(event.payload)) is not None:
        await achievements.refresh_completion(session, cid)


@subscriber("contract.signed", name="contractors.on_contract_signed")
async def on_contract_signed(session: AsyncSession, event: Event) -> None:
    # One event per signature: only the contractor's own signature counts as "signed".
    cid = _contractor_id(event.payload)
    if cid is None or event.payload.get("signedBy") == "client":
        return
    profile = await repo.profile_by_id(session, cid, for_update=True)
    if profile is None:
        return
    if profile.first_contract_signed_at is None:
        profile.first_contract_signed_at = event.occurred_at or utcnow()
        await session.flush()
    await achievements.refresh_completion(session, cid)


def _on_time(payload: dict[str, Any]) -> bool:
    if isinstance(payload.get("onTime"), bool):
        return bool(payload["onTime"])
    try:
        submitted = datetime.fromisoformat(str(payload["submittedAt"]))
        due = datetime.fromisoformat(str(payload["dueAt"]))
    except (KeyError, ValueError):
        return False
    return submitted <= due


@subscriber("timesheet.approved", name="contractors.on_timesheet_approved")
async def on_timesheet_approved(session: AsyncSession, event: Event) -> None:
    cid = _contractor_id(event.payload)
    if cid is None or await repo.profile_by_id(session, cid) is None:
        return
    source = str(event.payload.get("timesheetId") or event.id)
    await achievements.credit(session, cid, achievements.TIMESHEETS_APPROVED, source)
    if _on_time(event.payload):
        await achievements.credit(session, cid, achievements.TIMESHEETS_ON_TIME, source)
