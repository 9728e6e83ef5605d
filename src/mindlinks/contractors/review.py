"""The administrators' review queues of contractor credentials (web/admin_review_pages): tax
forms, licences and insurance policies of every contractor, filtered by status, with the
contractor's name; one submission with its signed form link; the pending counts of the admin
home. The verdicts themselves stay in `tax.review` and `credentials.review_*` (audited there).

Reads only, admin only (`ForbiddenRole` otherwise): a list is one bounded query plus its count,
the contractor's name joined in (never one query per row).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors.credential_documents import document_link
from mindlinks.contractors.credentials import LicenseNotFound, PolicyNotFound
from mindlinks.contractors.models import (
    ContractorProfile,
    CredentialStatus,
    InsurancePolicy,
    InsuranceStatus,
    License,
    TaxInfo,
    TaxInfoStatus,
)
from mindlinks.contractors.schemas import Document
from mindlinks.contractors.schemas import InsurancePolicy as PolicyOut
from mindlinks.contractors.schemas import License as LicenseOut
from mindlinks.contractors.schemas import TaxInfo as TaxInfoOut
from mindlinks.contractors.tax import TaxInfoNotFound, tax_out
from mindlinks.platform.errors import ForbiddenRole
from mindlinks.platform.security import Actor
from mindlinks.platform.storage import StorageBackend

TAX_STATUSES = tuple(s.value for s in TaxInfoStatus)
LICENSE_STATUSES = tuple(s.value for s in CredentialStatus)
POLICY_STATUSES = tuple(s.value for s in InsuranceStatus)


@dataclass(frozen=True)
class Reviewed:
    """One queue row or detail: the API's view of the item and whose it is."""

    item: Any  # TaxInfoOut | LicenseOut | PolicyOut
    contractor_id: uuid.UUID
    contractor_name: str
    contractor_email: str


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise ForbiddenRole("Administrators only")


def _name(profile: ContractorProfile) -> str:
    full = " ".join(p for p in (profile.first_name, profile.last_name) if p)
    return profile.name or full or profile.email


async def _page(session: AsyncSession, model: Any, status_column: Any, status: str | None,
                order: Any, offset: int, limit: int) -> tuple[list[tuple[Any, Any]], int]:
    where: list[ColumnElement[bool]] = [] if status is None else [status_column == status]
    total = await session.scalar(select(func.count()).select_from(model).where(*where))
    rows = await session.execute(
        select(model, ContractorProfile).join(
            ContractorProfile, ContractorProfile.id == model.contractor_id)
        .where(*where).order_by(order, model.id).offset(offset).limit(limit))
    return [(r[0], r[1]) for r in rows], int(total or 0)


async def tax_queue(session: AsyncSession, actor: Actor, *, status: str | None, offset: int,
                    limit: int) -> tuple[list[Reviewed], int]:
    """Tax submissions, oldest first (the queue's order), optionally of one status."""
    _require_admin(actor)
    rows, total = await _page(session, TaxInfo, TaxInfo.status, status, TaxInfo.submitted_at,
                              offset, limit)
    # The list links each form through `credential_document` (signed when opened).
    return [Reviewed(_tax_row(info), p.id, _name(p), p.email) for info, p in rows], total


def _tax_row(info: TaxInfo) -> dict[str, Any]:
    return {"id": info.id, "tax_form_type": info.tax_form_type, "tax_country": info.tax_country,
            "entity_type": info.entity_type, "status": info.status,
            "submitted_at": info.submitted_at}


async def tax_detail(session: AsyncSession, actor: Actor, storage: StorageBackend,
                     tax_info_id: uuid.UUID) -> Reviewed:
    """One submission as the API shows it (masked tax id, signed expiring form link)."""
    _require_admin(actor)
    row = (await session.execute(
        select(TaxInfo, ContractorProfile).join(
            ContractorProfile, ContractorProfile.id == TaxInfo.contractor_id)
        .where(TaxInfo.id == tax_info_id))).first()
    if row is None:
        raise TaxInfoNotFound("No such tax information")
    info, profile = row
    out: TaxInfoOut = await tax_out(storage, session, info)
    return Reviewed(out, profile.id, _name(profile), profile.email)


async def license_queue(session: AsyncSession, actor: Actor, *, status: str | None,
                        offset: int, limit: int) -> tuple[list[Reviewed], int]:
    _require_admin(actor)
    rows, total = await _page(session, License, License.status, status, License.created_at,
                              offset, limit)
    return [Reviewed(LicenseOut.model_validate(r), p.id, _name(p), p.email)
            for r, p in rows], total


async def license_detail(session: AsyncSession, actor: Actor,
                         license_id: uuid.UUID) -> Reviewed:
    _require_admin(actor)
    row = (await session.execute(
        select(License, ContractorProfile).join(
            ContractorProfile, ContractorProfile.id == License.contractor_id)
        .where(License.id == license_id))).first()
    if row is None:
        raise LicenseNotFound("No such licence")
    return Reviewed(LicenseOut.model_validate(row[0]), row[1].id, _name(row[1]), row[1].email)


async def policy_queue(session: AsyncSession, actor: Actor, *, status: str | None,
                       offset: int, limit: int) -> tuple[list[Reviewed], int]:
    _require_admin(actor)
    rows, total = await _page(session, InsurancePolicy, InsurancePolicy.verification_status,
                              status, InsurancePolicy.created_at, offset, limit)
    return [Reviewed(PolicyOut.model_validate(r), p.id, _name(p), p.email)
            for r, p in rows], total


async def policy_detail(session: AsyncSession, actor: Actor, policy_id: uuid.UUID) -> Reviewed:
    _require_admin(actor)
    row = (await session.execute(
        select(InsurancePolicy, ContractorProfile).join(
            ContractorProfile, ContractorProfile.id == InsurancePolicy.contractor_id)
        .where(InsurancePolicy.id == policy_id))).first()
    if row is None:
        raise PolicyNotFound("No such insurance policy")
    return Reviewed(PolicyOut.model_validate(row[0]), row[1].id, _name(row[1]), row[1].email)


# What points at a reviewed item's document, by the kind the review pages name.
DOCUMENT_OWNERS: dict[str, Any] = {"license": License, "policy": InsurancePolicy,
                                   "tax": TaxInfo}


async def credential_document(session: AsyncSession, actor: Actor, storage: StorageBackend,
                              kind: str, item_id: uuid.UUID) -> Document:
    """The signed, expiring link of a licence's (`kind="license"`), policy's or tax form's
    (`"tax"`) document, for an administrator reviewing it (`ForbiddenRole` otherwise); an
    unknown id, or an item without a document, is 404. The queues link each row here, so a
    list signs no URL per row."""
    _require_admin(actor)
    model = DOCUMENT_OWNERS[kind]
    document_id = await session.scalar(select(model.document_id).where(model.id == item_id))
    return await document_link(session, storage, document_id)


async def pending_counts(session: AsyncSession) -> dict[str, int]:
    """What waits for an administrator, in one statement: tax forms pending review, licences
    not yet verified, insurance policies pending."""
    def waiting(model: Any, column: Any, status: str) -> Any:
        return select(func.count()).select_from(model).where(column == status).scalar_subquery()

    row = (await session.execute(select(
        waiting(TaxInfo, TaxInfo.status, TaxInfoStatus.PENDING_REVIEW),
        waiting(License, License.status, CredentialStatus.UNVERIFIED),
        waiting(InsurancePolicy, InsurancePolicy.verification_status, InsuranceStatus.PENDING),
    ))).one()
    return {"tax_forms": int(row[0]), "licenses": int(row[1]), "policies": int(row[2])}
