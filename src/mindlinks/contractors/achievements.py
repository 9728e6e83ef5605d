"""Achievements (seed 003 gamification): a seeded catalogue, each contractor's progress moved
by event subscribers (`events.py`). Progress never goes down, and an unlocked achievement
stays unlocked. Counting achievements credit each source (a timesheet id) once, so a
redelivered or repeated event never counts twice."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import onboarding
from mindlinks.contractors import repository as repo
from mindlinks.contractors.models import ContractorAchievement
from mindlinks.contractors.schemas import AchievementOut
from mindlinks.platform.db import utcnow
from mindlinks.platform.events import emit

# Keys of the seeded catalogue (migration 0004_contractors) that code moves.
PROFILE_COMPLETE = "profile_complete"
IDENTITY_VERIFIED = "identity_verified"
BANK_VERIFIED = "bank_account_verified"
TAX_FORM_APPROVED = "tax_form_approved"
ONBOARDING_COMPLETE = "onboarding_complete"
FIRST_CONTRACT_SIGNED = "first_contract_signed"
TIMESHEETS_ON_TIME = "timesheets_on_time_10"
TIMESHEETS_APPROVED = "timesheets_approved_25"

_STEP_ACHIEVEMENTS = {
    "profile": PROFILE_COMPLETE,
    "identity": IDENTITY_VERIFIED,
    "bank_account": BANK_VERIFIED,
    "tax_form": TAX_FORM_APPROVED,
    "first_contract": FIRST_CONTRACT_SIGNED,
}


async def advance(
    session: AsyncSession, contractor_id: uuid.UUID, key: str, *, to: int | None = None,
    by: int = 0,
) -> ContractorAchievement | None:
    """Raise `key`'s progress to `to` (or by `by`), capped at its maximum; unlocks (and emits
    `contractor.achievement.unlocked`) when the maximum is reached. None if `key` is unknown."""
    achievement = await repo.achievement_by_key(session, key)
    if achievement is None:
        return None
    row = await repo.locked_progress(session, contractor_id, achievement.id,
                                     achievement.max_progress, utcnow())
    target = row.progress + by if to is None else max(row.progress, to)
    row.progress = min(target, achievement.max_progress)
    row.max_progress = achievement.max_progress
    if row.unlocked_at is None and row.progress >= achievement.max_progress:
        row.unlocked_at = utcnow()
        await emit(session, "contractor.achievement.unlocked",
                   {"contractorId": contractor_id, "achievement": key})
    await session.flush()
    return row


async def credit(
    session: AsyncSession, contractor_id: uuid.UUID, key: str, source_id: str
) -> bool:
    """One unit of progress for `key` from `source_id`, once ever; True if it counted."""
    if not await repo.add_credit(session, contractor_id, key, source_id, utcnow()):
        return False
    await advance(session, contractor_id, key, by=1)
    return True


async def refresh_completion(session: AsyncSession, contractor_id: uuid.UUID) -> None:
    """Unlock the completion achievements whose onboarding step is now complete."""
    profile = await repo.profile_by_id(session, contractor_id)
    if profile is None:
        return
    state = await onboarding.progress(session, profile)
    for step in state.steps:
        if step.status == "completed" and step.key in _STEP_ACHIEVEMENTS:
            await advance(session, contractor_id, _STEP_ACHIEVEMENTS[step.key], to=1)
    if state.completed:
        await advance(session, contractor_id, ONBOARDING_COMPLETE, to=1)


async def list_for(session: AsyncSession, contractor_id: uuid.UUID) -> list[AchievementOut]:
    """The whole catalogue with this contractor's progress (0 where none yet)."""
    progress = await repo.progress_of(session, contractor_id)
    out = []
    for a in await repo.catalogue(session):
        row = progress.get(a.id)
        out.append(AchievementOut(
            key=a.key, title=a.title, description=a.description, category=a.category,
            progress=row.progress if row else 0, max_progress=a.max_progress,
            unlocked_at=row.unlocked_at if row else None,
        ))
    return out
