"""The contractors domain's public API (other domains import this module and `schemas`).

- Profiles: created in the registration transaction (`create_for_user`), read and updated by
  their owner only; `contractor.profile.updated` is emitted on every change.
- `set_kyc_status` is how the KYC domain records its verdict.
- `contractor_summaries` / `get_summary`: the limited view a client may see.
- `record_document`, `payout_account`: for contracts, invoices and payments.

Functions take the session first, flush but never commit, audit every state change.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth.service import User
from mindlinks.contractors import (
    banking,
    credential_documents,
    credentials,
    documents,
    onboarding,
    review,
    tax,
)
from mindlinks.contractors import page_reads as page_reads
from mindlinks.contractors import repository as repo
from mindlinks.contractors.identifiers import (
    NameRequired,
    check_timezone,
    invalid,
    masked,
    normalize_phone,
)
from mindlinks.contractors.models import (
    BankAccount,
    ContractorDocument,
    ContractorProfile,
    ContractorStatus,
    KycStatus,
)
from mindlinks.contractors.profiles import ContractorNotFound, own_profile
from mindlinks.contractors.providers import MicroDepositSender, MicroDepositsUnavailable
from mindlinks.contractors.schemas import (
    AddressOut,
    ContractorSummary,
    Document,
    ProfileUpdate,
)
from mindlinks.contractors.schemas import ContractorProfile as ProfileOut
from mindlinks.countries import service as countries
from mindlinks.platform import audit
from mindlinks.platform.api import RowWith
from mindlinks.platform.events import emit
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import (
    StorageBackend,
    StoredFile,
    download_url,
    store_upload,
)
from mindlinks.platform.uploads import AVATAR, AsyncReadable

__all__ = [
    "LICENSE_STATUSES",
    "POLICY_STATUSES",
    "TAX_STATUSES",
    "BankAccount",
    "ContractorNotFound",
    "ContractorStatus",
    "LicenseNotFound",
    "PolicyNotFound",
    "Reviewed",
    "TaxInfoNotFound",
    "contractor_summaries",
    "create_for_user",
    "credential_counts",
    "get_summary",
    "license_detail",
    "license_queue",
    "list_bank_accounts",
    "masked",
    "own_profile",
    "payout_account",
    "payout_account_of",
    "payout_reads",
    "policy_detail",
    "policy_queue",
    "profile_by_user",
    "record_document",
    "review_license",
    "review_policy",
    "review_tax_info",
    "set_kyc_status",
    "tax_detail",
    "tax_queue",
    "user_id_of",
]

payout_account = banking.payout_account
# The withdrawal request reads its checks in one statement of its own (payments).
payout_reads = banking.payout_reads
payout_account_of = banking.payout_account_of
list_bank_accounts = banking.list_accounts

# The owner's bank accounts, tax forms, licences and insurance: the functions the API routes
# call, for the web pages (web/credential_pages.py), so both apply the same rules.
create_bank_account = banking.create_account
verify_bank_account = banking.verify
delete_bank_account = banking.delete
make_primary_bank_account = banking.make_primary
bank_account_out = banking.account_out
latest_tax_info = tax.latest
submit_tax_info = tax.submit
tax_info_out = tax.tax_out
list_licenses = credentials.list_licenses
add_license = credentials.add_license
delete_license = credentials.delete_license
list_policies = credentials.list_policies
add_policy = credentials.add_policy
delete_policy = credentials.delete_policy
get_license = credentials.get_license
get_policy = credentials.get_policy
update_license = credentials.update_license
update_policy = credentials.update_policy
# A licence's or policy's document (credential_documents.py): the API's and the pages' one path.
attach_license_document = credential_documents.attach_license_document
attach_policy_document = credential_documents.attach_policy_document
license_document = credential_documents.license_document
policy_document = credential_documents.policy_document
CredentialDocumentNotFound = credential_documents.CredentialDocumentNotFound


def micro_deposit_sender(app_state: Any) -> MicroDepositSender:
    """The app's micro-deposit sender; 503 `micro_deposits_unavailable` without one (as the
    API's bank-account routes)."""
    sender: MicroDepositSender | None = getattr(app_state, "micro_deposit_sender", None)
    if sender is None:
        raise MicroDepositsUnavailable("No micro-deposit sender is configured")
    return sender


async def own_documents(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, offset: int, limit: int,
) -> tuple[list[Document], int]:
    """The actor's documents with signed download links (`GET .../me/documents`)."""
    profile = await own_profile(session, actor)
    return await documents.page(session, storage, profile.id, offset=offset, limit=limit)


# The administrators' review queues (web/admin_review_pages): reads in review.py, verdicts
# where the API's admin routes make them.
Reviewed = review.Reviewed
TAX_STATUSES, LICENSE_STATUSES, POLICY_STATUSES = (
    review.TAX_STATUSES, review.LICENSE_STATUSES, review.POLICY_STATUSES)
TaxInfoNotFound = tax.TaxInfoNotFound
LicenseNotFound, PolicyNotFound = credentials.LicenseNotFound, credentials.PolicyNotFound
tax_queue, tax_detail, review_tax_info = review.tax_queue, review.tax_detail, tax.review
license_queue, license_detail, review_license = (
    review.license_queue, review.license_detail, credentials.review_license)
