"""Finding the actor's own profile: the one ownership check every `/me` route starts with."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import repository as repo
from mindlinks.contractors.models import ContractorProfile
from mindlinks.platform.errors import NotFound
from mindlinks.platform.security import Actor


class ContractorNotFound(NotFound):
    code, title = "contractor_not_found", "Contractor not found"


async def own_profile(
    session: AsyncSession, actor: Actor, *, for_update: bool = False
) -> ContractorProfile:
    """The actor's profile, found by their user id (a token cannot point elsewhere).
    `for_update` locks it: changes to the set of bank accounts serialise on it."""
    profile = await repo.profile_by_user(session, actor.user_id, for_update=for_update)
    if profile is None:
        raise ContractorNotFound("No contractor profile for this account")
    return profile


def legal_name_of(profile: ContractorProfile) -> str | None:
    """The name bank accounts must be held in: the business legal name, else the person's."""
    return profile.legal_name or profile.name or (
        " ".join(p for p in (profile.first_name, profile.last_name) if p) or None
    )
