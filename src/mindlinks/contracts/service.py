"""The contracts domain's public API: the contract lifecycle.

States (issue 5 §3): `draft -> pending -> client_signed | contractor_signed -> active ->
completed | terminated`, and `cancelled` from draft, pending or one-party-signed. `TRANSITIONS`
is the only place a status changes; anything else is 409 `invalid_transition`. Every change is
audited. Signing lives in `signing.py`, milestones in `milestones.py`, templates in
`templates.py`; other domains import this module (and `schemas`).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.contracts import documents, templates
from mindlinks.contracts import repository as repo
from mindlinks.contracts.models import (
    Contract,
    ContractMilestone,
    ContractStatus,
    ContractTemplate,
    ContractType,
)
from mindlinks.contracts.schemas import (
    CancelRequest,
    ContractCreate,
    ContractListItem,
    ContractUpdate,
    MilestoneIn,
    TerminateRequest,
)
from mindlinks.contracts.schemas import Contract as ContractOut
from mindlinks.contracts.schemas import Milestone as MilestoneOut
from mindlinks.countries import service as countries
from mindlinks.platform import audit
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from mindlinks.platform.events import emit
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import StorageBackend, download_url, new_key
from mindlinks.platform.uploads import PDF

S = ContractStatus

# action -> {from status: to status}. Signing is per party; the second signature activates.
TRANSITIONS: dict[str, dict[str, str]] = {
    "update": {S.DRAFT: S.DRAFT},
    "send": {S.DRAFT: S.PENDING},
    "sign_client": {S.PENDING: S.CLIENT_SIGNED, S.CONTRACTOR_SIGNED: S.ACTIVE},
    "sign_contractor": {S.PENDING: S.CONTRACTOR_SIGNED, S.CLIENT_SIGNED: S.ACTIVE},
    "cancel": {S.DRAFT: S.CANCELLED, S.PENDING: S.CANCELLED, S.CLIENT_SIGNED: S.CANCELLED,
               S.CONTRACTOR_SIGNED: S.CANCELLED},
    "terminate": {S.ACTIVE: S.TERMINATED},
    "complete": {S.ACTIVE: S.COMPLETED},
}

# The seed's currency list (contract-contracts), plus the currencies of the countries served.
SEED_CURRENCIES = frozenset({"USD", "EUR", "AED", "EGP"})


class ContractNotFound(NotFound):
    code = "contract_not_found"


class ContractorNotLinked(ValidationFailed):
    code = "contractor_not_linked"


class UnsupportedCurrency(ValidationFailed):
    code = "unsupported_currency"


class TemplateMismatch(ValidationFailed):
    code = "template_mismatch"


class MilestonesRequired(ValidationFailed):
    code = "milestones_required"


class MilestoneTotalMismatch(ValidationFailed):
    code = "milestone_total_mismatch"


class InvalidDates(ValidationFailed):
    code = "invalid_dates"


class DocumentNotReady(Conflict):
    code = "document_not_ready"


def next_status(contract: Contract, action: str) -> str:
    """The status `action` leads to from the contract's current one, or 409."""
    target = TRANSITIONS[action].get(contract.status)
    if target is None:
        raise InvalidTransition(f"A contract that is {contract.status} cannot be {action}ed"
                                if not action.startswith("sign") else
                                f"A contract that is {contract.status} cannot be signed by "
                                f"the {action.removeprefix('sign_')}")
    return target


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise PermissionDenied("This action needs another role", code="forbidden_role")


async def get_for(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, *, for_update: bool = False
) -> Contract:
    """The contract if the actor is a party (or an admin); another party's is 404."""
    contract = await repo.get_readable(session, actor, contract_id, for_update=for_update)
    if contract is None:
        raise ContractNotFound("No such contract")
    return contract


