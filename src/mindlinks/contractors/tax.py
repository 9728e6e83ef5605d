"""Tax information: the tax id (encrypted, masked), residence, and the signed US tax form.

The form is derived, not chosen: `W-9` for US persons, `W-8BEN` for non-US individuals,
`W-8BEN-E` for non-US entities; a `taxFormType` sent that disagrees is a 422. W-8 forms expire
at the end of the third calendar year after signing (IRS rule). Each submission is
`pending_review` until an admin approves or rejects it (`review`); the latest one counts.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

import pycountry
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import documents
from mindlinks.contractors import repository as repo
from mindlinks.contractors.identifiers import (
    InvalidTaxId,
    ReasonRequired,
    TaxFormMismatch,
    invalid,
    last4,
    masked,
)
from mindlinks.contractors.models import TaxInfo, TaxInfoStatus
from mindlinks.contractors.profiles import own_profile
from mindlinks.contractors.schemas import TaxInfo as TaxInfoOut
from mindlinks.countries import service as countries
from mindlinks.platform import audit
from mindlinks.platform.api import RowWith
from mindlinks.platform.crypto import seal
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import NotFound
from mindlinks.platform.events import emit
from mindlinks.platform.security import Actor
from mindlinks.platform.states import StateMachine
from mindlinks.platform.storage import StorageBackend, download_url, store_upload
from mindlinks.platform.uploads import DOCUMENT, AsyncReadable

T = TaxInfoStatus
TAX_INFO_STATES = StateMachine({
    T.PENDING_REVIEW: {T.APPROVED, T.REJECTED, T.EXPIRED},
    T.APPROVED: {T.EXPIRED},  # a W-8 lapses three years after signing (jobs.py)
})


class TaxInfoNotFound(NotFound):
    code = "tax_info_not_found"


def required_form(tax_country: str, entity_type: str) -> str:
    if tax_country == "US":
        return "W-9"
    return "W-8BEN-E" if entity_type == "entity" else "W-8BEN"


def w8_expiry(signed_on: date) -> datetime:
    """End of the third calendar year after the year of signing."""
    return datetime(signed_on.year + 3, 12, 31, 23, 59, 59, tzinfo=UTC)


def resolve_country(value: str, field: str = "taxCountry") -> str:
    """An ISO alpha-2 code from a code or an English country name (seed 000 sends "Egypt")."""
    text = value.strip()
    try:
        country = pycountry.countries.lookup(text)
    except LookupError as exc:
        raise invalid(field, countries.UnknownCountry, "Unknown country") from exc
    return str(country.alpha_2)


def check_tax_id(tax_id: str, tax_country: str) -> str:
    value = tax_id.strip()
    if tax_country == "US":
        digits = re.sub(r"[\s-]", "", value)
        # SSN / ITIN / EIN: nine digits, never all zeros or a 000/666/9xx-style area for SSNs
        # is left to the IRS matching; we check the shape.
        if not re.fullmatch(r"\d{9}", digits) or digits == "000000000":
            raise invalid("taxId", InvalidTaxId, "A US tax id (SSN, ITIN or EIN) has 9 digits")
        return digits
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z ./-]{2,39}", value):
        raise invalid("taxId", InvalidTaxId, "A tax id is 3 to 40 letters, digits or - / .")
    return value.upper()


async def tax_out(storage: StorageBackend, session: AsyncSession, info: TaxInfo) -> TaxInfoOut:
    from mindlinks.contractors.models import ContractorDocument

    doc = await session.get(ContractorDocument, info.document_id)
    url = expires = None
    if doc is not None:
        url, expires = await download_url(storage, doc.storage_key, filename=doc.original_name)
    return TaxInfoOut.model_validate(RowWith(
        info,
        tax_id=masked(info.tax_id_last4) or "****",
        tax_form_url=url,
        tax_form_url_expires_at=expires,
    ))


async def latest(session: AsyncSession, actor: Actor) -> TaxInfo:
    profile = await own_profile(session, actor)
    info = await repo.latest_tax_info(session, profile.id)
    if info is None:
        raise TaxInfoNotFound("No tax information submitted yet")
    return info


async def submit(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, tax_id: str,
    tax_country: str, entity_type: str, tax_form_type: str | None, upload: AsyncReadable,
    filename: str | None,
) -> TaxInfo:
    """Store the signed form (validated: PDF/JPEG/PNG by content, size-limited) and a new
    `pending_review` submission; emits `contractor.tax_info.submitted`."""
    profile = await own_profile(session, actor)
    country = resolve_country(tax_country)
    form = required_form(country, entity_type)
    if tax_form_type and tax_form_type != form:
        raise invalid("taxFormType", TaxFormMismatch,
                      f"A {'US person' if country == 'US' else entity_type} files {form}, "
                      f"not {tax_form_type}")
    clean_id = check_tax_id(tax_id, country)
    stored = await store_upload(storage, upload, purpose=DOCUMENT,
                                key_prefix=("contractors", profile.id, "tax"), filename=filename,
                                session=session)
    info_id = uuid.uuid4()
    doc = await documents.record(session, profile.id, type_="tax_form", stored=stored,
                                 entity_id=info_id)
    now = utcnow()
    signed_on = now.date()
    info = TaxInfo(
        id=info_id, contractor_id=profile.id, tax_id_last4=last4(clean_id),
        tax_country=country, entity_type=entity_type, tax_form_type=form,
        document_id=doc.id, status=TaxInfoStatus.PENDING_REVIEW, submitted_at=now,
        signed_on=signed_on, expires_at=None if form == "W-9" else w8_expiry(signed_on),
    )
    await seal(session, info, "tax_id_enc", clean_id, subject_id=profile.id)
    session.add(info)
    await session.flush()
    await audit.record(session, actor, "contractor.tax_info.submitted", "contractor_tax_info",
                       info.id, {"taxFormType": form, "taxCountry": country,
                                 "sha256": stored.sha256})
    await emit(session, "contractor.tax_info.submitted",
               {"contractorId": profile.id, "taxInfoId": info.id, "taxFormType": form})
    return info


async def review(
    session: AsyncSession, actor: Actor, tax_info_id: uuid.UUID, decision: str,
    reason: str | None,
) -> TaxInfo:
    """Admin verdict on a `pending_review` submission (409 otherwise); a rejection needs a
    reason. Emits `contractor.tax_info.reviewed`."""
    info = await repo.tax_info_by_id(session, tax_info_id, for_update=True)
    if info is None:
        raise TaxInfoNotFound("No such tax information")
    TAX_INFO_STATES.check(info.status, decision,
                          f"This submission is {info.status}, not pending review")
    if decision == TaxInfoStatus.REJECTED and not (reason and reason.strip()):
        raise invalid("reason", ReasonRequired, "A rejection needs a reason")
    info.status = TaxInfoStatus(decision)
    info.reviewed_at = utcnow()
    info.reviewed_by = actor.user_id
    info.review_reason = reason.strip() if reason else None
    await session.flush()
    await audit.record(session, actor, "contractor.tax_info.reviewed", "contractor_tax_info",
                       info.id, {"decision": decision})
    await emit(session, "contractor.tax_info.reviewed",
               {"contractorId": info.contractor_id, "taxInfoId": info.id, "decision": decision})
    return info
