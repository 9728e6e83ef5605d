"""The clients domain's public API: companies, their verification, and the contractors
linked to them (invitations: `clients.invitations`; documents: `clients.documents`).

Functions take the session first, then the actor; they flush but never commit, record an
audit line for every state change and emit events through the outbox. A client reaches only
its own company and what hangs off it (another company's document, invitation or contractor
is a 404); administrators review.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth import service as auth
from mindlinks.clients import page_reads as page_reads
from mindlinks.clients import repository as repo
from mindlinks.clients.models import (
    ClientCompany,
    ClientContractor,
    RegistryStatus,
    VerificationStatus,
)
from mindlinks.clients.providers import (
    BusinessRegistry,
    RegistryUnavailable,
    check_company,
    get_registry,
    jurisdiction_for,
    ownership_evidence,
    registry_key,
)
from mindlinks.clients.schemas import (
    ClientContractor as ClientContractorOut,
)
from mindlinks.clients.schemas import (
    Company,
    CompanyCreate,
    CompanyUpdate,
    LogoUploaded,
    ReviewRequest,
)
from mindlinks.countries import service as countries
from mindlinks.platform import audit, crypto
from mindlinks.platform.api import RowWith
from mindlinks.platform.db import after_commit, utcnow
from mindlinks.platform.errors import (
    Conflict,
    ForbiddenRole,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from mindlinks.platform.events import emit
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.states import StateMachine
from mindlinks.platform.storage import StorageBackend, download_url, store_upload, stored_image
from mindlinks.platform.uploads import LOGO, AsyncReadable


class ContractorView(Protocol):
    """What a client may see of a contractor (`contractors.schemas.ContractorSummary`)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def kyc_status(self) -> str: ...
    @property
    def onboarding_status(self) -> str: ...