async def is_party(session: AsyncSession, actor: Actor, entity_id: str) -> bool:
    """Journal access policy for entity type `contract` (registered in `setup.install`)."""
    try:
        return await repo.is_party(session, actor, uuid.UUID(entity_id))
    except ValueError:
        return False


# --- create / update ------------------------------------------------------------------------


async def _supported_currency(session: AsyncSession, currency: str) -> None:
    served = {c.currency for c in await countries.active_countries(session)}
    if currency not in SEED_CURRENCIES | served:
        raise UnsupportedCurrency(f"{currency} is not a supported contract currency; use one of "
                                  f"{', '.join(sorted(SEED_CURRENCIES | served))}")


def _minor(amount: Decimal, currency: str) -> int:
    return countries.to_minor(amount, currency)


async def _check_template(
    session: AsyncSession, template_id: uuid.UUID, type_: str
) -> ContractTemplate:
    template = await repo.template(session, template_id)
    if template is None:
        raise TemplateMismatch("No such contract template", code="template_not_found")
    if template.type != type_:
        raise TemplateMismatch(f"The template is for {template.type} contracts, not {type_}")
    return template


def _check_terms(
    type_: str, rate_minor: int, currency: str, start: date, end: date | None,
    milestones: Sequence[MilestoneIn] | None,
) -> list[int]:
    if end is not None and end <= start:
        raise InvalidDates("endDate must be after startDate")
    if type_ != ContractType.MILESTONE:
        if milestones:
            raise ValidationFailed("Only milestone contracts have milestones",
                                   code="milestones_not_allowed")
        return []
    if not milestones:
        raise MilestonesRequired("A milestone contract needs at least one milestone")
    amounts = [_minor(m.amount, currency) for m in milestones]
    if sum(amounts) != rate_minor:
        raise MilestoneTotalMismatch("The milestones' amounts must add up to the contract rate")
    return amounts


def _milestone_rows(
    contract: Contract, milestones: Sequence[MilestoneIn], amounts: list[int]
) -> list[ContractMilestone]:
    return [
        ContractMilestone(id=uuid.uuid4(), contract_id=contract.id, position=i, title=m.title,
                          description=m.description, amount_minor=amount, due_date=m.due_date,
                          status="pending", attachments=[])
        for i, (m, amount) in enumerate(zip(milestones, amounts, strict=True))
    ]


async def create_contract(session: AsyncSession, actor: Actor, data: ContractCreate) -> Contract:
    """A client's draft contract with one of its contractors.

    422 when: the contractor is not one of the company's (`contractor_not_linked`), the
    template is unknown or of another type (`template_not_found`/`template_mismatch`), the
    currency is not supported (`unsupported_currency`) or has fewer decimals than the amount
    (`too_many_decimals`), the dates are reversed (`invalid_dates`), a milestone contract has no
    milestones (`milestones_required`) or they do not add up to the rate
    (`milestone_total_mismatch`)."""
    require_role(actor, Role.CLIENT)
    company = await clients.own_company(session, actor)
    if not await clients.is_linked(session, company.id, data.contractor_id):
        raise ContractorNotLinked("This contractor does not work with your company yet")
    contractor_user = await _contractor_user_id(session, data.contractor_id)
    template = await _check_template(session, data.template_id, data.type)
    await _supported_currency(session, data.currency)
    rate = _minor(data.rate, data.currency)
    amounts = _check_terms(data.type, rate, data.currency, data.start_date, data.end_date,
                           data.milestones)
    contract = Contract(
        id=uuid.uuid4(), client_id=company.id, client_user_id=actor.user_id,
        contractor_id=data.contractor_id, contractor_user_id=contractor_user,
        template_id=template.id,
        type=data.type, model=template.model, title=data.title, description=data.description,
        rate_minor=rate, currency=data.currency, frequency=data.frequency,
        start_date=data.start_date, end_date=data.end_date, terms=list(data.terms),
        status=ContractStatus.DRAFT,
    )
    session.add(contract)
    await session.flush()
    session.add_all(_milestone_rows(contract, data.milestones or [], amounts))
    await session.flush()
    await audit.record(session, actor, "contract.created", "contract", contract.id,
                       {"contractorId": str(contract.contractor_id), "type": contract.type})
    return contract


