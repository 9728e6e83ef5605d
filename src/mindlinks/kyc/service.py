"""The KYC domain's public API (other domains import this module and `schemas`).

- `require_verified(session, contractor_id)`: the gate contract signing and withdrawals call;
  raises `KycRequired` (403, `kyc_required`) unless the contractor's KYC status is `verified`.
  The source of truth is the contractor profile's `kyc_status`, written only by this domain's
  `record_profile_status`, from the contractor's latest session, in the transaction that
  changes that session (docs/kyc.md, "One owner of kycStatus").
- The session state machine (`TRANSITIONS`): `not_started -> pending -> processing ->
  verified | rejected | resubmission_requested | expired`, `resubmission_requested -> pending`
  on new documents. Every change goes through `transition` (audited); provider decisions,
  admin decisions and the expiry job all use `apply_decision` / `transition`. A final session
  (verified, rejected, expired) never changes again: a late provider decision is ignored, a
  manual one is `409 invalid_transition`.
- A final decision (verified / rejected) emits `contractor.kyc.completed` with
  `{contractorId, userId, sessionId, kycStatus, status}`.

Functions take the session first, flush but never commit.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import service as contractors
from mindlinks.kyc import repository as repo
from mindlinks.kyc.models import (
    FINAL_STATUSES,
    OPEN_STATUSES,
    DocumentStatus,
    DocumentType,
    KycDocument,
    KycSession,
    SessionStatus,
    VerificationLevel,
)
from mindlinks.kyc.providers import KycProvider
from mindlinks.kyc.schemas import (
    AdminDocument,
    AdminSession,
    AdminSessionDetail,
    Document,
    DocumentDownload,
    KycStatus,
    VerificationDocument,
    VerificationResult,
)
from mindlinks.platform import audit
from mindlinks.platform.api import Page, PageParams, RowWith
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import Conflict, InvalidTransition, NotFound, PermissionDenied
from mindlinks.platform.events import emit
from mindlinks.platform.security import Actor
from mindlinks.platform.states import StateMachine
from mindlinks.platform.storage import StorageBackend, StoredFile, download_url, store_upload
from mindlinks.platform.uploads import DOCUMENT, JPEG, PNG, AsyncReadable, MiB, UploadPurpose

# Selfies and the sandbox page's ID photo must be images; other documents may also be PDFs.
KYC_IMAGE = UploadPurpose("kyc_image", 10 * MiB, frozenset({JPEG, PNG}))


class KycRequired(PermissionDenied):
    code, title = "kyc_required", "Identity verification required"


class KycSessionNotFound(NotFound):
    code = "kyc_session_not_found"


class KycDocumentNotFound(NotFound):
    code = "kyc_document_not_found"


class NoOpenSession(Conflict):
    code, title = "kyc_session_required", "Start a verification first"


class ProofOfAddressRequired(Conflict):
    code, title = "proof_of_address_required", "Enhanced verification needs a proof of address"


async def require_verified(session: AsyncSession, contractor_id: uuid.UUID) -> None:
    """Return when the contractor's identity is verified; raise `KycRequired` (403,
    `kyc_required`) otherwise, including for an unknown contractor id."""
    try:
        summary = await contractors.get_summary(session, contractor_id)
    except contractors.ContractorNotFound:
        raise KycRequired("Identity verification required") from None
    if summary.kyc_status != "verified":
        raise KycRequired("Identity verification required")


# --- the state machine ----------------------------------------------------------------------

S = SessionStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset({S.PROCESSING, S.VERIFIED, S.REJECTED, S.RESUBMISSION_REQUESTED,
                          S.EXPIRED}),
    S.PROCESSING: frozenset({S.VERIFIED, S.REJECTED, S.RESUBMISSION_REQUESTED, S.EXPIRED}),
    S.RESUBMISSION_REQUESTED: frozenset({S.PENDING, S.PROCESSING, S.VERIFIED, S.REJECTED,
                                         S.EXPIRED}),
    S.VERIFIED: frozenset(),
    S.REJECTED: frozenset(),
    S.EXPIRED: frozenset(),
}
SESSION_STATES = StateMachine(TRANSITIONS)

# Provider (Veriff) decision statuses -> session status. `review`: a human at the provider
# looks at it; the session waits in `processing`.
DECISION_STATUS = {
    "approved": S.VERIFIED,
    "declined": S.REJECTED,
    "resubmission_requested": S.RESUBMISSION_REQUESTED,
    "expired": S.EXPIRED,
    "abandoned": S.EXPIRED,
    "review": S.PROCESSING,
}


async def transition(
    session: AsyncSession, kyc: KycSession, to: str, *, actor: Actor | None, source: str,
    reason: str | None = None, result: dict[str, Any] | None = None,
) -> None:
    """Move `kyc` to `to` or raise `InvalidTransition` (409). Audits, updates the documents'
    results, the contractor's profile status, and emits `contractor.kyc.completed` on a
    final decision."""
    SESSION_STATES.check(kyc.status, to, f"A {kyc.status} verification cannot become {to}")
    previous, now = kyc.status, utcnow()
    kyc.status = to
    if to == S.PROCESSING and kyc.submitted_at is None:
        kyc.submitted_at = now
    if to in FINAL_STATUSES:
        kyc.completed_at = now
    if to in (S.REJECTED, S.RESUBMISSION_REQUESTED):
        kyc.rejection_reason = reason
    if result is not None:
        kyc.verification_result = result
    if actor is not None and to in (S.VERIFIED, S.REJECTED, S.RESUBMISSION_REQUESTED):
        kyc.decided_by = actor.user_id
    if to in (S.VERIFIED, S.REJECTED, S.RESUBMISSION_REQUESTED):
        verdict = DocumentStatus.VERIFIED if to == S.VERIFIED else DocumentStatus.REJECTED
        for doc in await repo.documents_of_session(session, kyc.id):
            if doc.status == DocumentStatus.PENDING:
                doc.status = verdict
    await session.flush()
    await audit.record(session, actor, f"kyc.session.{to}", "kyc_session", kyc.id,
                       {"from": previous, "to": to, "source": source, "reason": reason})
    if (profile_status := PROFILE_STATUS.get(str(to))) is not None:
        await record_profile_status(session, kyc, profile_status)
    if to in (S.VERIFIED, S.REJECTED):
        await emit(session, "contractor.kyc.completed", {
            "contractorId": kyc.contractor_id, "userId": kyc.user_id, "sessionId": kyc.id,
            "kycStatus": str(to), "status": "approved" if to == S.VERIFIED else "declined",
        })


# What a session's status means for the contractor profile's `kycStatus`; processing and
# resubmission leave it `pending`.
PROFILE_STATUS: dict[str, str] = {S.PENDING: "pending", S.VERIFIED: "verified",
                                  S.REJECTED: "rejected", S.EXPIRED: "not_started"}


async def record_profile_status(session: AsyncSession, kyc: KycSession, status: str) -> None:
    """The one writer of the contractor profile's `kycStatus`, ordered by session: only the
    contractor's latest session may set it, in the same transaction as the session's own
    change (so it is never reordered by event delivery). A decision about an older session -
    a late webhook, a replayed event - cannot overwrite what a newer session set."""
    latest = await repo.latest_for_contractor(session, kyc.contractor_id)
    if latest is not None and latest.id != kyc.id:
        return
    await contractors.set_kyc_status(session, kyc.contractor_id, status)


async def _has_proof_of_address(session: AsyncSession, kyc: KycSession) -> bool:
    return any(d.document_type == DocumentType.PROOF_OF_ADDRESS
               and d.status != DocumentStatus.REJECTED
               for d in await repo.documents_of_session(session, kyc.id))


async def apply_decision(
    session: AsyncSession, kyc: KycSession, decision: str, *, actor: Actor | None, source: str,
    reason: str | None = None, result: dict[str, Any] | None = None, strict: bool,
) -> bool:
    """Apply a provider's or an admin's decision (`approved | declined |
    resubmission_requested | expired | abandoned | review`). Returns whether anything changed.

    A decision on a final session never changes it: `strict` (manual decisions) raises
    `InvalidTransition`, otherwise (provider webhooks, possibly late or out of order) it is
    ignored. An enhanced session is approved only with a proof of address on file: an admin
    gets `409 proof_of_address_required`, a provider approval leaves it in `processing`."""
    to = DECISION_STATUS[decision]
    if kyc.status in FINAL_STATUSES:
        if strict:
            raise InvalidTransition(f"The verification is already {kyc.status}")
        return False
    if to == S.VERIFIED and kyc.verification_level == VerificationLevel.ENHANCED \
            and not await _has_proof_of_address(session, kyc):
        if strict:
            raise ProofOfAddressRequired("Upload and accept a proof of address first")
        to, reason = S.PROCESSING, "proof of address required"
    if to == kyc.status:
        return False
    result = {**(result or {"status": decision}), "source": source}
    await transition(session, kyc, to, actor=actor, source=source, reason=reason, result=result)
    return True


# --- contractor -----------------------------------------------------------------------------


async def start(
    session: AsyncSession, actor: Actor, provider: KycProvider, *, level: str,
    expiry_days: int, callback_url: str,
) -> KycSession:
    """Open a verification session at the provider, or return the open one. 409 once verified."""
    profile = await contractors.own_profile(session, actor, for_update=True)
    latest = await repo.latest_for_contractor(session, profile.id, for_update=True)
    if latest is not None and latest.status in OPEN_STATUSES:
        if latest.expires_at > utcnow():
            return latest
        await transition(session, latest, S.EXPIRED, actor=None, source="start",
                         reason="expired before a decision")
    if (latest is not None and latest.status == S.VERIFIED) or profile.kyc_status == "verified":
        raise InvalidTransition("Identity is already verified")
    kyc = KycSession(id=uuid.uuid4(), contractor_id=profile.id, user_id=actor.user_id,
                     provider=provider.name, status=S.PENDING, verification_level=level,
                     expires_at=utcnow() + timedelta(days=expiry_days))
    started = await provider.create_session(session_id=kyc.id, first_name=profile.first_name,
                                            last_name=profile.last_name,
                                            callback_url=callback_url)
    kyc.provider_session_id, kyc.session_url = started.provider_session_id, started.url
    session.add(kyc)
    await session.flush()
    await audit.record(session, actor, "kyc.session.pending", "kyc_session", kyc.id,
                       {"from": "not_started", "to": "pending", "provider": provider.name,
                        "level": level})
    await record_profile_status(session, kyc, "pending")
    return kyc


async def status_of(session: AsyncSession, actor: Actor) -> KycStatus:
    profile = await contractors.own_profile(session, actor)
    kyc = await repo.latest_for_contractor(session, profile.id)
    if kyc is None:
        return KycStatus(status="not_started", session_id=None, verification_result=None,
                         rejection_reason=None)
    summary: dict[str, Literal["verified", "rejected", "not_started"]] = {
        S.VERIFIED: "verified", S.REJECTED: "rejected", S.EXPIRED: "not_started"}
    result = None
    if kyc.verification_result is not None:
        docs = await repo.documents_of_session(session, kyc.id)
        result = VerificationResult(
            status=str(kyc.verification_result.get("status") or kyc.status),
            verified_at=kyc.completed_at if kyc.status == S.VERIFIED else None,
            documents=[VerificationDocument(type=d.document_type, status=d.status)
                       for d in docs])
    return KycStatus(status=summary.get(kyc.status, "pending"),
                     session_id=kyc.id, verification_result=result,
                     rejection_reason=kyc.rejection_reason
                     if kyc.status in (S.REJECTED, S.RESUBMISSION_REQUESTED) else None)


def document_out(doc: KycDocument) -> Document:
    return Document(id=doc.id, type=doc.document_type, status=doc.status,
                    uploaded_at=doc.created_at)


async def record_document(
    session: AsyncSession, kyc: KycSession, document_type: str, stored: StoredFile, *,
    actor: Actor | None, expiry_date: date | None = None,
) -> KycDocument:
    """Attach a stored file to an open session; new documents reopen a session that asked for
    resubmission (`resubmission_requested -> pending`)."""
    if kyc.status not in OPEN_STATUSES:
        raise NoOpenSession("The verification is not open for documents")
    doc = KycDocument(id=uuid.uuid4(), contractor_id=kyc.contractor_id, session_id=kyc.id,
                      document_type=document_type, s3_key=stored.key, sha256=stored.sha256,
                      size=stored.size, mime=stored.mime, original_name=stored.original_name,
                      status=DocumentStatus.PENDING, expiry_date=expiry_date)
    session.add(doc)
    await session.flush()
    await audit.record(session, actor, "kyc.document.uploaded", "kyc_document", doc.id,
                       {"sessionId": str(kyc.id), "type": document_type,
                        "sha256": stored.sha256})
    if kyc.status == S.RESUBMISSION_REQUESTED:
        await transition(session, kyc, S.PENDING, actor=actor, source="documents")
    return doc


def purpose_for(document_type: str) -> UploadPurpose:
    return KYC_IMAGE if document_type == DocumentType.SELFIE else DOCUMENT


async def upload_document(
    session: AsyncSession, actor: Actor, storage: StorageBackend, source: AsyncReadable, *,
    filename: str | None, document_type: str,
) -> KycDocument:
    """Validate and store the file (platform uploads), attach it to the open session.
    409 `kyc_session_required` without one."""
    profile = await contractors.own_profile(session, actor, for_update=True)
    kyc = await repo.latest_for_contractor(session, profile.id, for_update=True)
    if kyc is None or kyc.status not in OPEN_STATUSES:
        raise NoOpenSession("Start a verification before uploading documents")
    stored = await store_upload(storage, source, purpose=purpose_for(document_type),
                                key_prefix=("kyc", profile.id, document_type),
                                filename=filename, session=session)
    return await record_document(session, kyc, document_type, stored, actor=actor)


async def own_document(session: AsyncSession, actor: Actor, storage: StorageBackend,
                       doc_id: uuid.UUID) -> DocumentDownload:
    """One of the actor's documents with a signed download link; anyone else's is 404."""
    profile = await contractors.own_profile(session, actor)
    doc = await repo.document_for_contractor(session, profile.id, doc_id)
    if doc is None:
        raise KycDocumentNotFound("No such document")
    url, expires = (None, None) if doc.file_deleted_at is not None else await download_url(
        storage, doc.s3_key, filename=doc.original_name)
    return DocumentDownload(**document_out(doc).model_dump(), download_url=url,
                            expires_at=expires)


async def list_documents(session: AsyncSession, actor: Actor) -> list[Document]:
    profile = await contractors.own_profile(session, actor)
    return [document_out(d) for d in await repo.documents_for_contractor(session, profile.id)]


# --- admin review ---------------------------------------------------------------------------


def session_out(kyc: KycSession) -> AdminSession:
    return AdminSession.model_validate(RowWith(
        kyc,
        veriff_session_id=kyc.provider_session_id,
    ))


async def admin_document_out(storage: StorageBackend, doc: KycDocument) -> AdminDocument:
    out = AdminDocument(
        id=doc.id, type=doc.document_type, status=doc.status, uploaded_at=doc.created_at,
        session_id=doc.session_id, contractor_id=doc.contractor_id, sha256=doc.sha256,
        size=doc.size, mime=doc.mime, original_name=doc.original_name,
        expiry_date=doc.expiry_date, reviewed_by=doc.reviewed_by, reviewed_at=doc.reviewed_at,
        rejection_reason=doc.rejection_reason, file_deleted_at=doc.file_deleted_at)
    if doc.file_deleted_at is None:
        out.download_url, out.expires_at = await download_url(storage, doc.s3_key,
                                                              filename=doc.original_name)
    return out


async def list_sessions(session: AsyncSession, status: str | None, params: PageParams
                        ) -> Page[AdminSession]:
    rows, total = await repo.list_sessions(session, status, offset=params.offset,
                                           limit=params.limit)
    return Page[AdminSession].build([session_out(r) for r in rows], total, params)


async def session_detail(session: AsyncSession, storage: StorageBackend, kyc_id: uuid.UUID
                         ) -> AdminSessionDetail:
    kyc = await repo.session_by_id(session, kyc_id)
    if kyc is None:
        raise KycSessionNotFound("No such verification session")
    docs = [await admin_document_out(storage, d)
            for d in await repo.documents_of_session(session, kyc.id)]
    return AdminSessionDetail(**session_out(kyc).model_dump(), documents=docs)


async def admin_decide(session: AsyncSession, actor: Actor, kyc_id: uuid.UUID, decision: str,
                       reason: str | None) -> KycSession:
    """A manual decision, through the same transition code as the providers'; 409 on a
    final session."""
    kyc = await repo.session_by_id(session, kyc_id, for_update=True)
    if kyc is None:
        raise KycSessionNotFound("No such verification session")
    await apply_decision(session, kyc, decision, actor=actor, source="admin", reason=reason,
                         result={"status": decision, "reason": reason,
                                 "decisionTime": utcnow().isoformat()}, strict=True)
    return kyc


async def review_document(session: AsyncSession, actor: Actor, doc_id: uuid.UUID, status: str,
                          reason: str | None) -> KycDocument:
    """Accept or reject one pending document (`reviewedBy`); 409 unless it is pending."""
    doc = await repo.document_by_id(session, doc_id, for_update=True)
    if doc is None:
        raise KycDocumentNotFound("No such document")
    if doc.status != DocumentStatus.PENDING:
        raise InvalidTransition(f"The document is already {doc.status}")
    doc.status, doc.reviewed_by, doc.reviewed_at = status, actor.user_id, utcnow()
    doc.rejection_reason = reason if status == DocumentStatus.REJECTED else None
    await session.flush()
    await audit.record(session, actor, f"kyc.document.{status}", "kyc_document", doc.id,
                       {"reason": reason})
    return doc


async def session_counts(session: AsyncSession) -> dict[str, int]:
    """Verification sessions per status (the admin home's queue), one grouped query."""
    from sqlalchemy import func, select

    rows = await session.execute(select(KycSession.status, func.count())
                                 .group_by(KycSession.status))
    return {str(s): int(n) for s, n in rows}
