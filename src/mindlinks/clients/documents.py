"""Company documents (seed CLIENT_DOCUMENTS): uploaded by the client (PDF/JPEG/PNG, validated
by content through platform/storage), served only through expiring signed URLs, reviewed by an
administrator (`reviewedBy`). Status `pending -> approved | rejected`; anything else is 409
`invalid_transition`. Another company's document is 404."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import repository as repo
from mindlinks.clients.models import ClientDocument, DocumentStatus
from mindlinks.clients.schemas import Document, ReviewRequest
from mindlinks.clients.service import ReasonRequired, admin_company, own_company
from mindlinks.platform import audit
from mindlinks.platform.api import RowWith
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import ForbiddenRole, NotFound
from mindlinks.platform.events import emit
from mindlinks.platform.security import Actor
from mindlinks.platform.states import StateMachine
from mindlinks.platform.storage import StorageBackend, download_url, store_upload
from mindlinks.platform.uploads import DOCUMENT, AsyncReadable


class DocumentNotFound(NotFound):
    code, title = "document_not_found", "Document not found"


DOCUMENT_STATES = StateMachine({
    DocumentStatus.PENDING: {DocumentStatus.APPROVED, DocumentStatus.REJECTED},
})


async def document_out(storage: StorageBackend, document: ClientDocument) -> Document:
    url, expires_at = await download_url(storage, document.s3_key, filename=document.name)
    return Document.model_validate(RowWith(
        document,
        mime_type=document.mime,
        download_url=url,
        expires_at=expires_at,
    ))


async def upload_document(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, type_: str,
    source: AsyncReadable, filename: str | None,
) -> ClientDocument:
    """Store a company document (PDF/JPEG/PNG, validated by content) for an admin's review."""
    company = await own_company(session, actor)
    stored = await store_upload(storage, source, purpose=DOCUMENT,
                                key_prefix=("clients", company.id, "documents"),
                                filename=filename, session=session)
    document = ClientDocument(
        id=uuid.uuid4(), client_id=company.id, type=type_, name=stored.original_name,
        s3_key=stored.key, mime=stored.mime, size=stored.size, sha256=stored.sha256,
        status=DocumentStatus.PENDING,
    )
    session.add(document)
    await session.flush()
    await audit.record(session, actor, "client.document.uploaded", "client_document",
                       document.id, {"type": type_, "sha256": stored.sha256})
    await emit(session, "client.document.uploaded",
               {"clientId": company.id, "documentId": document.id, "type": type_})
    return document


async def own_documents(
    session: AsyncSession, actor: Actor, *, offset: int, limit: int
) -> tuple[list[ClientDocument], int]:
    company = await own_company(session, actor)
    return await repo.document_page(session, actor, company.id, offset=offset, limit=limit)


async def get_document(
    session: AsyncSession, actor: Actor, document_id: uuid.UUID
) -> ClientDocument:
    """A document of the actor's company (or any, for an admin); otherwise 404."""
    document = await repo.readable_document(session, actor, document_id)
    if document is None:
        raise DocumentNotFound()
    return document


async def company_documents(
    session: AsyncSession, actor: Actor, company_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[list[ClientDocument], int]:
    company = await admin_company(session, actor, company_id)
    return await repo.document_page(session, actor, company.id, offset=offset, limit=limit)


async def review_document(
    session: AsyncSession, actor: Actor, document_id: uuid.UUID, data: ReviewRequest
) -> ClientDocument:
    """An administrator approves or rejects a pending document; `reviewedBy` records who."""
    if not actor.is_admin:
        raise ForbiddenRole("Administrators only")
    document = await repo.readable_document(session, actor, document_id)
    if document is None:
        raise DocumentNotFound()
    target = DocumentStatus.APPROVED if data.decision == "approve" else DocumentStatus.REJECTED
    DOCUMENT_STATES.check(document.status, target,
                          f"A {document.status} document cannot be {target}")
    if target == DocumentStatus.REJECTED and not (data.reason or "").strip():
        raise ReasonRequired("A rejection needs a reason")
    document.status = target
    document.review_reason = (data.reason or "").strip() or None
    document.reviewed_by = actor.user_id
    document.reviewed_at = utcnow()
    await session.flush()
    await audit.record(session, actor, f"client.document.{target}", "client_document",
                       document.id, {"decision": data.decision})
    await emit(session, "client.document.reviewed",
               {"clientId": document.client_id, "documentId": document.id,
                "status": str(target)})
    return document