async def _contractor_user_id(session: AsyncSession, contractor_id: uuid.UUID) -> uuid.UUID:
    try:
        return await contractors.user_id_of(session, contractor_id)
    except contractors.ContractorNotFound:
        raise ContractorNotLinked("This contractor does not work with your company yet") from None


async def update_contract(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, data: ContractUpdate
) -> Contract:
    """Change a draft (409 `invalid_transition` once sent); same validations as creation."""
    require_role(actor, Role.CLIENT)
    contract = await get_for(session, actor, contract_id, for_update=True)
    next_status(contract, "update")
    fields = data.model_fields_set
    type_ = data.type or contract.type
    currency = data.currency or contract.currency
    template_id = data.template_id or contract.template_id
    template = await _check_template(session, template_id, type_)
    await _supported_currency(session, currency)
    rate = _minor(data.rate, currency) if data.rate is not None else _minor(
        countries.from_minor(contract.rate_minor, contract.currency), currency)
    start = data.start_date or contract.start_date
    end = data.end_date if "end_date" in fields else contract.end_date
    current = await repo.milestones(session, contract.id)
    if "milestones" in fields:
        milestones: Sequence[MilestoneIn] = data.milestones or []
    else:
        milestones = [MilestoneIn(title=m.title, description=m.description,
                                  amount=countries.from_minor(m.amount_minor, contract.currency),
                                  due_date=m.due_date) for m in current]
    amounts = _check_terms(type_, rate, currency, start, end, milestones)
    contract.type, contract.currency, contract.rate_minor = type_, currency, rate
    contract.template_id, contract.model = template.id, template.model
    contract.start_date, contract.end_date = start, end
    if data.title is not None:
        contract.title = data.title
    if data.description is not None:
        contract.description = data.description
    if data.frequency is not None:
        contract.frequency = data.frequency
    if data.terms is not None:
        contract.terms = list(data.terms)
    for row in current:
        await session.delete(row)
    await session.flush()
    session.add_all(_milestone_rows(contract, milestones, amounts))
    contract.updated_at = utcnow()
    await session.flush()
    await audit.record(session, actor, "contract.updated", "contract", contract.id,
                       {"fields": sorted(fields)})
    return contract


# --- send / cancel / terminate / complete -----------------------------------------------------


async def parties(session: AsyncSession, contract: Contract) -> documents.Parties:
    company = await clients.get_company(session, contract.client_id)
    summary = await contractors.get_summary(session, contract.contractor_id)
    client_name = (company.legal_name if company else None) or "Client"
    return documents.Parties(client_name=client_name, contractor_name=summary.name or "Contractor")


async def send_contract(
    session: AsyncSession, actor: Actor, storage: StorageBackend, contract_id: uuid.UUID
) -> Contract:
    """Render and store the PDF (its SHA-256 kept), `draft -> pending`, and emit
    `contract.ready_for_signature` for the contractor."""
    require_role(actor, Role.CLIENT)
    contract = await get_for(session, actor, contract_id, for_update=True)
    target = next_status(contract, "send")
    template = await repo.template(session, contract.template_id)
    if template is None:  # the FK makes this impossible; keep mypy and readers honest
        raise DocumentNotReady("The contract's template is gone")
    names = await parties(session, contract)
    contract.sent_at = utcnow()
    pdf = documents.render_for_signature(
        contract, template, list(await repo.milestones(session, contract.id)), names
    )
    key = new_key("contracts", contract.id, "document", extension=".pdf")
    await storage.put(key, io.BytesIO(pdf), mime=PDF)
    contract.document_key = key
    contract.document_sha256 = hashlib.sha256(pdf).hexdigest()
    contract.status = target
    await session.flush()
    await audit.record(session, actor, "contract.sent", "contract", contract.id,
                       {"documentHash": contract.document_sha256})
    await emit(session, "contract.ready_for_signature", {
        "contractId": contract.id, "contractorId": contract.contractor_id,
        "userId": contract.contractor_user_id, "clientId": contract.client_id,
        "clientUserId": contract.client_user_id, "clientName": names.client_name,
        "contractTitle": contract.title,
    })
    return contract


