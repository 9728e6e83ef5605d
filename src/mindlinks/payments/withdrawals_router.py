"""Routes of withdrawals (seed 000 "Wallet & Withdrawals"). No queries and no rules here."""

from __future__ import annotations

import uuid

from fastapi import Request, status

from mindlinks.payments import withdrawals
from mindlinks.payments.withdrawals_schemas import (
    WithdrawalCreate,
    WithdrawalFilter,
    WithdrawalOut,
)
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router
from mindlinks.platform.idempotency import IdempotencyKeyDep
from mindlinks.platform.security import CurrentContractor

contractor = domain_router(prefix="/api/payments/contractor/me/withdrawals",
                           tags=["Payment Service"])


@contractor.post("", response_model=WithdrawalOut, status_code=status.HTTP_201_CREATED)
async def request_withdrawal(request: Request, session: SessionDep, actor: CurrentContractor,
                             key: IdempotencyKeyDep, body: WithdrawalCreate) -> WithdrawalOut:
    return await withdrawals.request_withdrawal(
        session, actor, body, per_day=request.app.state.settings.withdrawals_per_day)


@contractor.get("", response_model=Page[WithdrawalOut])
async def list_withdrawals(session: SessionDep, actor: CurrentContractor, page: PageDep,
                           status: WithdrawalFilter = "all") -> Page[WithdrawalOut]:
    return await withdrawals.list_withdrawals(session, actor, page, status)


@contractor.get("/{withdrawal_id}", response_model=WithdrawalOut)
async def get_withdrawal(session: SessionDep, actor: CurrentContractor,
                         withdrawal_id: uuid.UUID) -> WithdrawalOut:
    return await withdrawals.get_withdrawal(session, actor, withdrawal_id)


@contractor.post("/{withdrawal_id}/cancel", response_model=WithdrawalOut)
async def cancel_withdrawal(session: SessionDep, actor: CurrentContractor,
                            withdrawal_id: uuid.UUID) -> WithdrawalOut:
    return await withdrawals.cancel(session, actor, withdrawal_id)


routers = [contractor]
