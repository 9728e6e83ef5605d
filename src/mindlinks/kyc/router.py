"""KYC routes: the contractor's own verification, provider webhooks, the sandbox page and
scripted decisions, and the admin review queue. No queries and no rules here."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, File, Form, Path, Query, Request, UploadFile, status
from fastapi.responses import HTMLResponse

from mindlinks.kyc import sandbox, service, webhooks
from mindlinks.kyc.providers import KycProvider, get_provider
from mindlinks.kyc.schemas import (
    AdminDocument,
    AdminSession,
    AdminSessionDetail,
    DecisionRequest,
    Document,
    DocumentDownload,
    DocumentList,
    DocumentReview,
    DocumentTypeName,
    KycStatus,
    SandboxDecisionRequest,
    SandboxDecisionResult,
    StartedSession,
    StartRequest,
    WebhookAck,
)
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router
from mindlinks.platform.ratelimit import enforce
from mindlinks.platform.runtime import RuntimeDep
from mindlinks.platform.security import AdminUser, CurrentContractor, OptionalUser
from mindlinks.platform.storage import StorageBackend, get_storage

SessionStatusName = Annotated[
    str | None,
    Query(pattern="^(pending|processing|verified|rejected|resubmission_requested|expired)$",
          description="Filter by session status (`pending` = the review queue)"),
]


async def _storage(request: Request) -> StorageBackend:
    return get_storage(request.app.state)


async def _provider(request: Request) -> KycProvider:
    return get_provider(request.app.state)


StorageDep = Annotated[StorageBackend, Depends(_storage)]
ProviderDep = Annotated[KycProvider, Depends(_provider)]

me = domain_router(prefix="/api/kyc/contractor/me", tags=["KYC Service"])
public = domain_router(prefix="/api/kyc", tags=["KYC Service"])
pages = domain_router(prefix="/kyc/sandbox", include_in_schema=False)
admin = domain_router(prefix="/api/admin/kyc", tags=["KYC Service"])


# --- contractor -----------------------------------------------------------------------------


@me.get("/status", response_model=KycStatus)
async def get_status(session: SessionDep, actor: CurrentContractor) -> KycStatus:
    return await service.status_of(session, actor)


@me.post("/start", response_model=StartedSession)
async def start(request: Request, session: SessionDep, actor: CurrentContractor,
                provider: ProviderDep, rt: RuntimeDep,
                body: StartRequest | None = None) -> StartedSession:
    settings = request.app.state.settings
    await enforce(rt.limiter, f"kyc:start:{actor.user_id}",
                  limit=settings.kyc_starts_per_hour, window=3600)
    kyc = await service.start(session, actor, provider,
                              level=(body or StartRequest()).verification_level,
                              expiry_days=settings.kyc_session_expiry_days,
                              callback_url=settings.resolved_public_url + "/")
    return StartedSession(session_id=kyc.id, veriff_session_url=kyc.session_url,
                          expires_at=kyc.expires_at)


@me.get("/documents", response_model=DocumentList)
async def list_documents(session: SessionDep, actor: CurrentContractor) -> DocumentList:
    return DocumentList(data=await service.list_documents(session, actor))


@me.get("/documents/{document_id}", response_model=DocumentDownload)
async def get_document(session: SessionDep, actor: CurrentContractor, storage: StorageDep,
                       document_id: uuid.UUID) -> DocumentDownload:
    return await service.own_document(session, actor, storage, document_id)


@me.post("/documents", response_model=Document, status_code=status.HTTP_201_CREATED)
async def upload_document(
    session: SessionDep, actor: CurrentContractor, storage: StorageDep,
    document_type: Annotated[DocumentTypeName, Form(alias="documentType")],
    file: Annotated[UploadFile, File()], rt: RuntimeDep,
) -> Document:
    await enforce(rt.limiter, f"kyc:upload:{actor.user_id}",
                  limit=rt.settings.kyc_uploads_per_hour, window=3600)
    doc = await service.upload_document(session, actor, storage, file, filename=file.filename,
                                        document_type=document_type)
    return service.document_out(doc)


# --- provider webhooks and the sandbox ------------------------------------------------------


@public.post("/webhooks/{provider_name}", response_model=WebhookAck)
async def webhook(request: Request, session: SessionDep, provider: ProviderDep,
                  provider_name: Annotated[str, Path(max_length=40)]) -> WebhookAck:
    body = await request.body()
    outcome = await webhooks.receive(session, provider, provider_name, body, request.headers)
    return WebhookAck(duplicate=outcome.outcome == "duplicate", payload_id=outcome.payload_id,
                      outcome=outcome.outcome)


# Login is optional here (the owner, or anyone holding the page token): `{}` in the security
# list documents that, so clients and fuzzers do not expect a 401 without a bearer token.
@public.post("/sandbox/sessions/{session_id}/decision", response_model=SandboxDecisionResult,
             openapi_extra={"security": [{}]})
async def sandbox_decision(
    session: SessionDep, provider: ProviderDep, session_id: uuid.UUID,
    body: SandboxDecisionRequest,
    actor: OptionalUser,
) -> SandboxDecisionResult:
    kyc, outcome = await sandbox.scripted_decision(session, provider, session_id, body.decision,
                                                   body.reason, token=body.token, actor=actor)
    return SandboxDecisionResult(session_id=kyc.id, status=kyc.status, outcome=outcome.outcome)


@pages.get("/{session_id}", response_class=HTMLResponse)
async def sandbox_page(session: SessionDep, provider: ProviderDep, session_id: uuid.UUID,
                       token: str | None = None) -> HTMLResponse:
    return HTMLResponse(await sandbox.page(session, provider, session_id, token))


@pages.post("/{session_id}", response_class=HTMLResponse)
async def sandbox_submit(request: Request, session: SessionDep, provider: ProviderDep,
                         storage: StorageDep, session_id: uuid.UUID) -> HTMLResponse:
    form = await request.form()
    kyc, decision, reason = await sandbox.submit_page(session, provider, storage, session_id,
                                                      form)
    message = f"Submitted. Sandbox decision: {decision}" + (f" ({reason})" if reason else "")
    return HTMLResponse(sandbox.page_html(kyc, str(form.get("token") or ""), message))


# --- admin review ---------------------------------------------------------------------------


@admin.get("/sessions", response_model=Page[AdminSession])
async def list_sessions(session: SessionDep, _admin: AdminUser, page: PageDep,
                        status: SessionStatusName = None) -> Page[AdminSession]:
    return await service.list_sessions(session, status, page)


@admin.get("/sessions/{session_id}", response_model=AdminSessionDetail)
async def session_detail(session: SessionDep, _admin: AdminUser, storage: StorageDep,
                         session_id: uuid.UUID) -> AdminSessionDetail:
    return await service.session_detail(session, storage, session_id)


@admin.post("/sessions/{session_id}/decision", response_model=AdminSessionDetail)
async def decide(session: SessionDep, actor: AdminUser, storage: StorageDep,
                 session_id: uuid.UUID, body: DecisionRequest) -> AdminSessionDetail:
    await service.admin_decide(session, actor, session_id, body.decision, body.reason)
    return await service.session_detail(session, storage, session_id)


@admin.post("/documents/{document_id}/review", response_model=AdminDocument)
async def review_document(session: SessionDep, actor: AdminUser, storage: StorageDep,
                          document_id: uuid.UUID, body: DocumentReview) -> AdminDocument:
    doc = await service.review_document(session, actor, document_id, body.status, body.reason)
    return await service.admin_document_out(storage, doc)


routers = [me, public, pages, admin]