async def cancel_contract(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, data: CancelRequest
) -> Contract:
    """The client withdraws a contract that is not active yet."""
    require_role(actor, Role.CLIENT)
    contract = await get_for(session, actor, contract_id, for_update=True)
    contract.status = next_status(contract, "cancel")
    contract.cancelled_at, contract.cancel_reason = utcnow(), data.reason
    await session.flush()
    await audit.record(session, actor, "contract.cancelled", "contract", contract.id, {})
    await emit(session, "contract.cancelled", {
        "contractId": contract.id, "contractorId": contract.contractor_id,
        "userId": contract.contractor_user_id, "clientId": contract.client_id,
    })
    return contract


async def terminate_contract(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID, data: TerminateRequest
) -> Contract:
    """The client ends an active contract as of `effectiveDate` (not before its start)."""
    require_role(actor, Role.CLIENT)
    contract = await get_for(session, actor, contract_id, for_update=True)
    target = next_status(contract, "terminate")
    if data.effective_date < contract.start_date:
        raise InvalidDates("effectiveDate cannot be before the contract's startDate")
    contract.status = target
    contract.terminated_at = utcnow()
    contract.termination_effective_date = data.effective_date
    contract.termination_reason = data.reason
    await repo.delete_schedule_after(session, contract.id, data.effective_date)
    await session.flush()
    await audit.record(session, actor, "contract.terminated", "contract", contract.id,
                       {"effectiveDate": data.effective_date.isoformat()})
    await emit(session, "contract.terminated", {
        "contractId": contract.id, "contractorId": contract.contractor_id,
        "userId": contract.contractor_user_id, "clientId": contract.client_id,
        "effectiveDate": data.effective_date.isoformat(),
    })
    return contract


async def complete_contract(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID
) -> Contract:
    """The client marks an active contract as completed."""
    require_role(actor, Role.CLIENT)
    contract = await get_for(session, actor, contract_id, for_update=True)
    contract.status = next_status(contract, "complete")
    contract.completed_at = utcnow()
    await session.flush()
    await audit.record(session, actor, "contract.completed", "contract", contract.id, {})
    await emit(session, "contract.completed", {
        "contractId": contract.id, "contractorId": contract.contractor_id,
        "userId": contract.contractor_user_id, "clientId": contract.client_id,
    })
    return contract


# --- reading ------------------------------------------------------------------------------


def milestone_out(m: ContractMilestone, currency: str) -> MilestoneOut:
    return MilestoneOut(
        id=m.id, contract_id=m.contract_id, title=m.title, description=m.description,
        amount=countries.from_minor(m.amount_minor, currency), due_date=m.due_date,
        status=m.status, submission_note=m.submission_note, attachments=list(m.attachments),
        submitted_at=m.submitted_at, approved_by=m.approved_by, approved_at=m.approved_at,
        rejection_reason=m.rejection_reason, rejected_at=m.rejected_at,
    )


async def _names(
    session: AsyncSession, storage: StorageBackend, rows: Sequence[Contract]
) -> tuple[dict[uuid.UUID, tuple[str | None, str | None]], dict[uuid.UUID, str | None]]:
    companies: dict[uuid.UUID, tuple[str | None, str | None]] = {}
    for cid in {r.client_id for r in rows}:
        company = await clients.get_company(session, cid)
        if company is None:
            companies[cid] = (None, None)
            continue
        companies[cid] = (company.legal_name, await clients.logo_url(storage, company))
    summaries = await contractors.contractor_summaries(session, list({r.contractor_id
                                                                     for r in rows}))
    return companies, {s.id: s.name for s in summaries}