class HasId(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


class ContractorDirectory(Protocol):
    """What clients needs from the contractors domain. Both sit in one layer and may not import
    each other, so `app.create_app` registers `contractors.service` here at start-up."""

    async def profile_by_user(self, session: AsyncSession, user_id: uuid.UUID) -> HasId | None:
        ...

    async def contractor_summaries(
        self, session: AsyncSession, contractor_ids: Sequence[uuid.UUID]
    ) -> Sequence[ContractorView]: ...


_directory: ContractorDirectory | None = None


def register_contractor_directory(directory: ContractorDirectory) -> None:
    global _directory
    _directory = directory


def contractor_directory() -> ContractorDirectory:
    if _directory is None:
        raise RuntimeError("no contractor directory registered (app.create_app does it)")
    return _directory


class CompanyNotFound(NotFound):
    code, title = "company_not_found", "Company not found"


class LogoNotFound(NotFound):
    code, title = "logo_not_found", "No logo"


class CompanyExists(Conflict):
    code = "company_exists"


class CompanyNotVerified(PermissionDenied):
    code, title = "company_not_verified", "The company is not verified"


class ContractorNotLinked(NotFound):
    code, title = "contractor_not_found", "Contractor not found"


class ReasonRequired(ValidationFailed):
    code, title = "reason_required", "A reason is required"


# Review transitions (DESIGN §4: explicit tables, anything else is 409 invalid_transition).
# An administrator (or a registry match) decides a pending company; changing what identifies
# it sends it back to pending.
COMPANY_STATES = StateMachine({
    VerificationStatus.PENDING: {VerificationStatus.PENDING, VerificationStatus.VERIFIED,
                                 VerificationStatus.REJECTED},
    VerificationStatus.VERIFIED: {VerificationStatus.PENDING},
    VerificationStatus.REJECTED: {VerificationStatus.PENDING},
})

# Fields that identify the company: changing one sends it back to verification.
_IDENTITY_FIELDS = ("legal_name", "country", "tax_id", "company_number")


def _require_client(actor: Actor) -> None:
    if actor.role != Role.CLIENT:
        raise ForbiddenRole("This action needs another role")


# --- companies ------------------------------------------------------------------------------


async def own_company(session: AsyncSession, actor: Actor) -> ClientCompany:
    """The actor's company, or 404 `company_not_found` (also for non-clients)."""
    company = None
    if actor.role == Role.CLIENT:
        company = await repo.company_of_user(session, actor.user_id)
    if company is None:
        raise CompanyNotFound("Register your company first: POST /api/clients/companies")
    return company


async def company_out(
    session: AsyncSession, storage: StorageBackend, company: ClientCompany
) -> Company:
    logo_url = None
    if company.logo_key:
        logo_url, _ = await download_url(storage, company.logo_key)
    return Company.model_validate(RowWith(
        company,
        tax_id=company.tax_id_hint,
        logo_url=logo_url,
    ))


async def _set_tax_id(session: AsyncSession, company: ClientCompany, tax_id: str) -> None:
    value = " ".join(tax_id.split())
    # The company is the encryption subject: erasing it shreds its tax id.
    await crypto.seal(session, company, "tax_id_enc", value, subject_id=company.id)
    company.tax_id_hint = crypto.mask(value) or "****"


CLAIMED_REASON = ("This registry number is already claimed by another account; an "
                  "administrator will review the company.")
UNPROVEN_REASON = ("The registry could not tie this account to the company (no registered "
                   "e-mail domain or officer name matches); an administrator will review it.")


async def _check_registry(
    session: AsyncSession, actor: Actor, registry: BusinessRegistry, company: ClientCompany
) -> None:
    """Look the company up; verify it only when the registry matches, no other account has
    claimed that registry entry, and the registry ties the claimant to the company (a verified
    e-mail at a registered domain, or the account name among the officers). Anything else
    waits for an admin, with the reason; a contested claim also tells the first claimant."""
    now = utcnow()
    jurisdiction = jurisdiction_for(company.country, (company.address or {}).get("state"))
    try:
        result = await check_company(
            registry, legal_name=company.legal_name, jurisdiction=jurisdiction,
            company_number=company.company_number,
        )
    except RegistryUnavailable:
        company.registry_status = RegistryStatus.UNAVAILABLE
        company.registry_checked_at = now
        await audit.record(session, None, "client.company.registry_unavailable",
                           "client_company", company.id, {"registry": registry.name})
        return
    company.registry_status = result.status
    company.registry_checked_at = now
    company.business_registry_data = result.company.as_data() if result.company else None
    company.registry_key = None
    await audit.record(session, None, "client.company.registry_checked", "client_company",
                       company.id, {"registry": registry.name, "result": result.status})
    if result.status != RegistryStatus.MATCHED or result.company is None:
        return
    key = registry_key(result.company)
    await repo.lock_registry_key(session, key)
    company.registry_key = key
    await session.flush()
    earlier = await repo.other_claims(session, key, company.id)
    if earlier:
        company.verification_reason = CLAIMED_REASON
        await audit.record(session, None, "client.company.claim_contested", "client_company",
                           company.id, {"registryKey": key,
                                        "earlierClaims": [str(c.id) for c in earlier]})
        first = earlier[0]  # the first claimant (usually the verified owner) is told
        await emit(session, "client.company.claim_contested",
                   {"clientId": first.id, "clientUserId": first.user_id,
                    "claimantClientId": company.id})
        return
    user = await auth.get_user(session, actor)
    evidence = ownership_evidence(result.company, email=user.email,
                                  email_verified=user.email_verified, name=user.name)
    if evidence is None:
        company.verification_reason = UNPROVEN_REASON
        return
    company.verification_status = VerificationStatus.VERIFIED
    company.verification_reason = None
    company.verified_at = now
    await session.flush()
    await emit(session, "client.company.verified",
               {"clientId": company.id, "userId": company.user_id, "by": "registry",
                "evidence": evidence})


async def register_company(
    session: AsyncSession, actor: Actor, registry: BusinessRegistry, data: CompanyCreate
) -> ClientCompany:
    """Create the client user's company (one per user; a second is 409 `company_exists`).

    The country must be one the platform serves (422 otherwise). The tax id is stored only
    encrypted. The business registry is asked at once: a match in the company's jurisdiction
    verifies the company and fills `businessRegistryData`; anything else leaves it `pending`
    for an administrator's review.
    """
    _require_client(actor)
    if await repo.company_of_user(session, actor.user_id) is not None:
        raise CompanyExists("This account already has a company")
    await countries.require_active(session, data.country)
    company = ClientCompany(
        id=uuid.uuid4(), user_id=actor.user_id, legal_name=data.legal_name.strip(),
        trading_name=data.trading_name, country=data.country,
        business_type=data.business_type, company_number=data.company_number,
        address=data.address.model_dump(by_alias=True), website=data.website,
        verification_status=VerificationStatus.PENDING,
    )
    await _set_tax_id(session, company, data.tax_id)
    session.add(company)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration by the same user won
        raise CompanyExists("This account already has a company") from exc
    await audit.record(session, actor, "client.company.registered", "client_company",
                       company.id, {"country": company.country})
    await emit(session, "client.company.registered",
               {"clientId": company.id, "userId": actor.user_id, "country": company.country})
    await _check_registry(session, actor, registry, company)
    return company


async def update_company(
    session: AsyncSession, actor: Actor, registry: BusinessRegistry, data: CompanyUpdate
) -> ClientCompany:
    """Change the actor's company. A change to its legal name, country, tax id or company
    number sends it back to `pending` and asks the registry again (a verified company that
    renames itself is a different company until checked)."""
    company = await own_company(session, actor)
    changes = data.model_dump(exclude_unset=True)
    for key in ("legal_name", "country", "business_type", "invoice_net_terms_days"):
        if key in changes and changes[key] is None:
            raise ValidationFailed(f"{key} cannot be empty")
    if changes.get("country"):
        await countries.require_active(session, changes["country"])
    identity_changed = False
    if changes.get("tax_id") is not None:
        current = await crypto.unseal(session, company, "tax_id_enc")
        if current != " ".join(changes["tax_id"].split()):
            await _set_tax_id(session, company, changes["tax_id"])
            identity_changed = True
    for key, value in changes.items():
        if key == "tax_id":
            continue
        if key == "address":
            value = data.address.model_dump(by_alias=True) if data.address else None
            if value is None:
                raise ValidationFailed("address cannot be empty")
        if key in _IDENTITY_FIELDS and getattr(company, key) != value:
            identity_changed = True
        setattr(company, key, value)
    fields = sorted(changes)
    if identity_changed:
        company.verification_status = COMPANY_STATES.check(
            company.verification_status, VerificationStatus.PENDING)
        company.verification_reason = None
        company.verified_at = None
        company.registry_status = None
        company.registry_key = None
        company.business_registry_data = None
    await session.flush()
    await audit.record(session, actor, "client.company.updated", "client_company", company.id,
                       {"fields": fields, "reverification": identity_changed})
    await emit(session, "client.company.updated",
               {"clientId": company.id, "fields": fields})
    if identity_changed:
        await _check_registry(session, actor, registry, company)
    return company


async def set_logo(
    session: AsyncSession, actor: Actor, storage: StorageBackend, source: AsyncReadable,
    filename: str | None,
) -> LogoUploaded:
    """Store the company's logo: sniffed JPEG/PNG/WebP, at most 5 MiB and 16 megapixels,
    re-encoded on the CPU pool into a 512 px WebP, fitted uncropped (`uploads.LOGO`); no
    original bytes are kept."""
    company = await own_company(session, actor)
    stored = await store_upload(storage, source, purpose=LOGO,
                                key_prefix=("clients", company.id, "logo"), filename=filename,
                                session=session)
    previous = company.logo_key
    company.logo_key = stored.key
    await session.flush()
    await audit.record(session, actor, "client.company.logo_changed", "client_company",
                       company.id, {"sha256": stored.sha256})
    if previous:
        # Only once the new key is committed: deleted before, a rollback would leave the
        # company pointing at a file that is gone.
        async def _delete_previous() -> None:
            await storage.delete(previous)

        after_commit(session, _delete_previous)
    url, expires_at = await download_url(storage, stored.key)
    return LogoUploaded(logo_url=url, expires_at=expires_at)


async def own_logo(session: AsyncSession, actor: Actor, storage: StorageBackend
                   ) -> tuple[bytes, str]:
    """The actor's company logo, bytes and type, for the pages to serve from their own origin
    (a presigned S3 URL is another origin, which the pages' `img-src 'self'` refuses).
    404 `company_not_found` without a company, `logo_not_found` without a logo."""
    company = await own_company(session, actor)
    if not company.logo_key:
        raise LogoNotFound("No logo uploaded")
    return await stored_image(storage, company.logo_key)


async def logo_url(storage: StorageBackend, company: ClientCompany) -> str | None:
    return await logo_url_of(storage, company.logo_key)


async def logo_url_of(storage: StorageBackend, logo_key: str | None) -> str | None:
    """The signed URL of a company logo by its key (as `company_name_columns` reads it)."""
    if not logo_key:
        return None
    url, _ = await download_url(storage, logo_key)
    return url


def company_name_columns() -> tuple[Any, Any, Any]:
    """`(id, legal_name, logo_key)` columns of the companies' table, for another domain's
    compiled list read that shows each row's company (one LEFT JOIN in its statement instead
    of a second query per page). Read only: the caller's own tenant check decides which of
    its rows it names."""
    columns = ClientCompany.__table__.c
    return columns.id, columns.legal_name, columns.logo_key


async def review_company(
    session: AsyncSession, actor: Actor, company_id: uuid.UUID, data: ReviewRequest
) -> ClientCompany:
    """An administrator verifies or rejects a pending company (a rejection needs a reason).
    A company that is not pending answers 409 `invalid_transition`."""
    if not actor.is_admin:
        raise ForbiddenRole("Administrators only")
    company = await repo.company_by_id(session, company_id)
    if company is None:
        raise CompanyNotFound()
    target = (VerificationStatus.VERIFIED if data.decision == "approve"
              else VerificationStatus.REJECTED)
    COMPANY_STATES.check(company.verification_status, target,
                         f"A {company.verification_status} company cannot be {target}")
    if target == VerificationStatus.REJECTED and not (data.reason or "").strip():
        raise ReasonRequired("A rejection needs a reason")
    now = utcnow()
    company.verification_status = target
    company.verification_reason = (data.reason or "").strip() or None
    company.reviewed_by = actor.user_id
    company.reviewed_at = now
    company.verified_at = now if target == VerificationStatus.VERIFIED else None
    await session.flush()
    await audit.record(session, actor, f"client.company.{target}", "client_company",
                       company.id, {"decision": data.decision})
    await emit(session, f"client.company.{target}",
               {"clientId": company.id, "userId": company.user_id, "by": "admin"})
    return company


async def admin_company(
    session: AsyncSession, actor: Actor, company_id: uuid.UUID
) -> ClientCompany:
    company = await repo.readable_company(session, actor, company_id)
    if company is None:
        raise CompanyNotFound()
    return company


async def admin_companies(
    session: AsyncSession, actor: Actor, *, status: str | None, offset: int, limit: int
) -> tuple[list[ClientCompany], int]:
    if not actor.is_admin:
        raise ForbiddenRole("Administrators only")
    return await repo.company_page(session, actor, status=status, offset=offset, limit=limit)


async def admin_document_counts(session: AsyncSession, actor: Actor,
                                company_ids: Sequence[uuid.UUID]
                                ) -> dict[uuid.UUID, tuple[int, int]]:
    """For the companies queue: each listed company's `(all, pending)` document counts, one
    statement for the whole page (a company without documents is absent)."""
    if not actor.is_admin:
        raise ForbiddenRole("Administrators only")
    return await repo.document_counts(session, company_ids)


# --- contractors of a client ----------------------------------------------------------------


async def link_contractor(
    session: AsyncSession, company: ClientCompany, *, contractor_id: uuid.UUID,
    contractor_user_id: uuid.UUID, invitation_id: uuid.UUID | None,
) -> ClientContractor:
    """Record that the contractor works with the company (idempotent)."""
    existing = await repo.link(session, company.id, contractor_id)
    if existing is not None:
        return existing
    link = ClientContractor(
        id=uuid.uuid4(), client_id=company.id, contractor_id=contractor_id,
        contractor_user_id=contractor_user_id, invitation_id=invitation_id,
    )
    try:
        async with session.begin_nested():
            session.add(link)
    except IntegrityError:
        # Two invitations of one company accepted at once by the same contractor.
        existing = await repo.link(session, company.id, contractor_id)
        if existing is None:
            raise
        return existing
    await audit.record(session, contractor_user_id, "client.contractor.linked",
                       "client_contractor", link.id,
                       {"clientId": str(company.id), "contractorId": str(contractor_id)})
    await emit(session, "client.contractor.linked",
               {"clientId": company.id, "contractorId": contractor_id,
                "invitationId": invitation_id})
    return link


def _contractor_view(
    link: ClientContractor, summary: ContractorView | None
) -> ClientContractorOut:
    return ClientContractorOut(
        id=link.contractor_id, name=summary.name if summary else None,
        country=summary.country if summary else None,
        kyc_status=summary.kyc_status if summary else None,
        onboarding_status=summary.onboarding_status if summary else None,
        linked_at=link.created_at,
    )


async def own_contractors(
    session: AsyncSession, actor: Actor, *, offset: int, limit: int
) -> tuple[list[ClientContractorOut], int]:
    """The actor's contractors with only the client-visible fields (read through
    the contractor directory: name, country, kycStatus, onboardingStatus)."""
    await own_company(session, actor)
    links, total = await repo.link_page(session, actor, offset=offset, limit=limit)
    summaries = {
        s.id: s for s in await contractor_directory().contractor_summaries(
            session, [link.contractor_id for link in links]
        )
    }
    return [_contractor_view(link, summaries.get(link.contractor_id)) for link in links], total


async def own_contractor(
    session: AsyncSession, actor: Actor, contractor_id: uuid.UUID
) -> ClientContractorOut:
    """One of the actor's contractors; a contractor not linked to the actor's company is 404."""
    await own_company(session, actor)
    link = await repo.readable_link(session, actor, contractor_id)
    if link is None:
        raise ContractorNotLinked()
    summaries = await contractor_directory().contractor_summaries(session, [contractor_id])
    return _contractor_view(link, summaries[0] if summaries else None)


async def is_linked(
    session: AsyncSession, client_id: uuid.UUID, contractor_id: uuid.UUID
) -> bool:
    """For other domains (contracts): does the contractor work with this client company?"""
    return await repo.link(session, client_id, contractor_id) is not None


async def client_ids_of_contractor(
    session: AsyncSession, contractor_id: uuid.UUID
) -> Sequence[uuid.UUID]:
    return await repo.client_ids_of_contractor(session, contractor_id)


async def invoice_net_terms(session: AsyncSession, company_id: uuid.UUID) -> int:
    """Days from an invoice's issue to its due date for this company (default 14)."""
    company = await get_company(session, company_id)
    return company.invoice_net_terms_days if company is not None else 14


async def get_company(session: AsyncSession, company_id: uuid.UUID) -> ClientCompany | None:
    """For other domains: the company row by id (no tenant check: the caller has one)."""
    return await repo.company_by_id(session, company_id)


async def get_companies(session: AsyncSession,
                        company_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ClientCompany]:
    """For other domains' lists: the company rows of these ids in one query (no tenant check:
    the caller has one), so a list of N rows does not make N lookups."""
    return {c.id: c for c in await repo.companies_by_ids(session, list(set(company_ids)))}


async def claims(session: AsyncSession, user: Any) -> dict[str, Any]:
    """Claims provider: `clientId` for a client user once the company exists."""
    if user.role != Role.CLIENT:
        return {}
    company = await repo.company_of_user(session, user.id)
    return {"clientId": str(company.id)} if company else {}


# --- administration (web/admin_pages) ------------------------------------------------------


async def company_counts(session: AsyncSession) -> dict[str, int]:
    """Companies per verification status, one grouped query."""
    from sqlalchemy import func, select

    rows = await session.execute(select(ClientCompany.verification_status, func.count())
                                 .group_by(ClientCompany.verification_status))
    return {str(s): int(n) for s, n in rows}


async def document_counts(session: AsyncSession) -> dict[str, int]:
    """Client documents per review status, one grouped query."""
    from sqlalchemy import func, select

    from mindlinks.clients.models import ClientDocument

    rows = await session.execute(select(ClientDocument.status, func.count())
                                 .group_by(ClientDocument.status))
    return {str(s): int(n) for s, n in rows}


async def admin_company_documents(
    session: AsyncSession, actor: Actor, storage: StorageBackend, company_id: uuid.UUID,
    *, offset: int, limit: int,
) -> tuple[list[Any], int]:
    """A company's documents as the API shows them (with signed download links)."""
    from mindlinks.clients import documents  # documents imports this module

    rows, total = await documents.company_documents(session, actor, company_id,
                                                    offset=offset, limit=limit)
    return [await documents.document_out(storage, d) for d in rows], total


async def admin_review_document(
    session: AsyncSession, actor: Actor, document_id: uuid.UUID, data: ReviewRequest
) -> Any:
    from mindlinks.clients import documents

    return await documents.review_document(session, actor, document_id, data)


# --- the client's own documents (web/company_pages) ------------------------------------------


def business_registry(app_state: Any) -> BusinessRegistry:
    """The app's business registry (as the API's routes get it)."""
    return get_registry(app_state)


async def upload_own_document(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, type_: str,
    source: AsyncReadable, filename: str | None,
) -> Any:
    """`POST /api/clients/me/documents`: the same validation, storage and audit."""
    from mindlinks.clients import documents

    return await documents.upload_document(session, actor, storage, type_=type_,
                                           source=source, filename=filename)


async def own_documents_out(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, offset: int, limit: int,
) -> tuple[list[Any], int]:
    """The actor's company documents as the API shows them (with signed download links)."""
    from mindlinks.clients import documents

    rows, total = await documents.own_documents(session, actor, offset=offset, limit=limit)
    return [await documents.document_out(storage, d) for d in rows], total


async def own_document_out(
    session: AsyncSession, actor: Actor, storage: StorageBackend, document_id: uuid.UUID,
) -> Any:
    """One document of the actor's company; another company's is 404 `document_not_found`."""
    from mindlinks.clients import documents

    return await documents.document_out(
        storage, await documents.get_document(session, actor, document_id))


async def admin_documents(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, status: str | None,
    offset: int, limit: int,
) -> tuple[list[tuple[Any, str]], int]:
    """Every company's documents (oldest first: the review queue's order), optionally of one
    status, each as the API shows it (signed download link) with its company's legal name:
    one count and one joined query whatever the number of rows."""
    from sqlalchemy import func, select

    from mindlinks.clients import documents
    from mindlinks.clients.models import ClientDocument

    if not actor.is_admin:
        raise ForbiddenRole("Administrators only")
    where: list[Any] = [] if status is None else [ClientDocument.status == status]
    total = await session.scalar(select(func.count()).select_from(ClientDocument).where(*where))
    rows = await session.execute(
        select(ClientDocument, ClientCompany.legal_name)
        .join(ClientCompany, ClientCompany.id == ClientDocument.client_id).where(*where)
        .order_by(ClientDocument.created_at, ClientDocument.id).offset(offset).limit(limit))
    return [(await documents.document_out(storage, d), name) for d, name in rows], int(total or 0)


# Invitations (web/: the landing and accept pages, the team page): the module the API's
# routes call. It builds on this module, so it is imported last; the pages reach it as
# `service.invitations`.
from mindlinks.clients import invitations as invitations  # noqa: E402
