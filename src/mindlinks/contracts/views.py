"""Read models of contracts: the seed's list and detail shapes, milestones, download links.

Names and logos come from the owning domains' services (clients, contractors); nothing here
changes state.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import Response
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.contracts import repository as repo
from mindlinks.contracts.models import Contract, ContractMilestone, ContractStatus
from mindlinks.contracts.schemas import Contract as ContractOut
from mindlinks.contracts.schemas import ContractListItem
from mindlinks.contracts.schemas import Milestone as MilestoneOut
from mindlinks.contracts.service import document_key, document_of
from mindlinks.countries import service as countries
from mindlinks.platform.api import PageParams, RowSerializer, RowWith, json_response
from mindlinks.platform.db import Database, utcnow
from mindlinks.platform.security import Actor
from mindlinks.platform.storage import StorageBackend, download_url

S = ContractStatus


def milestone_out(m: ContractMilestone, currency: str) -> MilestoneOut:
    return MilestoneOut.model_validate(
        RowWith(m, amount=countries.from_minor(m.amount_minor, currency))
    )


async def _names(
    session: AsyncSession, storage: StorageBackend, rows: Sequence[Contract]
) -> tuple[dict[uuid.UUID, tuple[str | None, str | None]], dict[uuid.UUID, str | None]]:
    companies: dict[uuid.UUID, tuple[str | None, str | None]] = {}
    # One query for every company of the page (not one per row).
    found = await clients.get_companies(session, [r.client_id for r in rows])
    for cid in {r.client_id for r in rows}:
        company = found.get(cid)
        if company is None:
            companies[cid] = (None, None)
            continue
        companies[cid] = (company.legal_name, await clients.logo_url(storage, company))
    # Names only: a contract list shows no onboarding status (no bank / tax form reads).
    names = await contractors.contractor_names(session, list({r.contractor_id for r in rows}))
    return companies, names


async def contract_page(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, status: str | None,
    offset: int, limit: int,
) -> tuple[list[ContractListItem], int]:
    """The actor's contracts (contractor: theirs; client: its company's), newest first."""
    rows, total = await repo.page(session, actor, status=status, offset=offset, limit=limit)
    companies, contractor_names = await _names(session, storage, rows)
    upcoming = await repo.next_payment_dates(session, [r.id for r in rows], utcnow().date())
    items = [
        ContractListItem.model_validate(RowWith(
            r, client_name=companies[r.client_id][0], client_logo=companies[r.client_id][1],
            contractor_name=contractor_names.get(r.contractor_id),
            rate=countries.from_minor(r.rate_minor, r.currency),
            signed_by_contractor=r.contractor_signed_at is not None,
            signed_by_client=r.client_signed_at is not None,
            next_payment_date=upcoming.get(r.id) if r.status == S.ACTIVE else None,
        ))
        for r in rows
    ]
    return items, total


_LIST_ITEM = RowSerializer(ContractListItem)


async def contract_list_response(
    db: Database, actor: Actor, storage: StorageBackend, *, status: str | None,
    params: PageParams,
) -> Response:
    """`contract_page` as the API serves it (`Page[ContractListItem]`): one precompiled
    statement on a pooled connection (names joined in, no session, no transaction), the
    items written by orjson from the rows (no entities, no Pydantic validation of what the
    server has just read)."""
    rows, total = await repo.list_rows(db, actor, status=status, today=utcnow().date(),
                                       offset=params.offset, limit=params.limit)
    logos: dict[str, str | None] = {}
    data = []
    for row in rows:
        key = row["client_logo_key"]
        if key and key not in logos:
            logos[key] = await clients.logo_url_of(storage, key)
        item: dict[str, Any] = {
            **row, "client_logo": logos[key] if key else None,
            "rate": float(countries.from_minor(row["rate_minor"], row["currency"])),
            "signed_by_contractor": row["contractor_signed_at"] is not None,
            "signed_by_client": row["client_signed_at"] is not None,
        }
        data.append(_LIST_ITEM.as_dict(item))
    return json_response({"data": data, "meta": {
        "total": total, "page": params.page, "limit": params.limit,
        "totalPages": math.ceil(total / params.limit) if total else 0}})


async def contract_out(
    session: AsyncSession, storage: StorageBackend, contract: Contract
) -> ContractOut:
    companies, contractor_names = await _names(session, storage, [contract])
    upcoming = await repo.next_payment_dates(session, [contract.id], utcnow().date())
    milestones = await repo.milestones(session, contract.id)
    key = document_key(contract)
    pdf_url = (await download_url(storage, key, filename=f"contract-{contract.id}.pdf"))[0] \
        if key else None
    # The row's own columns map by name; what follows is computed or named differently.
    return ContractOut.model_validate(RowWith(
        contract,
        client_name=companies[contract.client_id][0],
        contractor_name=contractor_names.get(contract.contractor_id),
        rate=countries.from_minor(contract.rate_minor, contract.currency),
        signed_by_contractor=contract.contractor_signed_at is not None,
        signed_by_client=contract.client_signed_at is not None,
        signed_by_contractor_at=contract.contractor_signed_at,
        signed_by_client_at=contract.client_signed_at,
        pdf_url=pdf_url, document_hash=contract.document_sha256,
        milestones=[milestone_out(m, contract.currency) for m in milestones],
        next_payment_date=upcoming.get(contract.id) if contract.status == S.ACTIVE else None,
    ))


async def download(
    session: AsyncSession, actor: Actor, storage: StorageBackend, contract_id: uuid.UUID
) -> tuple[str, datetime]:
    """`(downloadUrl, expiresAt)` (1 h) of the signed PDF once active, else the sent one;
    409 `document_not_ready` for a draft."""
    contract, key = await document_of(session, actor, contract_id)
    return await download_url(storage, key, filename=f"contract-{contract.id}.pdf",
                              ttl_seconds=3600)


async def milestone_list(
    session: AsyncSession, actor: Actor, *, statuses: Sequence[str] | None, limit: int
) -> list[tuple[Contract, MilestoneOut]]:
    """Milestones across the actor's contracts (the dashboards' lists and approval queue),
    each with its contract row: one query whatever the number of contracts."""
    rows = await repo.milestones_of(session, actor, statuses=statuses, limit=limit)
    return [(c, milestone_out(m, c.currency)) for c, m in rows]