async def contract_page(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, status: str | None,
    offset: int, limit: int,
) -> tuple[list[ContractListItem], int]:
    """The actor's contracts (contractor: theirs; client: its company's), newest first."""
    rows, total = await repo.page(session, actor, status=status, offset=offset, limit=limit)
    companies, contractor_names = await _names(session, storage, rows)
    upcoming = await repo.next_payment_dates(session, [r.id for r in rows], utcnow().date())
    items = [
        ContractListItem(
            id=r.id, client_id=r.client_id, client_name=companies[r.client_id][0],
            client_logo=companies[r.client_id][1], contractor_id=r.contractor_id,
            contractor_name=contractor_names.get(r.contractor_id), type=r.type, title=r.title,
            rate=countries.from_minor(r.rate_minor, r.currency), currency=r.currency,
            frequency=r.frequency, start_date=r.start_date, end_date=r.end_date,
            status=r.status, signed_by_contractor=r.contractor_signed_at is not None,
            signed_by_client=r.client_signed_at is not None,
            next_payment_date=upcoming.get(r.id) if r.status == S.ACTIVE else None,
            created_at=r.created_at,
        )
        for r in rows
    ]
    return items, total


async def contract_out(
    session: AsyncSession, storage: StorageBackend, contract: Contract
) -> ContractOut:
    companies, contractor_names = await _names(session, storage, [contract])
    upcoming = await repo.next_payment_dates(session, [contract.id], utcnow().date())
    milestones = await repo.milestones(session, contract.id)
    key = contract.signed_document_key or contract.document_key
    pdf_url = (await download_url(storage, key, filename=f"contract-{contract.id}.pdf"))[0] \
        if key else None
    return ContractOut(
        id=contract.id, client_id=contract.client_id,
        client_name=companies[contract.client_id][0], contractor_id=contract.contractor_id,
        contractor_name=contractor_names.get(contract.contractor_id),
        template_id=contract.template_id, type=contract.type, model=contract.model,
        title=contract.title, description=contract.description,
        rate=countries.from_minor(contract.rate_minor, contract.currency),
        currency=contract.currency, frequency=contract.frequency,
        start_date=contract.start_date, end_date=contract.end_date, status=contract.status,
        signed_by_contractor=contract.contractor_signed_at is not None,
        signed_by_client=contract.client_signed_at is not None,
        signed_by_contractor_at=contract.contractor_signed_at,
        signed_by_client_at=contract.client_signed_at, pdf_url=pdf_url,
        document_hash=contract.document_sha256, terms=list(contract.terms),
        milestones=[milestone_out(m, contract.currency) for m in milestones],
        next_payment_date=upcoming.get(contract.id) if contract.status == S.ACTIVE else None,
        cancel_reason=contract.cancel_reason,
        termination_effective_date=contract.termination_effective_date,
        termination_reason=contract.termination_reason,
        created_at=contract.created_at, updated_at=contract.updated_at,
    )


async def download(
    session: AsyncSession, actor: Actor, storage: StorageBackend, contract_id: uuid.UUID
) -> tuple[str, Any]:
    """`(downloadUrl, expiresAt)` (1 h) of the signed PDF once active, else the sent one;
    409 `document_not_ready` for a draft."""
    contract = await get_for(session, actor, contract_id)
    key = contract.signed_document_key or contract.document_key
    if key is None:
        raise DocumentNotReady("The contract has no document until it is sent")
    return await download_url(storage, key, filename=f"contract-{contract.id}.pdf",
                              ttl_seconds=3600)


__all__ = ["TRANSITIONS", "create_contract", "get_for", "is_party", "next_status",
           "send_contract", "templates"]
