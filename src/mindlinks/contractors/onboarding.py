"""Onboarding progress (seed 003), derived from the real data every time, never stored twice:
profile -> identity (KYC) -> bank account -> tax form -> first contract signed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import repository as repo
from mindlinks.contractors.models import (
    BankAccount,
    BankVerificationStatus,
    ContractorProfile,
    KycStatus,
    TaxInfo,
    TaxInfoStatus,
)
from mindlinks.contractors.schemas import Onboarding, OnboardingStep

STEPS = [
    ("profile", "Complete your profile"),
    ("identity", "Verify your identity"),
    ("bank_account", "Add and verify a bank account"),
    ("tax_form", "Submit your tax form"),
    ("first_contract", "Sign your first contract"),
]

# What a complete profile has (field name in the API -> attribute).
PROFILE_FIELDS = [
    ("name", "name"),
    ("phone", "phone"),
    ("country", "country"),
    ("timezone", "timezone"),
    ("legalName", "legal_name"),
    ("address.line1", "address_line1"),
    ("address.city", "address_city"),
    ("address.postalCode", "address_postal_code"),
    ("address.country", "address_country"),
]


def profile_missing(profile: ContractorProfile) -> list[str]:
    return [f"{api} is required" for api, attr in PROFILE_FIELDS if not getattr(profile, attr)]


@dataclass(frozen=True)
class StepState:
    status: str
    errors: list[str]


async def _states(session: AsyncSession, profile: ContractorProfile) -> dict[str, StepState]:
    return _states_of(profile, await repo.accounts(session, profile.id),
                      await repo.latest_tax_info(session, profile.id))


def _states_of(profile: ContractorProfile, accounts: list[BankAccount],
               tax: TaxInfo | None) -> dict[str, StepState]:
    states: dict[str, StepState] = {}
    missing = profile_missing(profile)
    filled = len(PROFILE_FIELDS) - len(missing)
    states["profile"] = StepState(
        "completed" if not missing else ("in_progress" if filled else "not_started"), missing
    )

    kyc = profile.kyc_status
    states["identity"] = {
        KycStatus.VERIFIED: StepState("completed", []),
        KycStatus.PENDING: StepState("in_progress", ["identity verification is in review"]),
        KycStatus.REJECTED: StepState("in_progress", ["identity verification was rejected"]),
    }.get(KycStatus(kyc) if kyc in KycStatus._value2member_map_ else KycStatus.NOT_STARTED,
          StepState("not_started", ["identity verification has not been started"]))

    usable = [a for a in accounts
              if a.status == BankVerificationStatus.VERIFIED and not a.name_mismatch]
    if usable:
        states["bank_account"] = StepState("completed", [])
    elif not accounts:
        states["bank_account"] = StepState("not_started", ["no bank account added"])
    else:
        errors = []
        if any(a.status == BankVerificationStatus.PENDING for a in accounts):
            errors.append("bank account awaiting micro-deposit verification")
        if any(a.status == BankVerificationStatus.FAILED for a in accounts):
            errors.append("bank account verification failed")
        if any(a.name_mismatch for a in accounts):
            errors.append("account holder name does not match your legal name")
        states["bank_account"] = StepState("in_progress", errors)

    if tax is None:
        states["tax_form"] = StepState("not_started", ["no tax form submitted"])
    elif tax.status == TaxInfoStatus.APPROVED:
        states["tax_form"] = StepState("completed", [])
    else:
        message = {
            TaxInfoStatus.PENDING_REVIEW: "tax form is awaiting review",
            TaxInfoStatus.REJECTED: "tax form was rejected: " + (tax.review_reason or ""),
            TaxInfoStatus.EXPIRED: "tax form has expired; submit a new one",
        }.get(TaxInfoStatus(tax.status), tax.status)
        states["tax_form"] = StepState("in_progress", [message.strip().rstrip(":")])

    states["first_contract"] = (
        StepState("completed", []) if profile.first_contract_signed_at
        else StepState("not_started", ["no contract signed yet"])
    )
    return states


async def progress(session: AsyncSession, profile: ContractorProfile) -> Onboarding:
    """The contractor's onboarding: each step's status and what is still missing."""
    return _progress_of(await _states(session, profile))


async def progress_many(session: AsyncSession,
                        profiles: Sequence[ContractorProfile]) -> dict[uuid.UUID, Onboarding]:
    """`progress` of several contractors with two queries in all (bank accounts, latest tax
    forms), for lists: not two per contractor."""
    ids = [p.id for p in profiles]
    accounts: dict[uuid.UUID, list[BankAccount]] = {i: [] for i in ids}
    for account in await repo.accounts_of_many(session, ids):
        accounts[account.contractor_id].append(account)
    taxes = await repo.latest_tax_infos(session, ids)
    return {p.id: _progress_of(_states_of(p, accounts[p.id], taxes.get(p.id)))
            for p in profiles}


def _progress_of(states: dict[str, StepState]) -> Onboarding:
    steps = [OnboardingStep(key=key, title=title, status=states[key].status,
                            validation_errors=states[key].errors) for key, title in STEPS]
    done = [s.key for s in steps if s.status == "completed"]
    current = next((s.key for s in steps if s.status != "completed"), None)
    return Onboarding(current_step=current, completed_steps=done, steps=steps,
                      completed=current is None)


def status_of(onboarding: Onboarding) -> str:
    """Seed 002's `onboardingStatus`: `pending` until a first step is complete, then
    `in_progress`, `completed` when every step is."""
    if onboarding.completed:
        return "completed"
    if onboarding.completed_steps:
        return "in_progress"
    return "pending"
