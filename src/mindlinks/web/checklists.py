"""The onboarding checklists' links: each step goes to the page where it is done.

The contractor's steps are the domain's (`contractors.onboarding.STEPS`, read with the home's
one statement); the client has no onboarding in the domains, so its "getting started" steps
are read here from the company, its contractors and its contracts (two small statements, on
the client's home only). `tests/web/test_checklists.py` follows every link as that role.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.clients import service as clients
from mindlinks.platform.security import Actor
from mindlinks.web.i18n import N_

# contractors.onboarding.STEPS key -> the page that completes it (the profile's is its edit
# form, web/profile_pages.py).
CONTRACTOR_STEP_PAGES = {
    "profile": "/profile",
    "identity": "/kyc",
    "bank_account": "/account/bank-accounts",
    "tax_form": "/account/tax",
    "first_contract": "/contracts",
}
# Not onboarding steps, but what some contracts and countries ask for.
CONTRACTOR_MORE_PAGES = [(N_("Licences and insurance"), "/account/credentials"),
                         (N_("Documents"), "/account/documents")]

CLIENT_STEPS = [
    ("company", N_("Register your company"), "/account/company"),
    ("verified", N_("Get your company verified"), "/account/company/documents"),
    ("team", N_("Invite a contractor"), "/team"),
    ("first_contract", N_("Create your first contract"), "/contracts/new"),
]


async def client_steps(session: AsyncSession, actor: Actor, company: Any | None,
                       contracts_total: int) -> list[SimpleNamespace]:
    """The client's steps (`key`, `title`, `status`, `href`) in order; `company` is the
    client's company as the home already loaded it (None before registration)."""
    team = 0
    if company is not None:
        team = (await clients.own_contractors(session, actor, offset=0, limit=1))[1]
    verification = company.verification_status if company is not None else None
    done = {"company": "completed" if company is not None else "pending",
            "verified": ("completed" if verification == "verified" else
                         "pending" if verification is None else verification),
            "team": "completed" if team else "pending",
            "first_contract": "completed" if contracts_total else "pending"}
    return [SimpleNamespace(key=key, title=title, status=done[key], href=href)
            for key, title, href in CLIENT_STEPS]
