"""The document a licence or insurance policy carries: the scan of the licence, the
certificate of insurance. One upload path for all of a contractor's files: `store_upload`
with the `DOCUMENT` rules (PDF/JPEG/PNG by content, 10 MiB, PDFs checked for active content,
images re-encoded on the CPU pool), recorded as a `contractor_documents` row (so it is also in
the contractor's documents list) and pointed at by the credential's `document_id`.

A new document is a change of what the credential says: like an edit of its fields, it sends a
reviewed item back to review (licence `unverified`, policy `pending`). The previous document
stays in the contractor's documents list (what was reviewed before), marked `replaced` there
(`repository.documents_page`: the credential points at the newest one).

Reads are signed, expiring links: the owner's through the owner check (another contractor's
id is 404), an administrator's through `review.credential_document`.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import documents
from mindlinks.contractors.credentials import (
    LICENSE_STATES,
    POLICY_STATES,
    own_license,
    own_policy,
)
from mindlinks.contractors.models import ContractorDocument, InsurancePolicy, License
from mindlinks.contractors.repository import LICENSE_DOCUMENT, POLICY_DOCUMENT
from mindlinks.contractors.schemas import Document
from mindlinks.platform import audit
from mindlinks.platform.errors import NotFound
from mindlinks.platform.security import Actor
from mindlinks.platform.storage import StorageBackend, store_upload
from mindlinks.platform.uploads import DOCUMENT, AsyncReadable


class CredentialDocumentNotFound(NotFound):
    code, title = "document_not_found", "Document not found"


async def _store(session: AsyncSession, storage: StorageBackend, contractor_id: uuid.UUID,
                 folder: str, type_: str, entity_id: uuid.UUID, upload: AsyncReadable,
                 filename: str | None) -> ContractorDocument:
    stored = await store_upload(storage, upload, purpose=DOCUMENT,
                                key_prefix=("contractors", contractor_id, folder),
                                filename=filename, session=session)
    return await documents.record(session, contractor_id, type_=type_, stored=stored,
                                  entity_id=entity_id)


async def attach_license_document(
    session: AsyncSession, actor: Actor, storage: StorageBackend, license_id: uuid.UUID,
    upload: AsyncReadable, filename: str | None,
) -> License:
    """Store `upload` as the licence's document (the owner's licence only: 404 otherwise,
    before a byte is read); the licence goes back to `unverified`."""
    row = await own_license(session, actor, license_id)
    doc = await _store(session, storage, row.contractor_id, "licenses", LICENSE_DOCUMENT,
                       row.id, upload, filename)
    row.document_id = doc.id
    row.status, row.verified_at = LICENSE_STATES.after(row.status, "edit"), None
    await session.flush()
    await audit.record(session, actor, "contractor.license.document_added",
                       "contractor_license", row.id,
                       {"documentId": str(doc.id), "sha256": doc.sha256})
    return row


async def attach_policy_document(
    session: AsyncSession, actor: Actor, storage: StorageBackend, policy_id: uuid.UUID,
    upload: AsyncReadable, filename: str | None,
) -> InsurancePolicy:
    """Store `upload` as the policy's certificate; the policy goes back to `pending`."""
    row = await own_policy(session, actor, policy_id)
    doc = await _store(session, storage, row.contractor_id, "insurance", POLICY_DOCUMENT,
                       row.id, upload, filename)
    row.document_id = doc.id
    row.verification_status = POLICY_STATES.after(row.verification_status, "edit")
    row.last_checked_at = None
    await session.flush()
    await audit.record(session, actor, "contractor.insurance.document_added",
                       "contractor_insurance_policy", row.id,
                       {"documentId": str(doc.id), "sha256": doc.sha256})
    return row


async def document_link(session: AsyncSession, storage: StorageBackend,
                        document_id: uuid.UUID | None) -> Document:
    """The signed, expiring link of a credential's document. The caller has done the access
    check on the credential (owner, or administrator)."""
    doc = await session.get(ContractorDocument, document_id) if document_id else None
    if doc is None:
        raise CredentialDocumentNotFound("No document is attached")
    return await documents.document_out(storage, doc)


async def license_document(session: AsyncSession, actor: Actor, storage: StorageBackend,
                           license_id: uuid.UUID) -> Document:
    row = await own_license(session, actor, license_id)
    return await document_link(session, storage, row.document_id)


async def policy_document(session: AsyncSession, actor: Actor, storage: StorageBackend,
                          policy_id: uuid.UUID) -> Document:
    row = await own_policy(session, actor, policy_id)
    return await document_link(session, storage, row.document_id)
