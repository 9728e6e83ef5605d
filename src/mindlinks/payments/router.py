"""Payments routes: the client's escrow and deposits, provider webhooks, the sandbox payment
page, admin balance adjustments. No queries and no rules here."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path, Query, Request, status
from fastapi.responses import HTMLResponse, Response

from mindlinks.payments import admin as adjustments
from mindlinks.payments import (
    escrow,
    payroll_router,
    quotes_router,
    sandbox,
    statement_router,
    webhooks,
    withdrawals_router,
)
from mindlinks.payments.providers import PaymentsProvider, get_provider
from mindlinks.payments.schemas import (
    AdjustmentCreate,
    AdjustmentOut,
    AdjustmentRequestFilter,
    AdjustmentRequestOut,
    DepositCreate,
    DepositOut,
    Escrow,
    EscrowTransaction,
    WebhookAck,
)
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router, model_response
from mindlinks.platform.idempotency import IdempotencyKeyDep
from mindlinks.platform.security import AdminUser, CurrentClient


async def _provider(request: Request) -> PaymentsProvider:
    return get_provider(request.app.state)


ProviderDep = Annotated[PaymentsProvider, Depends(_provider)]
IntentId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_]+$")]
Token = Annotated[str | None, Query(max_length=128)]

client = domain_router(prefix="/api/payments/client/me", tags=["Payment Service"])
public = domain_router(prefix="/api/payments", tags=["Payment Service"])
pages = domain_router(prefix="/payments/sandbox", include_in_schema=False)
admin = domain_router(prefix="/api/admin/payments", tags=["Payment Service"])


@client.get("/escrow", response_model=Escrow)
async def get_escrow(session: SessionDep, actor: CurrentClient, page: PageDep) -> Escrow:
    return await escrow.escrow(session, actor, page)


@client.get("/escrow/transactions/{transfer_id}", response_model=EscrowTransaction)
async def get_transaction(session: SessionDep, actor: CurrentClient,
                          transfer_id: uuid.UUID) -> EscrowTransaction:
    return await escrow.transaction(session, actor, transfer_id)


@client.post("/deposits", response_model=DepositOut, status_code=status.HTTP_201_CREATED)
async def create_deposit(session: SessionDep, actor: CurrentClient, provider: ProviderDep,
                         key: IdempotencyKeyDep, body: DepositCreate) -> DepositOut:
    return await escrow.create_deposit(session, actor, provider, body, key)


@client.get("/deposits/{deposit_id}", response_model=DepositOut)
async def get_deposit(session: SessionDep, actor: CurrentClient,
                      deposit_id: uuid.UUID) -> DepositOut:
    return await escrow.deposit(session, actor, deposit_id)


@public.post("/webhooks/{provider_name}", response_model=WebhookAck)
async def webhook(request: Request, session: SessionDep, provider: ProviderDep,
                  provider_name: Annotated[str, Path(max_length=20)]) -> WebhookAck:
    body = await request.body()
    outcome, duplicate = await webhooks.receive(session, provider, provider_name, body,
                                                request.headers)
    return WebhookAck(duplicate=duplicate, outcome=outcome)


@public.post("/sandbox/intents/{intent_id}/{outcome}", response_model=WebhookAck,
             include_in_schema=False)
async def sandbox_outcome(session: SessionDep, provider: ProviderDep, intent_id: IntentId,
                          outcome: sandbox.Outcome, token: Token = None) -> WebhookAck:
    _, result = await sandbox.act(session, provider, intent_id, token, outcome)
    return WebhookAck(outcome=result)


@pages.get("/{intent_id}", response_class=HTMLResponse)
async def sandbox_page(session: SessionDep, provider: ProviderDep, intent_id: IntentId,
                       token: Token = None) -> HTMLResponse:
    return HTMLResponse(await sandbox.page(session, provider, intent_id, token))


@pages.post("/{intent_id}", response_class=HTMLResponse)
async def sandbox_submit(request: Request, session: SessionDep, provider: ProviderDep,
                         intent_id: IntentId) -> HTMLResponse:
    form = await request.form()
    token, outcome = str(form.get("token") or "")[:128], str(form.get("outcome") or "")
    if outcome not in sandbox.EVENTS:
        outcome = "fail"
    row, result = await sandbox.act(session, provider, intent_id, token, outcome)  # type: ignore[arg-type]
    return HTMLResponse(sandbox.page_html(row, token, f"Webhook delivered: {result}"))


@admin.post("/accounts/{account_id}/adjustments", response_model=AdjustmentOut,
            status_code=status.HTTP_201_CREATED, responses={202: {
                "model": AdjustmentRequestOut,
                "description": "Above the approval threshold: pending a second admin"}})
async def adjust(request: Request, session: SessionDep, actor: AdminUser,
                 key: IdempotencyKeyDep, account_id: uuid.UUID,
                 body: AdjustmentCreate) -> AdjustmentOut | Response:
    settings = request.app.state.settings
    done = await adjustments.adjust(session, actor, account_id, body, key,
                                    approval_minor=settings.adjustment_approval_minor,
                                    approval_days=settings.adjustment_approval_days)
    if isinstance(done, AdjustmentRequestOut):
        return model_response(done, status.HTTP_202_ACCEPTED)
    return done


@admin.get("/adjustments", response_model=Page[AdjustmentRequestOut])
async def list_adjustment_requests(session: SessionDep, actor: AdminUser, page: PageDep,
                                   status: AdjustmentRequestFilter = "all"
                                   ) -> Page[AdjustmentRequestOut]:
    return await adjustments.list_requests(session, page, status)


@admin.post("/adjustments/{request_id}/approve", response_model=AdjustmentRequestOut)
async def approve_adjustment(session: SessionDep, actor: AdminUser, key: IdempotencyKeyDep,
                             request_id: uuid.UUID) -> AdjustmentRequestOut:
    return await adjustments.approve(session, actor, request_id)


@admin.post("/adjustments/{request_id}/reject", response_model=AdjustmentRequestOut)
async def reject_adjustment(session: SessionDep, actor: AdminUser,
                            request_id: uuid.UUID) -> AdjustmentRequestOut:
    return await adjustments.reject(session, actor, request_id)


routers = [client, public, pages, admin, *payroll_router.routers, *withdrawals_router.routers,
           *statement_router.routers, *quotes_router.routers]
