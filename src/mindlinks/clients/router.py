"""`/api/clients/...` (client users), `/api/invitations/{token}` (public, the link's holder) and
the admin reviews of companies and their documents: parse, call one service function,
answer a schema."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, File, Form, Path, Query, Request, Response, UploadFile, status

from mindlinks.clients import documents, invitations, service
from mindlinks.clients.models import VerificationStatus
from mindlinks.clients.providers import BusinessRegistry, get_registry
from mindlinks.clients.schemas import (
    AcceptInvitation,
    ClientContractor,
    Company,
    CompanyCreate,
    CompanyUpdate,
    Document,
    DocumentType,
    Invitation,
    InvitationAccepted,
    InvitationCreate,
    LogoUploaded,
    PublicInvitation,
    ReviewRequest,
)
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router
from mindlinks.platform.runtime import RuntimeDep
from mindlinks.platform.security import AdminUser, CurrentClient, OptionalUser
from mindlinks.platform.storage import StorageBackend, get_storage

TAG = "Client Service"

clients = domain_router(prefix="/api/clients", tags=[TAG])
public = domain_router(prefix="/api/invitations", tags=[TAG])
admin = domain_router(prefix="/api/admin", tags=[TAG])


async def _storage(request: Request) -> StorageBackend:
    return get_storage(request.app.state)


async def _registry(request: Request) -> BusinessRegistry:
    return get_registry(request.app.state)


StorageDep = Annotated[StorageBackend, Depends(_storage)]
RegistryDep = Annotated[BusinessRegistry, Depends(_registry)]

# The signed-in user if a bearer token is sent (and valid), else None.
OptionalActor = OptionalUser
TokenPath = Annotated[str, Path(min_length=16, max_length=128)]


# --- the client's company -------------------------------------------------------------------


@clients.post("/companies", response_model=Company, status_code=status.HTTP_201_CREATED)
async def register_company(
    body: CompanyCreate, actor: CurrentClient, session: SessionDep, storage: StorageDep,
    registry: RegistryDep,
) -> Company:
    company = await service.register_company(session, actor, registry, body)
    return await service.company_out(session, storage, company)


@clients.get("/me", response_model=Company)
async def get_company(actor: CurrentClient, session: SessionDep, storage: StorageDep) -> Company:
    return await service.company_out(session, storage, await service.own_company(session, actor))


@clients.put("/me", response_model=Company)
async def update_company(
    body: CompanyUpdate, actor: CurrentClient, session: SessionDep, storage: StorageDep,
    registry: RegistryDep,
) -> Company:
    company = await service.update_company(session, actor, registry, body)
    return await service.company_out(session, storage, company)


@clients.post("/me/logo", response_model=LogoUploaded)
async def upload_logo(
    actor: CurrentClient, session: SessionDep, storage: StorageDep,
    file: Annotated[UploadFile, File()],
) -> LogoUploaded:
    return await service.set_logo(session, actor, storage, file, file.filename)


# --- documents ------------------------------------------------------------------------------


@clients.post("/me/documents", response_model=Document, status_code=status.HTTP_201_CREATED)
async def upload_document(
    actor: CurrentClient, session: SessionDep, storage: StorageDep,
    type: Annotated[DocumentType, Form()], file: Annotated[UploadFile, File()],
) -> Document:
    document = await documents.upload_document(session, actor, storage, type_=type, source=file,
                                             filename=file.filename)
    return await documents.document_out(storage, document)


@clients.get("/me/documents", response_model=Page[Document])
async def list_documents(
    actor: CurrentClient, session: SessionDep, storage: StorageDep, page: PageDep
) -> Page[Document]:
    rows, total = await documents.own_documents(session, actor, offset=page.offset,
                                              limit=page.limit)
    return Page[Document].build([await documents.document_out(storage, d) for d in rows],
                                total, page)


@clients.get("/me/documents/{document_id}", response_model=Document)
async def get_document(
    document_id: uuid.UUID, actor: CurrentClient, session: SessionDep, storage: StorageDep
) -> Document:
    return await documents.document_out(
        storage, await documents.get_document(session, actor, document_id)
    )


# --- invitations ----------------------------------------------------------------------------


@clients.post("/me/invitations", response_model=Invitation,
              status_code=status.HTTP_201_CREATED)
async def invite(
    body: InvitationCreate, actor: CurrentClient, session: SessionDep, rt: RuntimeDep
) -> Invitation:
    return invitations.invitation_out(await invitations.invite(session, actor, rt, body))


@clients.get("/me/invitations", response_model=Page[Invitation])
async def list_invitations(
    actor: CurrentClient, session: SessionDep, page: PageDep
) -> Page[Invitation]:
    rows, total = await invitations.own_invitations(session, actor, offset=page.offset,
                                                    limit=page.limit)
    return Page[Invitation].build([invitations.invitation_out(i) for i in rows], total, page)


@clients.post("/me/invitations/{invitation_id}/resend", response_model=Invitation)
async def resend_invitation(
    invitation_id: uuid.UUID, actor: CurrentClient, session: SessionDep, rt: RuntimeDep
) -> Invitation:
    return invitations.invitation_out(
        await invitations.resend(session, actor, rt, invitation_id)
    )


@clients.post("/me/invitations/{invitation_id}/revoke", response_model=Invitation)
async def revoke_invitation(
    invitation_id: uuid.UUID, actor: CurrentClient, session: SessionDep
) -> Invitation:
    return invitations.invitation_out(await invitations.revoke(session, actor, invitation_id))


# --- the client's contractors ---------------------------------------------------------------


@clients.get("/me/contractors", response_model=Page[ClientContractor])
async def list_contractors(
    actor: CurrentClient, session: SessionDep, page: PageDep
) -> Page[ClientContractor]:
    rows, total = await service.own_contractors(session, actor, offset=page.offset,
                                                limit=page.limit)
    return Page[ClientContractor].build(rows, total, page)


@clients.get("/me/contractors/{contractor_id}", response_model=ClientContractor)
async def get_contractor(
    contractor_id: uuid.UUID, actor: CurrentClient, session: SessionDep
) -> ClientContractor:
    return await service.own_contractor(session, actor, contractor_id)


# --- public invitation links ----------------------------------------------------------------


@public.get("/{token}", response_model=PublicInvitation)
async def view_invitation(
    token: TokenPath, session: SessionDep, rt: RuntimeDep, storage: StorageDep,
) -> PublicInvitation:
    return await invitations.view(session, rt, storage, token)


@public.post("/{token}/accept", response_model=InvitationAccepted)
async def accept_invitation(
    token: TokenPath, session: SessionDep, rt: RuntimeDep, actor: OptionalActor,
    response: Response,
    body: AcceptInvitation | None = None,
) -> Any:
    result, created = await invitations.accept(session, rt, token, actor, body)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return result


# --- administrators -------------------------------------------------------------------------


@admin.get("/companies", response_model=Page[Company])
async def admin_list_companies(
    actor: AdminUser, session: SessionDep, storage: StorageDep, page: PageDep,
    verification_status: Annotated[
        VerificationStatus | None, Query(alias="verificationStatus")
    ] = None,
) -> Page[Company]:
    rows, total = await service.admin_companies(
        session, actor, status=verification_status, offset=page.offset, limit=page.limit
    )
    return Page[Company].build([await service.company_out(session, storage, c) for c in rows],
                               total, page)


@admin.get("/companies/{company_id}", response_model=Company)
async def admin_get_company(
    company_id: uuid.UUID, actor: AdminUser, session: SessionDep, storage: StorageDep
) -> Company:
    return await service.company_out(
        session, storage, await service.admin_company(session, actor, company_id)
    )


@admin.post("/companies/{company_id}/review", response_model=Company)
async def review_company(
    company_id: uuid.UUID, body: ReviewRequest, actor: AdminUser, session: SessionDep,
    storage: StorageDep,
) -> Company:
    company = await service.review_company(session, actor, company_id, body)
    return await service.company_out(session, storage, company)


@admin.get("/companies/{company_id}/documents", response_model=Page[Document])
async def admin_company_documents(
    company_id: uuid.UUID, actor: AdminUser, session: SessionDep, storage: StorageDep,
    page: PageDep,
) -> Page[Document]:
    rows, total = await documents.company_documents(session, actor, company_id,
                                                  offset=page.offset, limit=page.limit)
    return Page[Document].build([await documents.document_out(storage, d) for d in rows],
                                total, page)


@admin.post("/client-documents/{document_id}/review", response_model=Document)
async def review_document(
    document_id: uuid.UUID, body: ReviewRequest, actor: AdminUser, session: SessionDep,
    storage: StorageDep,
) -> Document:
    document = await documents.review_document(session, actor, document_id, body)
    return await documents.document_out(storage, document)


routers = [clients, public, admin]
