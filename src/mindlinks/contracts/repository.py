"""Every query of the contracts domain, and its tenant scoping.

`readable(actor)` is written once: a contractor sees the contracts made with their profile, a
client user the contracts their company made, an administrator (with MFA) all of them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, Select, bindparam, case, delete, false, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.contracts.models import (
    Contract,
    ContractMilestone,
    ContractPayment,
    ContractSignature,
    ContractStatus,
    ContractTemplate,
)
from mindlinks.platform.db import Database, RawQuery
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


# --- the API's contract lists: one compiled statement -------------------------------------

_C = Contract.__table__.c
_PAY = ContractPayment.__table__.c
LIST_COLUMNS = ("id", "client_id", "contractor_id", "type", "title", "rate_minor", "currency",
                "frequency", "start_date", "end_date", "status", "contractor_signed_at",
                "client_signed_at", "created_at")


def list_scope(actor: Actor) -> tuple[str, uuid.UUID | None] | None:
    """`readable(actor)` as a choice of compiled statement and the value it binds: which
    column the actor's id is matched against (None: every contract), or None when the actor
    sees none. Kept next to `readable`; tests check both give the same rows."""
    if actor.is_admin and actor.mfa_verified:
        return "all", None
    if actor.role == Role.CONTRACTOR and actor.contractor_id is not None:
        return "contractor_id", actor.contractor_id
    if actor.role == Role.CLIENT:
        return "client_user_id", actor.user_id
    return None


def _list_query(scope: str, status_filter: bool) -> RawQuery:
    mine = [] if scope == "all" else [_C[scope] == bindparam("party", type_=_C[scope].type)]
    if status_filter:
        mine.append(_C.status == bindparam("status", type_=_C.status.type))
    total = (select(func.count()).select_from(Contract.__table__).where(*mine)
             .scalar_subquery().label("total"))
    page = (select(*(_C[c] for c in LIST_COLUMNS)).where(*mine)
            .order_by(_C.created_at.desc(), _C.id)
            .limit(bindparam("limit")).offset(bindparam("offset")).subquery("page"))
    counts = select(total).subquery("counts")
    company_id, company_name, logo_key = clients.company_name_columns()
    profile_id, profile_name = contractors.contractor_name_columns()
    # The next scheduled payment of an active contract (`next_payment_dates`), per row of
    # the page: an index range of the schedule's (contract_id, due_date) key.
    next_due = (select(func.min(_PAY.due_date))
                .where(_PAY.contract_id == page.c.id,
                       _PAY.due_date >= bindparam("today", type_=Date()),
                       _PAY.status == "scheduled")
                .scalar_subquery())
    # The counts LEFT JOIN the page, so a page past the end still carries the total; the
    # names come from the owning domains' tables by a LEFT JOIN each (a row whose company or
    # profile is gone keeps its place, unnamed).
    return RawQuery(
        select(*(page.c[c] for c in LIST_COLUMNS),
               company_name.label("client_name"), logo_key.label("client_logo_key"),
               profile_name.label("contractor_name"),
               case((page.c.status == ContractStatus.ACTIVE.value, next_due))
               .label("next_payment_date"),
               counts.c.total)
        .select_from(counts.outerjoin(page, true())
                     .outerjoin(company_id.table, company_id == page.c.client_id)
                     .outerjoin(profile_id.table, profile_id == page.c.contractor_id))
        .order_by(page.c.created_at.desc(), page.c.id))


# Compiled once per dialect: (scope column, status filter) -> statement.
_LISTS = {(scope, filtered): _list_query(scope, filtered)
          for scope in ("all", "contractor_id", "client_user_id") for filtered in (False, True)}


async def list_rows(
    db: Database, actor: Actor, *, status: str | None, today: date, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The rows of `page` (LIST_COLUMNS, the company's name and logo key, the contractor's
    name, the next payment date) and the total, in one precompiled statement on a pooled
    connection: no session, no transaction, no entities."""
    scope = list_scope(actor)
    if scope is None:
        return [], 0
    column, party = scope
    params: dict[str, Any] = {"today": today, "limit": limit, "offset": offset}
    if party is not None:
        params["party"] = party
    if status:
        params["status"] = status
    rows = await _LISTS[(column, bool(status))].all(db, **params)
    return [r for r in rows if r["id"] is not None], int(rows[0]["total"])


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


async def milestones_of(
    session: AsyncSession, actor: Actor, *, statuses: Sequence[str] | None, limit: int
) -> Sequence[tuple[Contract, ContractMilestone]]:
    """The milestones of the actor's contracts (tenant-scoped by `readable`) in one query,
    newest contract first, then by position; `statuses` filters the milestones."""
    scoped = readable(actor).subquery()
    stmt = (select(Contract, ContractMilestone)
            .join(ContractMilestone, ContractMilestone.contract_id == Contract.id)
            .where(Contract.id.in_(select(scoped.c.id))))
    if statuses:
        stmt = stmt.where(ContractMilestone.status.in_(list(statuses)))
    stmt = stmt.order_by(Contract.created_at.desc(), Contract.id,
                         ContractMilestone.position).limit(limit)
    return [(c, m) for c, m in (await session.execute(stmt)).all()]
