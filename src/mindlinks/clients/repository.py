"""Every query of the clients domain. Tenant scoping lives here, once per aggregate:
`*_readable(actor)` is what an actor may see - a client its own company and what hangs off
it, an administrator everything, anyone else nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients.models import (
    ClientCompany,
    ClientContractor,
    ClientDocument,
    ClientInvitation,
    DocumentStatus,
    InvitationStatus,
    VerificationStatus,
)
from mindlinks.platform.security import Actor, Role


def companies_readable(actor: Actor) -> Select[ClientCompany]:
    stmt = select(ClientCompany)
    if actor.is_admin:
        return stmt
    if actor.role == Role.CLIENT:
        return stmt.where(ClientCompany.user_id == actor.user_id)
    return stmt.where(false())


def _own_company_ids(actor: Actor) -> Any:
    return select(ClientCompany.id).where(ClientCompany.user_id == actor.user_id)


def documents_readable(actor: Actor) -> Select[ClientDocument]:
    stmt = select(ClientDocument)
    if actor.is_admin:
        return stmt
    if actor.role == Role.CLIENT:
        return stmt.where(ClientDocument.client_id.in_(_own_company_ids(actor)))
    return stmt.where(false())


def invitations_readable(actor: Actor) -> Select[ClientInvitation]:
    stmt = select(ClientInvitation)
    if actor.role == Role.CLIENT:
        return stmt.where(ClientInvitation.client_id.in_(_own_company_ids(actor)))
    return stmt.where(false())


def links_readable(actor: Actor) -> Select[ClientContractor]:
    stmt = select(ClientContractor)
    if actor.role == Role.CLIENT:
        return stmt.where(ClientContractor.client_id.in_(_own_company_ids(actor)))
    return stmt.where(false())


async def _page(
    session: AsyncSession, stmt: Select[Any], *, offset: int, limit: int, order: Any
) -> tuple[list[Any], int]:
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = await session.scalars(stmt.order_by(*order).offset(offset).limit(limit))
    return list(rows), int(total or 0)


# --- companies --------------------------------------------------------------------------------


async def company_of_user(session: AsyncSession, user_id: uuid.UUID) -> ClientCompany | None:
    return await session.scalar(select(ClientCompany).where(ClientCompany.user_id == user_id))


async def company_by_id(session: AsyncSession, company_id: uuid.UUID) -> ClientCompany | None:
    return await session.get(ClientCompany, company_id)


async def companies_by_ids(session: AsyncSession,
                           company_ids: Sequence[uuid.UUID]) -> Sequence[ClientCompany]:
    if not company_ids:
        return []
    return (await session.scalars(select(ClientCompany)
                                  .where(ClientCompany.id.in_(list(company_ids))))).all()


async def lock_registry_key(session: AsyncSession, key: str) -> None:
    """Serialise claims of one registry entry until commit (PostgreSQL; SQLite's single
    writer already does), so two simultaneous claims cannot both look like the first."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended("clients.registry:" + key, 0)))
        )


async def other_claims(
    session: AsyncSession, key: str, company_id: uuid.UUID
) -> list[ClientCompany]:
    """Other companies (not rejected) that matched the same registry entry, oldest first."""
    stmt = (
        select(ClientCompany)
        .where(ClientCompany.registry_key == key, ClientCompany.id != company_id,
               ClientCompany.verification_status != VerificationStatus.REJECTED)
        .order_by(ClientCompany.created_at, ClientCompany.id)
    )
    return list((await session.execute(stmt)).scalars())


async def readable_company(
    session: AsyncSession, actor: Actor, company_id: uuid.UUID
) -> ClientCompany | None:
    return await session.scalar(companies_readable(actor).where(ClientCompany.id == company_id))


async def company_page(
    session: AsyncSession, actor: Actor, *, status: str | None, offset: int, limit: int
) -> tuple[list[ClientCompany], int]:
    stmt = companies_readable(actor)
    if status:
        stmt = stmt.where(ClientCompany.verification_status == status)
    return await _page(session, stmt, offset=offset, limit=limit,
                       order=(ClientCompany.created_at, ClientCompany.id))


# --- documents --------------------------------------------------------------------------------


async def readable_document(
    session: AsyncSession, actor: Actor, document_id: uuid.UUID
) -> ClientDocument | None:
    return await session.scalar(documents_readable(actor).where(ClientDocument.id == document_id))


