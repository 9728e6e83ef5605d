"""The contracts domain's public API: the contract lifecycle.

States (issue 5 §3): `draft -> pending -> client_signed | contractor_signed -> active ->
completed | terminated`, and `cancelled` from draft, pending or one-party-signed. `TRANSITIONS`
is the only place a status changes; anything else is 409 `invalid_transition`. Every change is
audited. Signing lives in `signing.py`, milestones in `milestones.py`, templates in
`templates.py`, the read models in `views.py`; other domains import this module (and
`schemas`).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.contracts import certificates, documents, templates
from mindlinks.contracts import page_reads as page_reads
from mindlinks.contracts import repository as repo
from mindlinks.contracts.invoicing import (
    BillingContract,
    BillingMilestone,
    DuePeriod,
    billing_contract,
    billing_milestone,
    due_periods,
)
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
    ContractUpdate,
    MilestoneIn,
    SignRequest,
    SignResponse,
    TerminateRequest,
    VerifyReport,
    WorkTerms,
)
from mindlinks.countries import service as countries
from mindlinks.platform import audit
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import (
    Conflict,
    ForbiddenRole,
    NotFound,
    ValidationFailed,
)
from mindlinks.platform.events import emit
from mindlinks.platform.offload import run_cpu
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.states import StateMachine
from mindlinks.platform.storage import StorageBackend, new_key, put_in_transaction
from mindlinks.platform.uploads import PDF
from mindlinks.settings import Settings

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
CONTRACT_STATES = StateMachine.from_actions(TRANSITIONS)

# The seed's currency list (contract-contracts), plus the currencies of the countries served.
SEED_CURRENCIES = frozenset({"USD", "EUR", "AED", "EGP"})


class ContractNotFound(NotFound):
    code = "contract_not_found"


class ContractorNotLinked(ValidationFailed):
    code = "contractor_not_linked"


class UnsupportedCurrency(ValidationFailed):
    code, title = "unsupported_currency", "Unsupported currency"


class TemplateMismatch(ValidationFailed):
    code = "template_mismatch"


class MilestonesRequired(ValidationFailed):
    code = "milestones_required"


class MilestoneTotalMismatch(ValidationFailed):
    code = "milestone_total_mismatch"


class InvalidDates(ValidationFailed):
    code = "invalid_dates"


class ContractTooLong(ValidationFailed):
    code = "contract_too_long"


# A contract ends within this many years of its start: its payment schedule is built when it
# is signed, and an end in year 9999 would overflow the calendar while building it.
MAX_CONTRACT_YEARS = 10


class DocumentNotReady(Conflict):
    code = "document_not_ready"


class UnknownTemplate(ValidationFailed):
    code, title = "unknown_template", "No such contract template"


class MilestonesNotAllowed(ValidationFailed):
    code, title = "milestones_not_allowed", "Milestones not allowed"


def next_status(contract: Contract, action: str) -> str:
    """The status `action` leads to from the contract's current one, or 409."""
    return CONTRACT_STATES.after(
        contract.status, action,
        f"A contract that is {contract.status} cannot be {action}ed"
        if not action.startswith("sign") else
        f"A contract that is {contract.status} cannot be signed by "
        f"the {action.removeprefix('sign_')}",
    )


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise ForbiddenRole("This action needs another role")


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
        raise UnknownTemplate("No such contract template")
    if template.type != type_:
        raise TemplateMismatch(f"The template is for {template.type} contracts, not {type_}")
    return template


def _check_terms(
    type_: str, rate_minor: int, currency: str, start: date, end: date | None,
    milestones: Sequence[MilestoneIn] | None,
) -> list[int]:
    if end is not None and end <= start:
        raise InvalidDates("endDate must be after startDate")
    if end is not None and end > _years_after(start, MAX_CONTRACT_YEARS):
        raise ContractTooLong(f"endDate must be within {MAX_CONTRACT_YEARS} years of startDate")
    if type_ != ContractType.MILESTONE:
        if milestones:
            raise MilestonesNotAllowed("Only milestone contracts have milestones")
        return []
    if not milestones:
        raise MilestonesRequired("A milestone contract needs at least one milestone")
    amounts = [_minor(m.amount, currency) for m in milestones]
    if sum(amounts) != rate_minor:
        raise MilestoneTotalMismatch("The milestones' amounts must add up to the contract rate")
    return amounts


