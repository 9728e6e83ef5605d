"""Routes of payroll runs (client), the wallet, earnings and history (contractor).
No queries and no rules here."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response

from mindlinks.payments import earnings as earnings_reads
from mindlinks.payments import payroll_reads as reads
from mindlinks.payments import wallet as wallet_reads
from mindlinks.payments.payroll_schemas import (
    Earnings,
    FundingOut,
    HistoryRow,
    HistoryStatus,
    PayrollDetail,
    PayrollOut,
    PayrollSettings,
    Period,
    Wallet,
)
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router, model_response
from mindlinks.platform.idempotency import IdempotencyKeyDep
from mindlinks.platform.security import CurrentClient, CurrentContractor

client = domain_router(prefix="/api/payments/client/me", tags=["Payment Service"])
contractor = domain_router(prefix="/api/payments/contractor/me", tags=["Payment Service"])


@client.get("/payrolls", response_model=Page[PayrollOut])
async def list_payrolls(session: SessionDep, actor: CurrentClient,
                        page: PageDep) -> Page[PayrollOut]:
    return await reads.list_payrolls(session, actor, page)


@client.get("/payrolls/{payroll_id}", response_model=PayrollDetail)
async def get_payroll(session: SessionDep, actor: CurrentClient,
                      payroll_id: uuid.UUID) -> PayrollDetail:
    return await reads.detail(session, actor, payroll_id)


@client.get("/payrolls/{payroll_id}/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}})
async def export_payroll(session: SessionDep, actor: CurrentClient,
                         payroll_id: uuid.UUID) -> Response:
    body = await reads.export_csv(session, actor, payroll_id)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="payroll-{payroll_id}.csv"'})


async def _own_payroll(session: SessionDep, actor: CurrentClient,
                      payroll_id: uuid.UUID) -> uuid.UUID:
    """Resolved before the Idempotency-Key: another company's run is 404 whatever the key."""
    return (await reads.own(session, actor, payroll_id)).id


OwnPayroll = Annotated[uuid.UUID, Depends(_own_payroll)]


@client.post("/payrolls/{payroll_id}/approve", response_model=PayrollDetail)
async def approve_payroll(session: SessionDep, actor: CurrentClient, payroll: OwnPayroll,
                          key: IdempotencyKeyDep) -> PayrollDetail:
    return await reads.approve(session, actor, payroll)


@client.get("/payroll-settings", response_model=PayrollSettings)
async def get_settings(session: SessionDep, actor: CurrentClient) -> PayrollSettings:
    return PayrollSettings(auto_approve=await reads.auto_approve(session, actor))


@client.put("/payroll-settings", response_model=PayrollSettings)
async def put_settings(session: SessionDep, actor: CurrentClient,
                       body: PayrollSettings) -> PayrollSettings:
    return PayrollSettings(
        auto_approve=await reads.set_auto_approve(session, actor, body.auto_approve))


@client.get("/invoices/{invoice_id}/funding", response_model=FundingOut)
async def invoice_funding(session: SessionDep, actor: CurrentClient,
                          invoice_id: uuid.UUID) -> FundingOut:
    return await reads.funding(session, actor, invoice_id)


@contractor.get("/wallet", response_model=Wallet)
async def get_wallet(session: SessionDep, actor: CurrentContractor) -> Wallet:
    return await wallet_reads.wallet(session, actor)


@contractor.get("/earnings", response_model=Earnings)
async def get_earnings(session: SessionDep, actor: CurrentContractor,
                       period: Period = "all") -> Response:
    # Built from two aggregates just above: served as is, not validated a second time.
    return model_response(await earnings_reads.earnings(session, actor, period))


@contractor.get("/history", response_model=Page[HistoryRow])
async def get_history(session: SessionDep, actor: CurrentContractor, page: PageDep,
                      status: HistoryStatus = "all",
                      contract_id: Annotated[uuid.UUID | None, Query(alias="contractId")] = None,
                      start_date: Annotated[date | None, Query(alias="startDate")] = None,
                      end_date: Annotated[date | None, Query(alias="endDate")] = None,
                      ) -> Page[HistoryRow]:
    return await wallet_reads.history(session, actor, page, status=status,
                                      contract_id=contract_id, start=start_date, end=end_date)


routers = [client, contractor]