policy_queue, policy_detail, review_policy = (
    review.policy_queue, review.policy_detail, credentials.review_policy)
credential_counts = review.pending_counts
credential_document = review.credential_document


# --- registration and claims ------------------------------------------------------------


async def create_for_user(session: AsyncSession, user: User) -> ContractorProfile | None:
    """Registration hook: a contractor account gets its profile in the same transaction, so
    the first access token already carries `contractorId`. Other roles get nothing."""
    if user.role != Role.CONTRACTOR:
        return None
    existing = await repo.profile_by_user(session, user.id)
    if existing is not None:
        return existing
    first, _, last = (user.name or "").strip().partition(" ")
    profile = ContractorProfile(
        id=uuid.uuid4(), user_id=user.id, email=user.email, name=user.name,
        first_name=first or None, last_name=last.strip() or None,
        kyc_status=KycStatus.NOT_STARTED,
    )
    session.add(profile)
    await session.flush()
    await audit.record(session, user.id, "contractor.profile.created", "contractor_profile",
                       profile.id, {})
    return profile


async def claims(session: AsyncSession, user: User) -> dict[str, Any]:
    """Claims provider: `contractorId` and `kycStatus` for contractors."""
    if user.role != Role.CONTRACTOR:
        return {}
    profile = await repo.profile_by_user(session, user.id)
    if profile is None:
        return {}
    return {"contractorId": str(profile.id), "kycStatus": profile.kyc_status}


