"""Every query of the contractors domain. Tenant scoping lives here: a contractor's rows are
always selected through their own `contractor_id`, so another contractor's id simply finds
nothing (404), never a 403 that would confirm it exists."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors.models import (
    Achievement,
    AchievementCredit,
    BankAccount,
    ContractorAchievement,
    ContractorDocument,
    ContractorProfile,
    ContractorStatus,
    InsurancePolicy,
    License,
    TaxInfo,
)
from mindlinks.platform.db import in_list

# --- profiles ---------------------------------------------------------------------------


async def active_users(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    rows = await session.execute(select(ContractorProfile.user_id).where(
        in_list(session, ContractorProfile.user_id, user_ids),
        ContractorProfile.status != ContractorStatus.SUSPENDED))
    return {row[0] for row in rows}


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


async def accounts_of_many(session: AsyncSession,
                           contractor_ids: Sequence[uuid.UUID]) -> list[BankAccount]:
    """The bank accounts of several contractors in one query (lists of contractors)."""
    if not contractor_ids:
        return []
    return list(await session.scalars(
        select(BankAccount).where(BankAccount.contractor_id.in_(list(contractor_ids)),
                                  BankAccount.deleted_at.is_(None))
        .order_by(BankAccount.is_primary.desc(), BankAccount.created_at)))


async def latest_tax_infos(session: AsyncSession,
                           contractor_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, TaxInfo]:
    """Each contractor's latest tax submission, in one query."""
    if not contractor_ids:
        return {}
    rows = await session.scalars(
        select(TaxInfo).where(TaxInfo.contractor_id.in_(list(contractor_ids)))
        .order_by(TaxInfo.contractor_id, TaxInfo.submitted_at.desc(), TaxInfo.id))
    latest: dict[uuid.UUID, TaxInfo] = {}
    for row in rows:
        latest.setdefault(row.contractor_id, row)
    return latest


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


async def license_by_id(session: AsyncSession, license_id: uuid.UUID) -> License | None:
    """Admin access, locked for the review: any contractor's licence."""
    return await session.get(License, license_id, with_for_update=True)


async def policy_by_id(session: AsyncSession, policy_id: uuid.UUID) -> InsurancePolicy | None:
    """Admin access, locked for the review: any contractor's policy."""
    return await session.get(InsurancePolicy, policy_id, with_for_update=True)


# --- expiry (jobs.py): due rows, locked, skipping those another worker holds ------------------


async def licenses_to_expire(
    session: AsyncSession, today: date, statuses: Iterable[str]
) -> Sequence[License]:
    return (await session.scalars(
        select(License).where(License.expiration_date < today, License.status.in_(statuses))
        .order_by(License.id).with_for_update(skip_locked=True)
    )).all()


async def policies_to_expire(
    session: AsyncSession, today: date, statuses: Iterable[str]
) -> Sequence[InsurancePolicy]:
    return (await session.scalars(
        select(InsurancePolicy).where(InsurancePolicy.expiration_date < today,
                                      InsurancePolicy.verification_status.in_(statuses))
        .order_by(InsurancePolicy.id).with_for_update(skip_locked=True)
    )).all()


async def tax_forms_to_expire(
    session: AsyncSession, before: datetime, statuses: Iterable[str]
) -> Sequence[TaxInfo]:
    return (await session.scalars(
        select(TaxInfo).where(TaxInfo.expires_at.is_not(None), TaxInfo.expires_at < before,
                              TaxInfo.status.in_(statuses))
        .order_by(TaxInfo.id).with_for_update(skip_locked=True)
    )).all()


# --- documents --------------------------------------------------------------------------


# The `contractor_documents.type` of a licence's scan and of a policy's certificate
# (credential_documents.py), with the credential table that points at the current one.
LICENSE_DOCUMENT, POLICY_DOCUMENT = "license", "insurance_certificate"
CREDENTIAL_DOCUMENT_TYPES = ((LICENSE_DOCUMENT, License), (POLICY_DOCUMENT, InsurancePolicy))


def _replaced() -> ColumnElement[bool]:
    """A credential's earlier document: its licence or policy now points at another file.
    A correlated EXISTS in the list's own statement (no query per row)."""
    doc = ContractorDocument
    return or_(*(and_(doc.type == type_, exists().where(
        model.id == doc.entity_id, model.document_id != doc.id))
        for type_, model in CREDENTIAL_DOCUMENT_TYPES))


async def documents_page(
    session: AsyncSession, contractor_id: uuid.UUID, *, offset: int, limit: int,
    type_: str | None = None,
) -> tuple[list[tuple[ContractorDocument, bool]], int]:
    """A page of the contractor's documents, newest first, each with `replaced`."""
    where = [ContractorDocument.contractor_id == contractor_id]
    if type_:
        where.append(ContractorDocument.type == type_)
    total = await session.scalar(select(func.count()).select_from(ContractorDocument)
                                 .where(*where)) or 0
    rows = await session.execute(
        select(ContractorDocument, _replaced()).where(*where)
        .order_by(ContractorDocument.created_at.desc(), ContractorDocument.id)
        .offset(offset).limit(limit)
    )
    return [(row[0], bool(row[1])) for row in rows], int(total)


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


def _insert(session: AsyncSession) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


async def locked_progress(
    session: AsyncSession, contractor_id: uuid.UUID, achievement_id: uuid.UUID,
    max_progress: int, now: datetime,
) -> ContractorAchievement:
    """The contractor's progress row for the achievement, created at 0 if missing, locked (two
    events crediting at once add up instead of overwriting each other)."""
    await session.execute(
        _insert(session)(ContractorAchievement)
        .values(contractor_id=contractor_id, achievement_id=achievement_id, progress=0,
                max_progress=max_progress, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["contractor_id", "achievement_id"])
    )
    row = await session.scalar(
        select(ContractorAchievement).where(
            ContractorAchievement.contractor_id == contractor_id,
            ContractorAchievement.achievement_id == achievement_id,
        ).with_for_update().execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def add_credit(
    session: AsyncSession, contractor_id: uuid.UUID, key: str, source_id: str, now: datetime
) -> bool:
    """Record that `source_id` counted towards `key`; False if it already had."""
    result = await session.execute(
        _insert(session)(AchievementCredit)
        .values(id=uuid.uuid4(), contractor_id=contractor_id, achievement_key=key,
                source_id=source_id, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["contractor_id", "achievement_key", "source_id"])
    )
    return bool(getattr(result, "rowcount", 0))


async def progress_of(
    session: AsyncSession, contractor_id: uuid.UUID
) -> dict[uuid.UUID, ContractorAchievement]:
    rows = await session.scalars(select(ContractorAchievement).where(
        ContractorAchievement.contractor_id == contractor_id
    ))
    return {r.achievement_id: r for r in rows}
