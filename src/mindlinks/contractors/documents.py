"""Every stored document of a contractor, listed with signed download URLs (seed 000 P2).
Other domains (contracts, invoices) add theirs with `service.record_document`."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import repository as repo
from mindlinks.contractors.models import ContractorDocument
from mindlinks.contractors.schemas import Document
from mindlinks.platform.api import RowWith
from mindlinks.platform.storage import StorageBackend, StoredFile, download_url
from mindlinks.platform.uploads import EXTENSIONS


def display_name(original: str, mime: str) -> str:
    """The sanitised upload name with the extension of what the file really is: a PDF
    uploaded as `scan.png` is offered for download as `scan.pdf`."""
    extension = EXTENSIONS.get(mime, "")
    stem, dot, ext = original.rpartition(".")
    if not dot:
        stem = original
    elif f".{ext.lower()}" == extension or (extension == ".jpg" and ext.lower() == "jpeg"):
        return original
    return f"{stem}{extension}"


async def record(
    session: AsyncSession, contractor_id: uuid.UUID, *, type_: str, stored: StoredFile,
    entity_id: uuid.UUID | None = None,
) -> ContractorDocument:
    doc = ContractorDocument(
        id=uuid.uuid4(), contractor_id=contractor_id, type=type_, storage_key=stored.key,
        original_name=display_name(stored.original_name, stored.mime), mime_type=stored.mime,
        size=stored.size, sha256=stored.sha256, entity_id=entity_id,
    )
    session.add(doc)
    await session.flush()
    return doc


async def document_out(storage: StorageBackend, doc: ContractorDocument, *,
                       replaced: bool = False) -> Document:
    url, expires = await download_url(storage, doc.storage_key, filename=doc.original_name)
    return Document.model_validate(RowWith(
        doc,
        name=doc.original_name,
        download_url=url,
        expires_at=expires,
        replaced=replaced,
    ))


async def page(
    session: AsyncSession, storage: StorageBackend, contractor_id: uuid.UUID, *,
    offset: int, limit: int, type_: str | None = None,
) -> tuple[list[Document], int]:
    rows, total = await repo.documents_page(session, contractor_id, offset=offset, limit=limit,
                                            type_=type_)
    return [await document_out(storage, d, replaced=r) for d, r in rows], total
