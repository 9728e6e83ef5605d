"""Licences and insurance policies (seed 003). A licence is unique per contractor, state and
number (409 `license_exists`). Changing what a licence or policy says resets its verification:
a verified status belongs to the document that was checked. Expiry is the daily job's work
(`jobs.py`); a date already in the past on input is refused."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import repository as repo
from mindlinks.contractors.identifiers import AlreadyExpired, DuplicateCoverage, invalid
from mindlinks.contractors.models import (
    CredentialStatus,
    InsurancePolicy,
    InsuranceStatus,
    License,
)
from mindlinks.contractors.profiles import own_profile
from mindlinks.contractors.schemas import InsuranceIn, InsuranceUpdate, LicenseIn, LicenseUpdate
from mindlinks.platform import audit
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import Conflict, NotFound
from mindlinks.platform.events import emit
from mindlinks.platform.security import Actor
from mindlinks.platform.states import StateMachine

C, P = CredentialStatus, InsuranceStatus
# An admin's review sets the status; editing what was reviewed starts over; the daily job
# (jobs.py) expires what passed its date, and only an edit brings it back.
LICENSE_STATES = StateMachine.from_actions({
    "verify": {C.UNVERIFIED: C.VERIFIED, C.VERIFIED: C.VERIFIED},
    "unverify": {C.UNVERIFIED: C.UNVERIFIED, C.VERIFIED: C.UNVERIFIED},
    "edit": {C.UNVERIFIED: C.UNVERIFIED, C.VERIFIED: C.UNVERIFIED, C.EXPIRED: C.UNVERIFIED},
    "expire": {C.UNVERIFIED: C.EXPIRED, C.VERIFIED: C.EXPIRED},
})
POLICY_STATES = StateMachine.from_actions({
    "verify": {P.PENDING: P.VERIFIED, P.VERIFIED: P.VERIFIED, P.FAILED: P.VERIFIED},
    "fail": {P.PENDING: P.FAILED, P.VERIFIED: P.FAILED, P.FAILED: P.FAILED},
    "edit": {s: P.PENDING for s in P},
    "expire": {P.PENDING: P.EXPIRED, P.VERIFIED: P.EXPIRED, P.FAILED: P.EXPIRED},
})


class LicenseNotFound(NotFound):
    code = "license_not_found"


class PolicyNotFound(NotFound):
    code = "insurance_policy_not_found"


class LicenseExists(Conflict):
    code = "license_exists"


def _not_past(value: date | None, field: str) -> None:
    if value is not None and value < utcnow().date():
        raise invalid(field, AlreadyExpired, "The expiration date is in the past")


# --- licences ---------------------------------------------------------------------------


async def list_licenses(session: AsyncSession, actor: Actor) -> list[License]:
    return await repo.licenses(session, (await own_profile(session, actor)).id)


async def own_license(session: AsyncSession, actor: Actor, license_id: uuid.UUID) -> License:
    profile = await own_profile(session, actor)
    row = await repo.license_(session, profile.id, license_id)
    if row is None:
        raise LicenseNotFound("No such licence")
    return row


async def get_license(session: AsyncSession, actor: Actor, license_id: uuid.UUID) -> License:
    return await own_license(session, actor, license_id)


async def add_license(session: AsyncSession, actor: Actor, data: LicenseIn) -> License:
    profile = await own_profile(session, actor)
    _not_past(data.expiration_date, "expirationDate")
    state, number = data.state.strip(), data.license_number.strip()
    if await repo.license_by_number(session, profile.id, state, number) is not None:
        raise LicenseExists("You already have this licence for this state")
    row = License(id=uuid.uuid4(), contractor_id=profile.id, state=state, license_number=number,
                  license_type=data.license_type, expiration_date=data.expiration_date,
                  status=CredentialStatus.UNVERIFIED)
    session.add(row)
    await session.flush()
    await audit.record(session, actor, "contractor.license.added", "contractor_license",
                       row.id, {"state": state})
    return row


async def update_license(
    session: AsyncSession, actor: Actor, license_id: uuid.UUID, data: LicenseUpdate
) -> License:
    row = await own_license(session, actor, license_id)
    changes = data.model_dump(exclude_unset=True)
    if "expiration_date" in changes:
        _not_past(changes["expiration_date"], "expirationDate")
    state = (changes.get("state") or row.state).strip()
    number = (changes.get("license_number") or row.license_number).strip()
    if (state, number) != (row.state, row.license_number):
        other = await repo.license_by_number(session, row.contractor_id, state, number)
        if other is not None and other.id != row.id:
            raise LicenseExists("You already have this licence for this state")
    before = (row.state, row.license_number, row.license_type, row.expiration_date)
    row.state, row.license_number = state, number
    if "license_type" in changes:
        row.license_type = changes["license_type"]
    if "expiration_date" in changes:
        row.expiration_date = changes["expiration_date"]
    if before != (row.state, row.license_number, row.license_type, row.expiration_date):
        row.status, row.verified_at = LICENSE_STATES.after(row.status, "edit"), None
    await session.flush()
    await audit.record(session, actor, "contractor.license.updated", "contractor_license",
                       row.id, {"fields": sorted(changes)})
    return row


async def delete_license(session: AsyncSession, actor: Actor, license_id: uuid.UUID) -> None:
    row = await own_license(session, actor, license_id)
    await session.delete(row)
    await session.flush()
    await audit.record(session, actor, "contractor.license.deleted", "contractor_license",
                       license_id, {})


# --- insurance --------------------------------------------------------------------------


async def list_policies(session: AsyncSession, actor: Actor) -> list[InsurancePolicy]:
    return await repo.policies(session, (await own_profile(session, actor)).id)


async def own_policy(session: AsyncSession, actor: Actor, policy_id: uuid.UUID
                      ) -> InsurancePolicy:
    profile = await own_profile(session, actor)
    row = await repo.policy(session, profile.id, policy_id)
    if row is None:
        raise PolicyNotFound("No such insurance policy")
    return row


async def get_policy(session: AsyncSession, actor: Actor, policy_id: uuid.UUID
                     ) -> InsurancePolicy:
    return await own_policy(session, actor, policy_id)


async def add_policy(session: AsyncSession, actor: Actor, data: InsuranceIn) -> InsurancePolicy:
    profile = await own_profile(session, actor)
    _not_past(data.expiration_date, "expirationDate")
    row = InsurancePolicy(
        id=uuid.uuid4(), contractor_id=profile.id, provider=data.provider,
        policy_number=data.policy_number.strip(), coverage_types=list(data.coverage_types),
        expiration_date=data.expiration_date, additional_insured=data.additional_insured,
        verification_status=InsuranceStatus.PENDING,
    )
    session.add(row)
    await session.flush()
    await audit.record(session, actor, "contractor.insurance.added",
                       "contractor_insurance_policy", row.id,
                       {"coverageTypes": row.coverage_types})
    return row


async def update_policy(
    session: AsyncSession, actor: Actor, policy_id: uuid.UUID, data: InsuranceUpdate
) -> InsurancePolicy:
    row = await own_policy(session, actor, policy_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    if "expiration_date" in changes:
        _not_past(changes["expiration_date"], "expirationDate")
    if "coverage_types" in changes and len(set(changes["coverage_types"])) != len(
            changes["coverage_types"]):
        raise invalid("coverageTypes", DuplicateCoverage, "Each coverage type at most once")
    changed = False
    for key, value in changes.items():
        value = value.strip() if isinstance(value, str) else value
        before = getattr(row, key)
        if key == "coverage_types":  # the same coverage in another order is no change
            changed = changed or sorted(before) != sorted(value)
        else:
            changed = changed or before != value
        setattr(row, key, value)
    # As for licences: only a real change sends it back to review (the web's edit form sends
    # every field, saving it unchanged keeps the verdict).
    if changed:
        row.verification_status = POLICY_STATES.after(row.verification_status, "edit")
        row.last_checked_at = None
    await session.flush()
    await audit.record(session, actor, "contractor.insurance.updated",
                       "contractor_insurance_policy", row.id, {"fields": sorted(changes)})
    return row


async def delete_policy(session: AsyncSession, actor: Actor, policy_id: uuid.UUID) -> None:
    row = await own_policy(session, actor, policy_id)
    await session.delete(row)
    await session.flush()
    await audit.record(session, actor, "contractor.insurance.deleted",
                       "contractor_insurance_policy", policy_id, {})


# --- admin verification -----------------------------------------------------------------


def _review_details(decision: str, reason: str | None) -> dict[str, str]:
    text = (reason or "").strip()[:500]
    return {"decision": decision, **({"reason": text} if text else {})}


async def review_license(
    session: AsyncSession, actor: Actor, license_id: uuid.UUID, decision: str,
    reason: str | None = None,
) -> License:
    """Admin check of a licence against the issuing state's register: `verified` or back to
    `unverified`. An expired licence cannot be verified (409). The reviewer's `reason` (the
    admin screens ask for one) has no column: it is kept in the audit line."""
    row = await repo.license_by_id(session, license_id)
    if row is None:
        raise LicenseNotFound("No such licence")
    row.status = LICENSE_STATES.after(
        row.status, "verify" if decision == C.VERIFIED else "unverify",
        "An expired licence cannot be verified")
    row.verified_at = utcnow() if decision == CredentialStatus.VERIFIED else None
    await session.flush()
    await audit.record(session, actor, "contractor.license.reviewed", "contractor_license",
                       row.id, _review_details(decision, reason))
    await emit(session, "contractor.license.reviewed",
               {"contractorId": row.contractor_id, "licenseId": row.id, "decision": decision})
    return row


async def review_policy(
    session: AsyncSession, actor: Actor, policy_id: uuid.UUID, decision: str,
    reason: str | None = None,
) -> InsurancePolicy:
    """Admin check of a certificate of insurance: `verified` or `failed`. An expired policy
    cannot be reviewed (409). `reason` is kept in the audit line, as for licences."""
    row = await repo.policy_by_id(session, policy_id)
    if row is None:
        raise PolicyNotFound("No such insurance policy")
    row.verification_status = POLICY_STATES.after(
        row.verification_status, "verify" if decision == P.VERIFIED else "fail",
        "An expired policy cannot be reviewed")
    row.last_checked_at = utcnow()
    await session.flush()
    await audit.record(session, actor, "contractor.insurance.reviewed",
                       "contractor_insurance_policy", row.id, _review_details(decision, reason))
    await emit(session, "contractor.insurance.reviewed",
               {"contractorId": row.contractor_id, "policyId": row.id, "decision": decision})
    return row
