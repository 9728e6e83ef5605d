"""Queries of the payments domain. Tenant scoping: a client reads only the accounts, transfers
and deposits of its own company (`client_id`); anything else is not found."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.payments.adjustments_models import AdjustmentRequest, AdjustmentRequestStatus
from mindlinks.payments.models import Account, Deposit, Purpose, Transfer


async def escrow_accounts(session: AsyncSession, client_id: uuid.UUID) -> Sequence[Account]:
    return (await session.scalars(select(Account).where(
        Account.owner_type == "client", Account.owner_id == client_id,
        Account.purpose == Purpose.CLIENT_ESCROW).order_by(Account.currency))).all()


def _touching(account_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    return or_(Transfer.debit_account_id.in_(account_ids),
               Transfer.credit_account_id.in_(account_ids))


async def transfers_page(session: AsyncSession, account_ids: Sequence[uuid.UUID], *,
                         offset: int, limit: int) -> tuple[Sequence[Transfer], int]:
    if not account_ids:
        return [], 0
    total = await session.scalar(select(func.count()).select_from(Transfer)
                                 .where(_touching(account_ids)))
    rows = (await session.scalars(select(Transfer).where(_touching(account_ids))
                                  .order_by(Transfer.created_at.desc(), Transfer.id)
                                  .offset(offset).limit(limit))).all()
    return rows, int(total or 0)


async def transfer_of(session: AsyncSession, account_ids: Sequence[uuid.UUID],
                      transfer_id: uuid.UUID) -> Transfer | None:
    if not account_ids:
        return None
    return await session.scalar(select(Transfer).where(Transfer.id == transfer_id,
                                                       _touching(account_ids)))


async def deposit_of(session: AsyncSession, client_id: uuid.UUID,
                     deposit_id: uuid.UUID) -> Deposit | None:
    return await session.scalar(select(Deposit).where(Deposit.id == deposit_id,
                                                      Deposit.client_id == client_id))


async def deposit_by_ref(session: AsyncSession, provider: str, provider_ref: str, *,
                         for_update: bool = False) -> Deposit | None:
    query = select(Deposit).where(Deposit.provider == provider,
                                  Deposit.provider_ref == provider_ref)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


async def account_by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    return await session.get(Account, account_id)


async def adjustment_request(session: AsyncSession, request_id: uuid.UUID, *,
                             for_update: bool = False) -> AdjustmentRequest | None:
    """Admin-only rows (no tenant): locked and read fresh when a decision will follow, so two
    admins deciding at once take turns and the second sees the first's decision."""
    query = select(AdjustmentRequest).where(AdjustmentRequest.id == request_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return await session.scalar(query)


def _adjustment_filter(status: str, now: datetime) -> list[ColumnElement[bool]]:
    # A pending row past its expiry is shown (and filtered) as expired.
    pending, s = AdjustmentRequestStatus.PENDING, AdjustmentRequest.status
    if status == "all":
        return []
    if status == AdjustmentRequestStatus.PENDING:
        return [s == pending, AdjustmentRequest.expires_at > now]
    if status == AdjustmentRequestStatus.EXPIRED:
        return [or_(s == status, and_(s == pending, AdjustmentRequest.expires_at <= now))]
    return [s == status]


async def adjustment_requests_page(session: AsyncSession, status: str, now: datetime, *,
                                   offset: int, limit: int
                                   ) -> tuple[Sequence[AdjustmentRequest], int]:
    where = _adjustment_filter(status, now)
    total = await session.scalar(select(func.count()).select_from(AdjustmentRequest)
                                 .where(*where))
    rows = (await session.scalars(select(AdjustmentRequest).where(*where)
                                  .order_by(AdjustmentRequest.created_at.desc(),
                                            AdjustmentRequest.id)
                                  .offset(offset).limit(limit))).all()
    return rows, int(total or 0)
