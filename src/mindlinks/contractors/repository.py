"""Every query of the contractors domain. Tenant scoping lives here: a contractor's rows are
always selected through their own `contractor_id`, so another contractor's id simply finds
nothing (404), never a 403 that would confirm it exists."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors.models import (
    Achievement,
    BankAccount,
    ContractorAchievement,
    ContractorDocument,
    ContractorProfile,
    InsurancePolicy,
    License,
    TaxInfo,
)

# --- profiles ---------------------------------------------------------------------------


async def profile_by_user(
    session: AsyncSession, user_id: uuid.UUID, *, for_update: bool = False
) -> ContractorProfile | None:
    stmt = select(ContractorProfile).where(ContractorProfile.user_id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def profile_by_id(
    session: AsyncSession, contractor_id: uuid.UUID, *, for_update: bool = False
) -> ContractorProfile | None:
    stmt = select(ContractorProfile).where(ContractorProfile.id == contractor_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def profiles_by_ids(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[ContractorProfile]:
    if not ids:
        return []
    return list(await session.scalars(
        select(ContractorProfile).where(ContractorProfile.id.in_(list(ids)))
    ))


# --- bank accounts ----------------------------------------------------------------------


def readable_accounts(contractor_id: uuid.UUID) -> Select[Any]:
    return select(BankAccount).where(
        BankAccount.contractor_id == contractor_id, BankAccount.deleted_at.is_(None)
    )


async def accounts(session: AsyncSession, contractor_id: uuid.UUID) -> list[BankAccount]:
    return list(await session.scalars(
        readable_accounts(contractor_id).order_by(BankAccount.is_primary.desc(),
                                                  BankAccount.created_at)
    ))


async def account(
    session: AsyncSession, contractor_id: uuid.UUID, account_id: uuid.UUID,
    *, for_update: bool = False,
) -> BankAccount | None:
    stmt = readable_accounts(contractor_id).where(BankAccount.id == account_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def primary_account(session: AsyncSession, contractor_id: uuid.UUID) -> BankAccount | None:
    return await session.scalar(
        readable_accounts(contractor_id).where(BankAccount.is_primary.is_(True))
    )


# --- tax --------------------------------------------------------------------------------


async def latest_tax_info(session: AsyncSession, contractor_id: uuid.UUID) -> TaxInfo | None:
    return await session.scalar(
        select(TaxInfo).where(TaxInfo.contractor_id == contractor_id)
        .order_by(TaxInfo.submitted_at.desc(), TaxInfo.id).limit(1)
    )


async def tax_info_by_id(
    session: AsyncSession, tax_info_id: uuid.UUID, *, for_update: bool = False
) -> TaxInfo | None:
    """Admin access: any contractor's submission."""
    stmt = select(TaxInfo).where(TaxInfo.id == tax_info_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


# --- licences and insurance -------------------------------------------------------------


async def licenses(session: AsyncSession, contractor_id: uuid.UUID) -> list[License]:
    return list(await session.scalars(
        select(License).where(License.contractor_id == contractor_id)
        .order_by(License.created_at, License.id)
    ))


async def license_(session: AsyncSession, contractor_id: uuid.UUID, license_id: uuid.UUID
                   ) -> License | None:
    return await session.scalar(
        select(License).where(License.contractor_id == contractor_id, License.id == license_id)
    )


async def license_by_number(
    session: AsyncSession, contractor_id: uuid.UUID, state: str, number: str
) -> License | None:
    return await session.scalar(select(License).where(
        License.contractor_id == contractor_id, License.state == state,
        License.license_number == number,
    ))


async def policies(session: AsyncSession, contractor_id: uuid.UUID) -> list[InsurancePolicy]:
    return list(await session.scalars(
        select(InsurancePolicy).where(InsurancePolicy.contractor_id == contractor_id)
        .order_by(InsurancePolicy.created_at, InsurancePolicy.id)
    ))


async def policy(session: AsyncSession, contractor_id: uuid.UUID, policy_id: uuid.UUID
                 ) -> InsurancePolicy | None:
    return await session.scalar(select(InsurancePolicy).where(
        InsurancePolicy.contractor_id == contractor_id, InsurancePolicy.id == policy_id
    ))


# --- documents --------------------------------------------------------------------------


async def documents_page(
    session: AsyncSession, contractor_id: uuid.UUID, *, offset: int, limit: int,
    type_: str | None = None,
) -> tuple[list[ContractorDocument], int]:
    where = [ContractorDocument.contractor_id == contractor_id]
    if type_:
        where.append(ContractorDocument.type == type_)
    total = await session.scalar(select(func.count()).select_from(ContractorDocument)
                                 .where(*where)) or 0
    rows = await session.scalars(
        select(ContractorDocument).where(*where)
        .order_by(ContractorDocument.created_at.desc(), ContractorDocument.id)
        .offset(offset).limit(limit)
    )
    return list(rows), int(total)


async def document(session: AsyncSession, contractor_id: uuid.UUID, document_id: uuid.UUID
                   ) -> ContractorDocument | None:
    return await session.scalar(select(ContractorDocument).where(
        ContractorDocument.contractor_id == contractor_id, ContractorDocument.id == document_id
    ))


# --- achievements -----------------------------------------------------------------------


async def catalogue(session: AsyncSession) -> list[Achievement]:
    return list(await session.scalars(
        select(Achievement).order_by(Achievement.sort_order, Achievement.key)
    ))


async def achievement_by_key(session: AsyncSession, key: str) -> Achievement | None:
    return await session.scalar(select(Achievement).where(Achievement.key == key))


async def progress_of(
    session: AsyncSession, contractor_id: uuid.UUID
) -> dict[uuid.UUID, ContractorAchievement]:
    rows = await session.scalars(select(ContractorAchievement).where(
        ContractorAchievement.contractor_id == contractor_id
    ))
    return {r.achievement_id: r for r in rows}
