"""Every query of the contracts domain, and its tenant scoping.

`readable(actor)` is written once: a contractor sees the contracts made with their profile, a
client user the contracts their company made, an administrator (with MFA) all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, delete, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contracts.models import (
    Contract,
    ContractMilestone,
    ContractPayment,
    ContractSignature,
    ContractTemplate,
)
from mindlinks.platform.security import Actor, Role


def readable(actor: Actor) -> Select[Contract]:
    stmt = select(Contract)
    if actor.is_admin and actor.mfa_verified:
        return stmt
    if actor.role == Role.CONTRACTOR and actor.contractor_id is not None:
        return stmt.where(Contract.contractor_id == actor.contractor_id)
    if actor.role == Role.CLIENT:
        return stmt.where(Contract.client_user_id == actor.user_id)
    return stmt.where(false())


async def get_readable(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, *, for_update: bool = False
) -> Contract | None:
    """The contract if the actor may see it. `for_update` locks the row (PostgreSQL) and
    reloads it, so a request that waited for the lock sees the other one's committed change."""
    stmt = readable(actor).where(Contract.id == contract_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def page(
    session: AsyncSession, actor: Actor, *, status: str | None, offset: int, limit: int
) -> tuple[Sequence[Contract], int]:
    stmt = readable(actor)
    if status:
        stmt = stmt.where(Contract.status == status)
    # The page and the total in one statement (a window count over the filtered rows); a
    # separate count only for a page past the end, which has no row to carry it.
    rows = (
        await session.execute(
            stmt.add_columns(func.count().over().label("total"))
            .order_by(Contract.created_at.desc(), Contract.id).offset(offset).limit(limit)
        )
    ).all()
    if rows:
        return [row[0] for row in rows], int(rows[0].total)
    if offset == 0:
        return [], 0
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    return [], total


async def is_party(session: AsyncSession, actor: Actor, contract_id: uuid.UUID) -> bool:
    stmt = readable(actor).where(Contract.id == contract_id).with_only_columns(Contract.id)
    return (await session.scalar(stmt)) is not None


# --- templates ----------------------------------------------------------------------------


async def template(session: AsyncSession, template_id: uuid.UUID) -> ContractTemplate | None:
    return await session.get(ContractTemplate, template_id)


async def templates(
    session: AsyncSession, *, type_: str | None, model: str | None, offset: int, limit: int
) -> tuple[Sequence[ContractTemplate], int]:
    stmt = select(ContractTemplate)
    if type_:
        stmt = stmt.where(ContractTemplate.type == type_)
    if model:
        stmt = stmt.where(ContractTemplate.model == model)
    total = await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = (
        await session.execute(
            stmt.order_by(ContractTemplate.is_default.desc(), ContractTemplate.type,
                          ContractTemplate.model, ContractTemplate.name, ContractTemplate.id)
            .offset(offset).limit(limit)
        )
    ).scalars().all()
    return rows, total


async def defaults_of(session: AsyncSession, type_: str, model: str) -> Sequence[ContractTemplate]:
    stmt = select(ContractTemplate).where(
        ContractTemplate.type == type_, ContractTemplate.model == model,
        ContractTemplate.is_default.is_(True),
    )
    return (await session.execute(stmt)).scalars().all()


async def template_in_use(session: AsyncSession, template_id: uuid.UUID) -> bool:
    stmt = select(Contract.id).where(Contract.template_id == template_id).limit(1)
    return (await session.scalar(stmt)) is not None


# --- children -----------------------------------------------------------------------------


async def milestones(session: AsyncSession, contract_id: uuid.UUID) -> Sequence[ContractMilestone]:
    stmt = (select(ContractMilestone).where(ContractMilestone.contract_id == contract_id)
            .order_by(ContractMilestone.position))
    return (await session.execute(stmt)).scalars().all()


async def milestone(
    session: AsyncSession, contract_id: uuid.UUID, milestone_id: uuid.UUID
) -> ContractMilestone | None:
    stmt = select(ContractMilestone).where(
        ContractMilestone.contract_id == contract_id, ContractMilestone.id == milestone_id
    ).with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def signatures(session: AsyncSession, contract_id: uuid.UUID) -> Sequence[ContractSignature]:
    stmt = (select(ContractSignature).where(ContractSignature.contract_id == contract_id)
            .order_by(ContractSignature.journal_seq))
    return (await session.execute(stmt)).scalars().all()


async def next_payment_dates(
    session: AsyncSession, contract_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, date]:
    if not contract_ids:
        return {}
    stmt = (
        select(ContractPayment.contract_id, func.min(ContractPayment.due_date))
        .where(ContractPayment.contract_id.in_(contract_ids), ContractPayment.due_date >= today,
               ContractPayment.status == "scheduled")
        .group_by(ContractPayment.contract_id)
    )
    return {cid: due for cid, due in (await session.execute(stmt)).all()}


async def open_ended_active(session: AsyncSession) -> Sequence[Contract]:
    """Active contracts without an end date, locked; rows another worker holds are skipped."""
    stmt = (select(Contract)
            .where(Contract.status == "active", Contract.end_date.is_(None))
            .order_by(Contract.id).with_for_update(skip_locked=True))
    return (await session.execute(stmt)).scalars().all()


async def last_due_date(session: AsyncSession, contract_id: uuid.UUID) -> date | None:
    return await session.scalar(select(func.max(ContractPayment.due_date))
                                .where(ContractPayment.contract_id == contract_id))


async def delete_schedule_after(session: AsyncSession, contract_id: uuid.UUID, day: date) -> None:
    """Scheduled (unpaid) payments due after `day` go: the contract ends on that day."""
    await session.execute(
        delete(ContractPayment).where(ContractPayment.contract_id == contract_id,
                                      ContractPayment.due_date > day,
                                      ContractPayment.status == "scheduled")
    )


async def hourly_working(session: AsyncSession, since: date) -> Sequence[Contract]:
    """Hourly contracts that are active, or terminated with an effective date on or after
    `since` (their last weeks still need timesheets)."""
    stmt = (select(Contract)
            .where(Contract.type == "hourly",
                   (Contract.status == "active")
                   | ((Contract.status == "terminated")
                      & (Contract.termination_effective_date >= since)))
            .order_by(Contract.id))
    return (await session.execute(stmt)).scalars().all()