async def document_page(
    session: AsyncSession, actor: Actor, client_id: uuid.UUID, *, offset: int, limit: int
) -> tuple[list[ClientDocument], int]:
    stmt = documents_readable(actor).where(ClientDocument.client_id == client_id)
    return await _page(session, stmt, offset=offset, limit=limit,
                       order=(ClientDocument.created_at.desc(), ClientDocument.id))


async def document_counts(session: AsyncSession, company_ids: Sequence[uuid.UUID]
                          ) -> dict[uuid.UUID, tuple[int, int]]:
    """`(all, pending)` documents of each of these companies, in one grouped statement."""
    if not company_ids:
        return {}
    pending = func.count().filter(ClientDocument.status == DocumentStatus.PENDING)
    rows = await session.execute(
        select(ClientDocument.client_id, func.count(), pending)
        .where(ClientDocument.client_id.in_(list(company_ids)))
        .group_by(ClientDocument.client_id))
    return {row[0]: (int(row[1]), int(row[2])) for row in rows}


# --- invitations ------------------------------------------------------------------------------


async def readable_invitation(
    session: AsyncSession, actor: Actor, invitation_id: uuid.UUID
) -> ClientInvitation | None:
    return await session.scalar(
        invitations_readable(actor).where(ClientInvitation.id == invitation_id)
    )


async def invitation_page(
    session: AsyncSession, actor: Actor, *, offset: int, limit: int
) -> tuple[list[ClientInvitation], int]:
    return await _page(session, invitations_readable(actor), offset=offset, limit=limit,
                       order=(ClientInvitation.created_at.desc(), ClientInvitation.id))


async def invitation_by_token_hash(
    session: AsyncSession, token_hash: str
) -> ClientInvitation | None:
    return await session.scalar(
        select(ClientInvitation).where(ClientInvitation.token_hash == token_hash)
    )


async def open_invitation_for(
    session: AsyncSession, client_id: uuid.UUID, email: str, now: datetime
) -> ClientInvitation | None:
    return await session.scalar(
        select(ClientInvitation).where(
            ClientInvitation.client_id == client_id,
            ClientInvitation.email == email,
            ClientInvitation.status == InvitationStatus.PENDING,
            ClientInvitation.expires_at > now,
        ).limit(1)
    )


async def claim_invitation(
    session: AsyncSession, invitation_id: uuid.UUID, user_id: uuid.UUID | None, now: datetime
) -> bool:
    """Mark a pending, unexpired invitation accepted. Only one caller can win: the UPDATE is
    conditional on the status, and a racing transaction waits for the row lock and then
    finds it no longer pending."""
    result = await session.execute(
        update(ClientInvitation)
        .where(
            ClientInvitation.id == invitation_id,
            ClientInvitation.status == InvitationStatus.PENDING,
            ClientInvitation.expires_at > now,
        )
        .values(status=InvitationStatus.ACCEPTED, accepted_at=now, accepted_by=user_id,
                updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def set_accepted_by(
    session: AsyncSession, invitation_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    await session.execute(
        update(ClientInvitation).where(ClientInvitation.id == invitation_id)
        .values(accepted_by=user_id).execution_options(synchronize_session=False)
    )


# --- client-contractor links ------------------------------------------------------------------


async def link(
    session: AsyncSession, client_id: uuid.UUID, contractor_id: uuid.UUID
) -> ClientContractor | None:
    return await session.scalar(
        select(ClientContractor).where(
            ClientContractor.client_id == client_id,
            ClientContractor.contractor_id == contractor_id,
        )
    )


async def readable_link(
    session: AsyncSession, actor: Actor, contractor_id: uuid.UUID
) -> ClientContractor | None:
    return await session.scalar(
        links_readable(actor).where(ClientContractor.contractor_id == contractor_id)
    )


async def link_page(
    session: AsyncSession, actor: Actor, *, offset: int, limit: int
) -> tuple[list[ClientContractor], int]:
    return await _page(session, links_readable(actor), offset=offset, limit=limit,
                       order=(ClientContractor.created_at.desc(), ClientContractor.id))


async def client_ids_of_contractor(
    session: AsyncSession, contractor_id: uuid.UUID
) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(ClientContractor.client_id).where(ClientContractor.contractor_id == contractor_id)
    )
    return list(rows)
