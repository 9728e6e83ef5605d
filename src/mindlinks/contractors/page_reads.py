"""The contractor home's part of the contractors domain, as Core to compose (no I/O here):
the profile row with its onboarding facts, and the checklist computed from that row by the
onboarding rules themselves (`onboarding._states_of`), so the page and
`GET /api/contractors/me/onboarding` cannot disagree.

The web page joins this with the other domains' parts into one statement (`web/home.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from sqlalchemy import ColumnElement, Subquery, exists, select

from mindlinks.contractors import onboarding
from mindlinks.contractors.models import (
    BankAccount,
    BankVerificationStatus,
    ContractorProfile,
    TaxInfo,
)

_P = ContractorProfile.__table__.c
_B = BankAccount.__table__.c
_T = TaxInfo.__table__.c
# The profile's own columns the checklist and the page read.
PROFILE_COLUMNS = ("id", "kyc_status", "first_contract_signed_at",
                   *(attr for _, attr in onboarding.PROFILE_FIELDS))


def home_profile(user_id: ColumnElement[Any]) -> Subquery:
    """One row (none without a profile): PROFILE_COLUMNS, `bank_usable` / `bank_any` (live bank
    accounts: a verified one without a name mismatch / any) and `tax_status` (the latest
    submission's). Each fact is an indexed lookup of this contractor's rows."""
    live = [_B.contractor_id == _P.id, _B.deleted_at.is_(None)]
    usable = exists().where(*live, _B.status == BankVerificationStatus.VERIFIED,
                            _B.name_mismatch.is_(False))
    tax = (select(_T.status).where(_T.contractor_id == _P.id)
           .order_by(_T.submitted_at.desc(), _T.id).limit(1).scalar_subquery())
    return (select(*(_P[c] for c in PROFILE_COLUMNS), usable.label("bank_usable"),
                   exists().where(*live).label("bank_any"), tax.label("tax_status"))
            .where(_P.user_id == user_id).subquery("profile"))


def home_checklist(row: Mapping[str, Any]) -> list[SimpleNamespace]:
    """The onboarding steps (`key`, `title`, `status`) of a `home_profile` row. The rules only
    look at whether a usable / any account exists and at the latest tax form's status, which
    the row carries; stand-ins of that shape go through the same function as the API's."""
    profile = SimpleNamespace(**{c: row[c] for c in PROFILE_COLUMNS})
    accounts = ([SimpleNamespace(status=BankVerificationStatus.VERIFIED, name_mismatch=False)]
                if row["bank_usable"] else
                [SimpleNamespace(status=BankVerificationStatus.PENDING, name_mismatch=False)]
                if row["bank_any"] else [])
    tax = None if row["tax_status"] is None else SimpleNamespace(status=row["tax_status"],
                                                                  review_reason="")
    states = onboarding._states_of(profile, accounts, tax)  # type: ignore[arg-type]
    return [SimpleNamespace(key=key, title=title, status=states[key].status)
            for key, title in onboarding.STEPS]


def profile_status(steps: list[SimpleNamespace]) -> str:
    """`onboarding.status_of` of these steps (seed 002's `onboardingStatus`)."""
    done = sum(s.status == "completed" for s in steps)
    return "completed" if done == len(steps) else "in_progress" if done else "pending"
