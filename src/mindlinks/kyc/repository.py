"""Every query of the KYC domain. Tenant scoping: a contractor reads only rows whose
`contractor_id` is their own profile's (`*_for_contractor`); admin queries are unscoped and only
reached through `AdminUser` routes."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.kyc.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    KycDocument,
    KycSession,
    VerificationPayload,
)
from mindlinks.platform import webhooks as inbox


async def session_by_id(session: AsyncSession, kyc_id: uuid.UUID, *, for_update: bool = False
                        ) -> KycSession | None:
    stmt = select(KycSession).where(KycSession.id == kyc_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def session_by_provider_ref(session: AsyncSession, provider: str, ref: str, *,
                                  for_update: bool = False) -> KycSession | None:
    stmt = select(KycSession).where(KycSession.provider == provider,
                                    KycSession.provider_session_id == ref)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def latest_for_contractor(session: AsyncSession, contractor_id: uuid.UUID, *,
                                for_update: bool = False) -> KycSession | None:
    stmt = (select(KycSession).where(KycSession.contractor_id == contractor_id)
            .order_by(KycSession.created_at.desc(), KycSession.id.desc()).limit(1))
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def documents_of_session(session: AsyncSession, kyc_id: uuid.UUID) -> list[KycDocument]:
    return list(await session.scalars(
        select(KycDocument).where(KycDocument.session_id == kyc_id)
        .order_by(KycDocument.created_at, KycDocument.id)))


async def documents_for_contractor(session: AsyncSession, contractor_id: uuid.UUID
                                   ) -> list[KycDocument]:
    return list(await session.scalars(
        select(KycDocument).where(KycDocument.contractor_id == contractor_id)
        .order_by(KycDocument.created_at.desc(), KycDocument.id)))


async def document_for_contractor(session: AsyncSession, contractor_id: uuid.UUID,
                                  doc_id: uuid.UUID) -> KycDocument | None:
    """The document if it is this contractor's; another's is None (a 404, never a 403)."""
    return await session.scalar(select(KycDocument).where(
        KycDocument.id == doc_id, KycDocument.contractor_id == contractor_id))


async def document_by_id(session: AsyncSession, doc_id: uuid.UUID, *, for_update: bool = False
                         ) -> KycDocument | None:
    stmt = select(KycDocument).where(KycDocument.id == doc_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt)


async def list_sessions(session: AsyncSession, status: str | None, *, offset: int, limit: int
                        ) -> tuple[list[KycSession], int]:
    """Oldest first: the review queue is worked in arrival order."""
    where = [KycSession.status == status] if status else []
    total = await session.scalar(select(func.count()).select_from(KycSession).where(*where))
    rows = await session.scalars(select(KycSession).where(*where)
                                 .order_by(KycSession.created_at, KycSession.id)
                                 .offset(offset).limit(limit))
    return list(rows), int(total or 0)


async def overdue_open_sessions(session: AsyncSession, now: datetime) -> Sequence[KycSession]:
    return list(await session.scalars(
        select(KycSession).where(KycSession.status.in_(list(OPEN_STATUSES)),
                                 KycSession.expires_at < now)
        .order_by(KycSession.id).with_for_update(skip_locked=True)))


async def documents_past_retention(session: AsyncSession, cutoff: datetime
                                   ) -> Sequence[KycDocument]:
    """Documents still holding a file whose session reached a final state before `cutoff`."""
    finished = select(KycSession.id).where(KycSession.status.in_(list(FINAL_STATUSES)),
                                           KycSession.completed_at < cutoff)
    return list(await session.scalars(
        select(KycDocument).where(KycDocument.file_deleted_at.is_(None),
                                  KycDocument.session_id.in_(finished))
        .order_by(KycDocument.id).with_for_update(skip_locked=True)))


async def payload_by_id(session: AsyncSession, payload_id: uuid.UUID, *, for_update: bool = False
                        ) -> VerificationPayload | None:
    return await inbox.by_id(session, payload_id, domain="kyc", for_update=for_update)
