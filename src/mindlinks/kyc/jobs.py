"""Scheduled work of the KYC domain (`mindlinks jobs run`, the worker's daily scheduler).

- `kyc.expire-sessions`: open sessions (pending, processing, resubmission_requested) past their
  `expiresAt` (created + MINDLINKS_KYC_SESSION_EXPIRY_DAYS, default 7) without a decision become
  `expired`, through the state machine (audited; the profile goes back to `not_started`).
- `kyc.purge-documents`: document files of sessions that reached a final state more than
  MINDLINKS_KYC_RETENTION_DAYS (default 90) ago are deleted from storage; the row, its SHA-256,
  size, type and review metadata stay (`fileDeletedAt` set).

Both are idempotent: only rows still to do are selected (and locked, skipping rows another
worker holds), and each is changed in the same transaction as its audit line.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.kyc import repository as repo
from mindlinks.kyc import service
from mindlinks.kyc.models import SessionStatus
from mindlinks.platform import audit
from mindlinks.platform.db import Database, utcnow
from mindlinks.platform.storage import StorageBackend, storage_from_settings
from mindlinks.settings import get_settings


async def expire_sessions_in(session: AsyncSession, now: datetime | None = None) -> int:
    now = now or utcnow()
    expired = 0
    for kyc in await repo.overdue_open_sessions(session, now):
        await service.transition(session, kyc, SessionStatus.EXPIRED, actor=None,
                                 source="job:expire-sessions",
                                 reason="no decision before the session expired",
                                 result={"status": "expired", "source": "job"})
        expired += 1
    return expired


async def purge_documents_in(session: AsyncSession, storage: StorageBackend, *,
                             retention_days: int, now: datetime | None = None) -> int:
    now = now or utcnow()
    purged = 0
    for doc in await repo.documents_past_retention(session, now - timedelta(days=retention_days)):
        await storage.delete(doc.s3_key)  # idempotent: a missing file is not an error
        doc.file_deleted_at = now
        await session.flush()
        await audit.record(session, None, "kyc.document.file_deleted", "kyc_document", doc.id,
                           {"sha256": doc.sha256, "retentionDays": retention_days})
        purged += 1
    return purged


async def expire_sessions(db: Database) -> int:
    async with db.session() as session:
        return await expire_sessions_in(session)


async def purge_documents(db: Database) -> int:
    settings = get_settings()
    async with db.session() as session:
        return await purge_documents_in(session, storage_from_settings(settings),
                                        retention_days=settings.kyc_retention_days)


# Run by `mindlinks jobs run` and the worker (every domain's JOBS, bottom of DOMAINS first).
JOBS = {"kyc.expire-sessions": expire_sessions, "kyc.purge-documents": purge_documents}