def _years_after(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February in a year that has none
        return date(start.year + years, 3, 1)


def _milestone_rows(
    contract: Contract, milestones: Sequence[MilestoneIn], amounts: list[int]
) -> list[ContractMilestone]:
    return [
        ContractMilestone(id=uuid.uuid4(), contract_id=contract.id, position=i, title=m.title,
                          description=m.description, amount_minor=amount, due_date=m.due_date,
                          status="pending", attachments=[])
        for i, (m, amount) in enumerate(zip(milestones, amounts, strict=True))
    ]


async def _draft(
    session: AsyncSession, actor: Actor, data: ContractCreate
) -> tuple[Contract, ContractTemplate, list[ContractMilestone]]:
    """The draft `data` describes, checked and built but not added to the session: what
    `create_contract` saves and `preview_contract` renders."""
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
    return contract, template, _milestone_rows(contract, data.milestones or [], amounts)


async def create_contract(session: AsyncSession, actor: Actor, data: ContractCreate) -> Contract:
    """A client's draft contract with one of its contractors.

    422 when: the contractor is not one of the company's (`contractor_not_linked`), the
    template is unknown or of another type (`unknown_template`/`template_mismatch`), the
    currency is not supported (`unsupported_currency`) or has fewer decimals than the amount
    (`too_many_decimals`), the dates are reversed (`invalid_dates`), the end is more than
    10 years after the start (`contract_too_long`), a milestone contract has no
    milestones (`milestones_required`) or they do not add up to the rate
    (`milestone_total_mismatch`)."""
    contract, _, milestones = await _draft(session, actor, data)
    session.add(contract)
    await session.flush()
    session.add_all(milestones)
    await session.flush()
    await audit.record(session, actor, "contract.created", "contract", contract.id,
                       {"contractorId": str(contract.contractor_id), "type": contract.type})
    return contract


async def preview_contract(session: AsyncSession, actor: Actor, data: ContractCreate) -> str:
    """The body (Markdown) the PDF would open with if `data` were created and sent now: the
    template rendered with the same values `send_contract` uses. Same checks and errors as
    `create_contract`; nothing is written."""
    contract, template, milestones = await _draft(session, actor, data)
    names = await parties(session, contract)
    return templates.render(template.template_content,
                            documents.template_values(contract, milestones, names))


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
    # Rendering takes a while for a long contract: off the event loop (the rows it reads are
    # loaded; nothing in it touches the session).
    pdf = await run_cpu(documents.render_for_signature, contract, template,
                        list(await repo.milestones(session, contract.id)), names)
    key = new_key("contracts", contract.id, "document", extension=".pdf")
    await put_in_transaction(storage, key, io.BytesIO(pdf), mime=PDF, session=session)
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


# --- for the timesheets domain ----------------------------------------------------------------


def work_terms_of(contract: Contract) -> WorkTerms:
    last_day = contract.end_date
    if contract.status == S.TERMINATED and contract.termination_effective_date is not None:
        effective = contract.termination_effective_date
        last_day = effective if last_day is None else min(last_day, effective)
    return WorkTerms(
        id=contract.id, type=contract.type, status=contract.status, title=contract.title,
        client_id=contract.client_id, client_user_id=contract.client_user_id,
        contractor_id=contract.contractor_id, contractor_user_id=contract.contractor_user_id,
        rate_minor=contract.rate_minor, currency=contract.currency,
        start_date=contract.start_date, last_day=last_day,
    )


async def get_for_timesheets(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID
) -> WorkTerms:
    """The contract's work terms if the actor is a party (404 `contract_not_found` otherwise,
    like every other contract read)."""
    return work_terms_of(await get_for(session, actor, contract_id))


async def hourly_work_terms(session: AsyncSession, since: date) -> list[WorkTerms]:
    """Hourly contracts on which work is being done: active, or terminated with an effective
    date on or after `since`."""
    return [work_terms_of(c) for c in await repo.hourly_working(session, since)]


# --- for the web dashboards -------------------------------------------------------------------
# The pages call the same functions as the API's routes, through this module (the public API);
# the templates they offer come from `list_templates` below.


async def sign(
    session: AsyncSession, actor: Actor, storage: StorageBackend, settings: Settings,
    secret: bytes, contract_id: uuid.UUID, data: SignRequest,
) -> SignResponse:
    """`POST /api/contracts/{id}/sign`: see `signing.sign`."""
    from mindlinks.contracts import signing  # signing imports this module: not at the top

    return await signing.sign(session, actor, storage, settings, secret, contract_id, data)


async def verify(
    session: AsyncSession, actor: Actor, storage: StorageBackend, settings: Settings,
    contract_id: uuid.UUID,
) -> VerifyReport:
    """`GET /api/contracts/{id}/verify`: see `signing.verify`."""
    from mindlinks.contracts import signing

    return await signing.verify(session, actor, storage, settings, contract_id)


async def document(
    session: AsyncSession, actor: Actor, storage: StorageBackend, contract_id: uuid.UUID
) -> bytes:
    """The PDF `GET /api/contracts/{id}/download` links to: the signed one once active, else
    the one sent; 404 for another party's contract, 409 `document_not_ready` for a draft."""
    _, key = await document_of(session, actor, contract_id)
    return await storage.get(key)


def document_key(contract: Contract) -> str | None:
    """The contract's current PDF: the signed one once active, else the one sent (None for a
    draft). The download link, the API's `pdfUrl` and the pages' stream all serve this one."""
    return contract.signed_document_key or contract.document_key


async def document_of(
    session: AsyncSession, actor: Actor, contract_id: uuid.UUID
) -> tuple[Contract, str]:
    """The actor's contract and its current PDF's key: 404 for another party's contract, 409
    `document_not_ready` for a draft."""
    contract = await get_for(session, actor, contract_id)
    key = document_key(contract)
    if key is None:
        raise DocumentNotReady("The contract has no document until it is sent")
    return contract, key


# Contract templates for the admin screens (web/admin_ops_pages), as the API's admin routes.
TemplateNotFound, TemplateInUse = templates.TemplateNotFound, templates.TemplateInUse
TEMPLATE_VARIABLES = templates.KNOWN_VARIABLES
list_templates, get_template = templates.list_templates, templates.get_template
create_template, update_template = templates.create_template, templates.update_template
delete_template = templates.delete_template

# For invoices: the same platform certificate PAdES-signs invoice PDFs.
platform_signer = certificates.platform_signer
pdf_signature_valid = certificates.pdf_signature_valid

__all__ = ["TEMPLATE_VARIABLES", "TRANSITIONS", "BillingContract", "BillingMilestone",
           "DuePeriod", "TemplateInUse", "TemplateNotFound", "billing_contract",
           "billing_milestone", "create_contract", "create_template", "delete_template",
           "document", "document_key", "document_of", "due_periods", "get_for",
           "get_for_timesheets", "get_template",
           "hourly_work_terms", "is_party", "list_templates", "next_status",
           "pdf_signature_valid", "platform_signer", "preview_contract", "send_contract", "sign",
           "update_template", "verify"]


# The dashboards' read models and milestone actions (web/): the modules the API's routes call.
# They build on this module (each imports names defined above), so they are imported last; the
# pages reach them as `service.views` / `service.milestones`.
from mindlinks.contracts import milestones as milestones  # noqa: E402
from mindlinks.contracts import views as views  # noqa: E402
