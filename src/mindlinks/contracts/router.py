"""Contract Service routes (seed 000): templates, lifecycle, signing, documents, milestones."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response

from mindlinks.contracts import milestones, service, signing, templates, views
from mindlinks.contracts.schemas import (
    CancelRequest,
    Contract,
    ContractCreate,
    ContractListItem,
    ContractUpdate,
    Milestone,
    MilestoneReject,
    MilestoneSubmit,
    SignRequest,
    SignResponse,
    Template,
    TemplateCreate,
    TemplateUpdate,
    TerminateRequest,
    VerifyReport,
)
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router
from mindlinks.platform.runtime import RuntimeDep
from mindlinks.platform.security import AdminUser, CurrentClient, CurrentContractor, CurrentUser
from mindlinks.platform.storage import DownloadLinkOut, StorageBackend, get_storage

router = domain_router(tags=["Contract Service"])
routers = [router]

StatusFilter = Literal["draft", "pending", "client_signed", "contractor_signed", "active",
                       "completed", "terminated", "cancelled"]


async def _storage(request: Request) -> StorageBackend:
    return get_storage(request.app.state)


StorageDep = Annotated[StorageBackend, Depends(_storage)]


# --- templates ----------------------------------------------------------------------------


@router.get("/api/contract-templates", response_model=Page[Template])
async def list_templates(
    session: SessionDep, actor: CurrentClient, page: PageDep,
    type: Annotated[Literal["fixed", "hourly", "milestone"] | None, Query()] = None,
    model: Annotated[Literal["direct", "eor"] | None, Query()] = None,
) -> Page[Template]:
    rows, total = await templates.list_templates(session, type_=type, model=model,
                                                 offset=page.offset, limit=page.limit)
    return Page[Template].build([Template.model_validate(r) for r in rows], total, page)


@router.get("/api/admin/contract-templates", response_model=Page[Template])
async def admin_list_templates(
    session: SessionDep, actor: AdminUser, page: PageDep,
    type: Annotated[Literal["fixed", "hourly", "milestone"] | None, Query()] = None,
    model: Annotated[Literal["direct", "eor"] | None, Query()] = None,
) -> Page[Template]:
    rows, total = await templates.list_templates(session, type_=type, model=model,
                                                 offset=page.offset, limit=page.limit)
    return Page[Template].build([Template.model_validate(r) for r in rows], total, page)


@router.post("/api/admin/contract-templates", response_model=Template, status_code=201)
async def create_template(session: SessionDep, actor: AdminUser, body: TemplateCreate) -> Template:
    return Template.model_validate(await templates.create_template(session, actor, body))


@router.get("/api/admin/contract-templates/{template_id}", response_model=Template)
async def get_template(session: SessionDep, actor: AdminUser, template_id: uuid.UUID) -> Template:
    return Template.model_validate(await templates.get_template(session, template_id))


@router.put("/api/admin/contract-templates/{template_id}", response_model=Template)
async def update_template(
    session: SessionDep, actor: AdminUser, template_id: uuid.UUID, body: TemplateUpdate
) -> Template:
    return Template.model_validate(
        await templates.update_template(session, actor, template_id, body))


@router.delete("/api/admin/contract-templates/{template_id}", status_code=204)
async def delete_template(session: SessionDep, actor: AdminUser, template_id: uuid.UUID
                          ) -> Response:
    await templates.delete_template(session, actor, template_id)
    return Response(status_code=204)


# --- contracts ----------------------------------------------------------------------------


@router.post("/api/contracts", response_model=Contract, status_code=201)
async def create_contract(
    session: SessionDep, actor: CurrentClient, storage: StorageDep, body: ContractCreate
) -> Contract:
    contract = await service.create_contract(session, actor, body)
    return await views.contract_out(session, storage, contract)


@router.get("/api/contracts/client/me", response_model=Page[ContractListItem])
async def client_contracts(
    request: Request, actor: CurrentClient, storage: StorageDep, page: PageDep,
    status: Annotated[StatusFilter | None, Query()] = None,
) -> Response:
    # A read of the actor's own rows: one statement, no session, no transaction, served as
    # read (see views.contract_list_response).
    return await views.contract_list_response(request.app.state.db, actor, storage,
                                              status=status, params=page)


@router.get("/api/contracts/contractor/me", response_model=Page[ContractListItem])
async def contractor_contracts(
    request: Request, actor: CurrentContractor, storage: StorageDep, page: PageDep,
    status: Annotated[StatusFilter | None, Query()] = None,
) -> Response:
    return await views.contract_list_response(request.app.state.db, actor, storage,
                                              status=status, params=page)


@router.get("/api/contracts/{contract_id}", response_model=Contract)
async def get_contract(
    session: SessionDep, actor: CurrentUser, storage: StorageDep, contract_id: uuid.UUID
) -> Contract:
    contract = await service.get_for(session, actor, contract_id)
    return await views.contract_out(session, storage, contract)


@router.put("/api/contracts/{contract_id}", response_model=Contract)
async def update_contract(
    session: SessionDep, actor: CurrentClient, storage: StorageDep, contract_id: uuid.UUID,
    body: ContractUpdate,
) -> Contract:
    contract = await service.update_contract(session, actor, contract_id, body)
    return await views.contract_out(session, storage, contract)


@router.post("/api/contracts/{contract_id}/send", response_model=Contract)
async def send_contract(
    session: SessionDep, actor: CurrentClient, storage: StorageDep, contract_id: uuid.UUID
) -> Contract:
    contract = await service.send_contract(session, actor, storage, contract_id)
    return await views.contract_out(session, storage, contract)


@router.post("/api/contracts/{contract_id}/cancel", response_model=Contract)
async def cancel_contract(
    session: SessionDep, actor: CurrentUser, storage: StorageDep, contract_id: uuid.UUID,
    body: CancelRequest,
) -> Contract:
    contract = await service.cancel_contract(session, actor, contract_id, body)
    return await views.contract_out(session, storage, contract)


@router.post("/api/contracts/{contract_id}/terminate", response_model=Contract)
async def terminate_contract(
    session: SessionDep, actor: CurrentUser, storage: StorageDep, contract_id: uuid.UUID,
    body: TerminateRequest,
) -> Contract:
    contract = await service.terminate_contract(session, actor, contract_id, body)
    return await views.contract_out(session, storage, contract)


@router.post("/api/contracts/{contract_id}/complete", response_model=Contract)
async def complete_contract(
    session: SessionDep, actor: CurrentUser, storage: StorageDep, contract_id: uuid.UUID
) -> Contract:
    contract = await service.complete_contract(session, actor, contract_id)
    return await views.contract_out(session, storage, contract)


@router.post("/api/contracts/{contract_id}/sign", response_model=SignResponse)
async def sign_contract(
    session: SessionDep, actor: CurrentUser, storage: StorageDep, runtime: RuntimeDep,
    contract_id: uuid.UUID, body: SignRequest,
) -> SignResponse:
    return await signing.sign(session, actor, storage, runtime.settings, runtime.secret,
                              contract_id, body)


@router.get("/api/contracts/{contract_id}/download", response_model=DownloadLinkOut)
async def download_contract(
    session: SessionDep, actor: CurrentUser, storage: StorageDep, contract_id: uuid.UUID
) -> DownloadLinkOut:
    url, expires_at = await views.download(session, actor, storage, contract_id)
    return DownloadLinkOut(download_url=url, expires_at=expires_at)


@router.get("/api/contracts/{contract_id}/verify", response_model=VerifyReport)
async def verify_contract(
    session: SessionDep, actor: CurrentUser, storage: StorageDep, runtime: RuntimeDep,
    contract_id: uuid.UUID,
) -> VerifyReport:
    return await signing.verify(session, actor, storage, runtime.settings, contract_id)


# --- milestones ---------------------------------------------------------------------------


@router.post("/api/contracts/{contract_id}/milestones/{milestone_id}/submit",
             response_model=Milestone)
async def submit_milestone(
    session: SessionDep, actor: CurrentUser, contract_id: uuid.UUID, milestone_id: uuid.UUID,
    body: MilestoneSubmit,
) -> Milestone:
    row, currency = await milestones.submit(session, actor, contract_id, milestone_id, body)
    return views.milestone_out(row, currency)


@router.post("/api/contracts/{contract_id}/milestones/{milestone_id}/approve",
             response_model=Milestone)
async def approve_milestone(
    session: SessionDep, actor: CurrentUser, contract_id: uuid.UUID, milestone_id: uuid.UUID
) -> Milestone:
    row, currency = await milestones.approve(session, actor, contract_id, milestone_id)
    return views.milestone_out(row, currency)


@router.post("/api/contracts/{contract_id}/milestones/{milestone_id}/reject",
             response_model=Milestone)
async def reject_milestone(
    session: SessionDep, actor: CurrentUser, contract_id: uuid.UUID, milestone_id: uuid.UUID,
    body: MilestoneReject,
) -> Milestone:
    row, currency = await milestones.reject(session, actor, contract_id, milestone_id, body)
    return views.milestone_out(row, currency)
