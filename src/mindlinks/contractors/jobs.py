"""Scheduled work of the contractors domain.

`expire_credentials` (daily): licences and insurance policies whose expiration date has passed
become `expired`, W-8 tax forms past their `expiresAt` become `expired`, and each change emits
its event once (`contractor.license.expired`, `contractor.insurance.expired`,
`contractor.tax_info.expired`). Idempotent: a second run the same day finds nothing to do,
because only rows not yet expired are selected (and locked) and each is changed in the same
transaction as its event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import repository as repo
from mindlinks.contractors.credentials import LICENSE_STATES, POLICY_STATES
from mindlinks.contractors.models import CredentialStatus, InsuranceStatus, TaxInfoStatus
from mindlinks.contractors.tax import TAX_INFO_STATES
from mindlinks.platform import audit
from mindlinks.platform.db import Database, utcnow
from mindlinks.platform.events import emit


@dataclass
class ExpiryReport:
    licenses: int = 0
    policies: int = 0
    tax_forms: int = 0


async def expire_credentials_in(session: AsyncSession, today: date | None = None) -> ExpiryReport:
    """Expire what has expired as of `today` (UTC) in the caller's transaction."""
    today = today or utcnow().date()
    report = ExpiryReport()
    licenses = await repo.licenses_to_expire(
        session, today, LICENSE_STATES.sources(CredentialStatus.EXPIRED))
    for lic in licenses:
        lic.status = LICENSE_STATES.after(lic.status, "expire")
        await audit.record(session, None, "contractor.license.expired", "contractor_license",
                           lic.id, {"expirationDate": lic.expiration_date.isoformat()
                                    if lic.expiration_date else None})
        await emit(session, "contractor.license.expired",
                   {"contractorId": lic.contractor_id, "licenseId": lic.id,
                    "expirationDate": lic.expiration_date})
        report.licenses += 1
    policies = await repo.policies_to_expire(
        session, today, POLICY_STATES.sources(InsuranceStatus.EXPIRED))
    for pol in policies:
        pol.verification_status = POLICY_STATES.after(pol.verification_status, "expire")
        pol.last_checked_at = utcnow()
        await audit.record(session, None, "contractor.insurance.expired",
                           "contractor_insurance_policy", pol.id,
                           {"expirationDate": pol.expiration_date.isoformat()})
        await emit(session, "contractor.insurance.expired",
                   {"contractorId": pol.contractor_id, "policyId": pol.id,
                    "expirationDate": pol.expiration_date})
        report.policies += 1
    cutoff = datetime.combine(today, time.min, tzinfo=UTC) - timedelta(microseconds=1)
    forms = await repo.tax_forms_to_expire(
        session, cutoff, TAX_INFO_STATES.sources(TaxInfoStatus.EXPIRED))
    for form in forms:
        form.status = TAX_INFO_STATES.check(form.status, TaxInfoStatus.EXPIRED)
        await audit.record(session, None, "contractor.tax_info.expired", "contractor_tax_info",
                           form.id, {"taxFormType": form.tax_form_type})
        await emit(session, "contractor.tax_info.expired",
                   {"contractorId": form.contractor_id, "taxInfoId": form.id,
                    "taxFormType": form.tax_form_type})
        report.tax_forms += 1
    await session.flush()
    return report


async def expire_credentials(db: Database, today: date | None = None) -> ExpiryReport:
    """The daily job: its own transaction, committed at the end."""
    async with db.session() as session:
        return await expire_credentials_in(session, today)


# Run by `mindlinks jobs run` (every domain's JOBS, bottom of DOMAINS first).
JOBS = {"contractors.expire-credentials": expire_credentials}
