"""The KYC domain's public API (other domains import this module and `schemas`).

- `require_verified(session, contractor_id)`: the gate contract signing and withdrawals call;
  raises `KycRequired` (403, `kyc_required`) unless the contractor's KYC status is `verified`.
  The source of truth is the contractor profile's `kyc_status` (kept by the contractors domain
  from the `contractor.kyc.completed` event this domain emits).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import service as contractors
from mindlinks.platform.errors import PermissionDenied


class KycRequired(PermissionDenied):
    code, title = "kyc_required", "Identity verification required"


async def require_verified(session: AsyncSession, contractor_id: uuid.UUID) -> None:
    """Return when the contractor's identity is verified; raise `KycRequired` (403,
    `kyc_required`) otherwise, including for an unknown contractor id."""
    try:
        summary = await contractors.get_summary(session, contractor_id)
    except contractors.ContractorNotFound:
        raise KycRequired("Identity verification required") from None
    if summary.kyc_status != "verified":
        raise KycRequired("Identity verification required")