async def active_users(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Of these users, those with a contractor profile that is not suspended (who may be
    paid)."""
    return await repo.active_users(session, user_ids)


async def profile_by_user(session: AsyncSession, user_id: uuid.UUID) -> ContractorProfile | None:
    return await repo.profile_by_user(session, user_id)


# --- the owner's profile ----------------------------------------------------------------


async def profile_out(
    session: AsyncSession, storage: StorageBackend, profile: ContractorProfile
) -> ProfileOut:
    state = await onboarding.progress(session, profile)
    avatar_url = None
    if profile.avatar_key:
        avatar_url, _ = await download_url(storage, profile.avatar_key)
    return ProfileOut.model_validate(RowWith(
        profile,
        avatar_url=avatar_url,
        onboarding_completed=state.completed,
        onboarding_status=onboarding.status_of(state),
        address=AddressOut(
            line1=profile.address_line1, line2=profile.address_line2,
            city=profile.address_city, state=profile.address_state,
            postal_code=profile.address_postal_code, country=profile.address_country,
        ),
    ))


_ADDRESS_ATTRS = {"line1": "address_line1", "line2": "address_line2", "city": "address_city",
                  "state": "address_state", "postal_code": "address_postal_code",
                  "country": "address_country"}


async def update_profile(
    session: AsyncSession, actor: Actor, data: ProfileUpdate
) -> ContractorProfile:
    """Apply the fields sent. Phone must be E.164-valid, country an active country of the
    country rules, timezone an IANA zone; emits `contractor.profile.updated`."""
    profile = await own_profile(session, actor)
    changes = data.model_dump(exclude_unset=True)
    changed: list[str] = []

    def put(attr: str, value: Any, api_name: str) -> None:
        if getattr(profile, attr) != value:
            setattr(profile, attr, value)
            changed.append(api_name)

    for key in ("first_name", "last_name", "legal_name", "dba_name", "website"):
        if key in changes:
            value = changes[key].strip() if isinstance(changes[key], str) else None
            put(key, value or None, _camel(key))
    if "name" in changes:
        if changes["name"] is None or not changes["name"].strip():
            raise invalid("name", NameRequired, "A name cannot be empty")
        put("name", changes["name"].strip(), "name")
    elif ("first_name" in changes or "last_name" in changes) and (profile.first_name
                                                                 or profile.last_name):
        put("name", " ".join(p for p in (profile.first_name, profile.last_name) if p), "name")
    if "phone" in changes:
        put("phone", normalize_phone(changes["phone"]) if changes["phone"] else None, "phone")
    if "timezone" in changes:
        put("timezone", check_timezone(changes["timezone"]) if changes["timezone"] else None,
            "timezone")
    if "country" in changes:
        code = changes["country"]
        if code:
            code = (await countries.require_active(session, code)).country_code
        put("country", code or None, "country")
    if "address" in changes:
        address = changes["address"] or {}
        for key, attr in _ADDRESS_ATTRS.items():
            if key not in address and changes["address"] is not None:
                continue
            value = address.get(key)
            if key == "country" and value:
                if not countries.is_iso_country(value):
                    raise invalid("address.country", countries.UnknownCountry,
                                  "Not an ISO 3166-1 alpha-2 country code")
                value = value.upper()
            put(attr, value.strip() if isinstance(value, str) and value.strip() else None,
                f"address.{_camel(key)}")
    if changed:
        await session.flush()
        await audit.record(session, actor, "contractor.profile.updated", "contractor_profile",
                           profile.id, {"fields": changed})
        await emit(session, "contractor.profile.updated",
                   {"contractorId": profile.id, "userId": profile.user_id, "fields": changed})
    return profile


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(p.title() for p in rest)


async def set_avatar(
    session: AsyncSession, actor: Actor, storage: StorageBackend, upload: AsyncReadable,
    filename: str | None,
) -> str:
    """Validate, re-encode (512 px WebP) and store the avatar; returns its signed URL. The
    previous avatar file is deleted once the new one is committed."""
    profile = await own_profile(session, actor)
    stored = await store_upload(storage, upload, purpose=AVATAR,
                                key_prefix=("contractors", profile.id, "avatar"),
                                filename=filename, session=session)
    old = profile.avatar_key
    profile.avatar_key = stored.key
    await session.flush()
    if old:
        from mindlinks.platform.db import after_commit

        async def _delete_old() -> None:
            await storage.delete(old)

        after_commit(session, _delete_old)
    await audit.record(session, actor, "contractor.avatar.updated", "contractor_profile",
                       profile.id, {"sha256": stored.sha256})
    await emit(session, "contractor.profile.updated",
               {"contractorId": profile.id, "userId": profile.user_id, "fields": ["avatarUrl"]})
    url, _ = await download_url(storage, stored.key)
    return url


# --- for other domains ------------------------------------------------------------------


async def set_kyc_status(session: AsyncSession, contractor_id: uuid.UUID, status: str) -> None:
    """Record the KYC verdict (`not_started | pending | verified | rejected`) on the profile;
    the onboarding identity step and the `kycStatus` claim of the next token follow it.
    Emits `contractor.profile.updated` when it changes."""
    value = KycStatus(status)
    profile = await repo.profile_by_id(session, contractor_id, for_update=True)
    if profile is None:
        raise ContractorNotFound("No such contractor")
    if profile.kyc_status == value:
        return
    previous = profile.kyc_status
    profile.kyc_status = value
    await session.flush()
    await audit.record(session, None, "contractor.kyc_status.changed", "contractor_profile",
                       profile.id, {"from": previous, "to": str(value)})
    await emit(session, "contractor.profile.updated",
               {"contractorId": profile.id, "userId": profile.user_id, "fields": ["kycStatus"],
                "kycStatus": str(value)})


async def _summary(session: AsyncSession, profile: ContractorProfile) -> ContractorSummary:
    state = await onboarding.progress(session, profile)
    return ContractorSummary(id=profile.id, name=profile.name, country=profile.country,
                             kyc_status=profile.kyc_status,
                             onboarding_status=onboarding.status_of(state))


async def contractor_summaries(
    session: AsyncSession, contractor_ids: Sequence[uuid.UUID]
) -> list[ContractorSummary]:
    """The client-visible view (name, country, kycStatus, onboardingStatus) of these
    contractors, in the order given; unknown ids are skipped. The caller (clients) decides
    which ids the actor may see."""
    by_id = {p.id: p for p in await repo.profiles_by_ids(session, contractor_ids)}
    # Onboarding of the whole list in two queries, not two per contractor.
    states = await onboarding.progress_many(session, list(by_id.values()))
    return [ContractorSummary(id=p.id, name=p.name, country=p.country,
                              kyc_status=p.kyc_status,
                              onboarding_status=onboarding.status_of(states[p.id]))
            for p in (by_id[i] for i in contractor_ids if i in by_id)]


async def get_summary(session: AsyncSession, contractor_id: uuid.UUID) -> ContractorSummary:
    profile = await repo.profile_by_id(session, contractor_id)
    if profile is None:
        raise ContractorNotFound("No such contractor")
    return await _summary(session, profile)


async def user_id_of(session: AsyncSession, contractor_id: uuid.UUID) -> uuid.UUID:
    """For other domains (contracts: notification recipients): the contractor's user account
    id; `ContractorNotFound` for an unknown profile."""
    profile = await repo.profile_by_id(session, contractor_id)
    if profile is None:
        raise ContractorNotFound("No such contractor")
    return profile.user_id


async def contractor_names(session: AsyncSession,
                           contractor_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """Display names of these contractors, for lists that show a name and nothing else (the
    contracts list): one query, without the onboarding reads `contractor_summaries` makes."""
    return {p.id: p.name for p in await repo.profiles_by_ids(session, contractor_ids)}


def contractor_name_columns() -> tuple[Any, Any]:
    """`(id, name)` columns of the profiles' table, for another domain's compiled list read
    that shows each row's contractor name (a LEFT JOIN in its statement: `contractor_names`
    without the second query). Read only: the caller's tenant check decides which rows."""
    columns = ContractorProfile.__table__.c
    return columns.id, columns.name


async def record_document(
    session: AsyncSession, contractor_id: uuid.UUID, *, type_: str, stored: StoredFile,
    entity_id: uuid.UUID | None = None,
) -> ContractorDocument:
    """List a file another domain stored for this contractor (a contract PDF, an invoice)
    among the contractor's documents."""
    return await documents.record(session, contractor_id, type_=type_, stored=stored,
                                  entity_id=entity_id)
