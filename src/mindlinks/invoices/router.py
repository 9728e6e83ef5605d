"""Payment Service invoice routes (seed 000): the contractor's and the client's invoices
(read only: invoices are generated, never typed), and the administrator's cancellation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request

from mindlinks.invoices import service
from mindlinks.invoices.schemas import (
    ClientInvoiceOut,
    InvoiceCancel,
    InvoiceDetail,
    InvoiceOut,
    StatusFilter,
)
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router
from mindlinks.platform.security import AdminUser, CurrentClient, CurrentContractor
from mindlinks.platform.storage import DownloadLinkOut, StorageBackend, get_storage

router = domain_router(tags=["Payment Service"])
routers = [router]


async def _storage(request: Request) -> StorageBackend:
    return get_storage(request.app.state)


StorageDep = Annotated[StorageBackend, Depends(_storage)]
StatusQuery = Annotated[StatusFilter, Query(description="`pending`: sent and not yet due")]

CONTRACTOR = "/api/payments/contractor/me/invoices"
CLIENT = "/api/payments/client/me/invoices"


@router.get(CONTRACTOR, response_model=Page[InvoiceOut])
async def contractor_invoices(
    session: SessionDep, actor: CurrentContractor, storage: StorageDep, page: PageDep,
    status: StatusQuery = "all",
) -> Page[InvoiceOut]:
    return await service.list_invoices(session, actor, storage, status=status, page=page)


@router.get(CONTRACTOR + "/{invoice_id}", response_model=InvoiceDetail)
async def contractor_invoice(
    session: SessionDep, actor: CurrentContractor, storage: StorageDep, invoice_id: uuid.UUID,
) -> InvoiceDetail:
    return await service.invoice_detail(session, actor, storage, invoice_id)


@router.get(CONTRACTOR + "/{invoice_id}/download", response_model=DownloadLinkOut)
async def contractor_invoice_download(
    session: SessionDep, actor: CurrentContractor, storage: StorageDep, invoice_id: uuid.UUID,
) -> DownloadLinkOut:
    return await service.download(session, actor, storage, invoice_id)


@router.get(CLIENT, response_model=Page[ClientInvoiceOut])
async def client_invoices(
    session: SessionDep, actor: CurrentClient, storage: StorageDep, page: PageDep,
    status: StatusQuery = "all",
) -> Page[ClientInvoiceOut]:
    """The seed rows plus `fundingStatus` (whether the escrow holds the money)."""
    return await service.list_client_invoices(session, actor, storage, status=status, page=page)


@router.get(CLIENT + "/{invoice_id}", response_model=InvoiceDetail)
async def client_invoice(
    session: SessionDep, actor: CurrentClient, storage: StorageDep, invoice_id: uuid.UUID,
) -> InvoiceDetail:
    return await service.invoice_detail(session, actor, storage, invoice_id)


@router.get(CLIENT + "/{invoice_id}/download", response_model=DownloadLinkOut)
async def client_invoice_download(
    session: SessionDep, actor: CurrentClient, storage: StorageDep, invoice_id: uuid.UUID,
) -> DownloadLinkOut:
    return await service.download(session, actor, storage, invoice_id)


@router.post("/api/payments/invoices/{invoice_id}/cancel", response_model=InvoiceDetail)
async def cancel_invoice(
    session: SessionDep, actor: AdminUser, storage: StorageDep, invoice_id: uuid.UUID,
    body: InvoiceCancel,
) -> InvoiceDetail:
    """Cancel a wrong invoice with a reason (it keeps its number); `reissue` issues the
    corrected replacement at once (its `replacesId` is this invoice)."""
    invoice, _replacement = await service.cancel(session, actor, invoice_id, body)
    return await service.invoice_detail(session, actor, storage, invoice.id)
