"""The administrators' review queues of the contractors domain (`contractors.service`:
`tax_queue`, `license_queue`, `policy_queue`, their details and `credential_counts`), the
reviewer's reason kept in the licence/policy audit line, and the other domains' small admin
reads the admin screens use (`clients.service.admin_documents`, `platform.alerts`)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.platform import alerts, audit
from mindlinks.platform.errors import ForbiddenRole
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import get_storage
from tests.clients.conftest import UNKNOWN_COMPANY, make_client
from tests.factories import Account, register
from tests.platform.samples import MINIMAL_PDF
from tests.web.test_admin_review_pages import licence, policy, tax_form

__all__ = ["make_client"]
ADMIN = Actor(user_id=uuid.uuid4(), email="admin@example.com", role=Role.ADMIN,
              amr=("pwd", "otp"))


async def test_queues_list_every_contractors_items_by_status_with_the_name(
    app: Any, client: httpx.AsyncClient
):
    ada = Account(await register(client, "contractor", name="Ada Queue"))
    bob = Account(await register(client, "contractor", name="Bob Queue"))
    first = await tax_form(client, ada)
    await tax_form(client, bob)
    for who, n in ((ada, "1"), (bob, "2")):
        await licence(client, who, f"L-{n}")
        await policy(client, who, f"P-{n}")
    async with app.state.db.session() as session:
        rows, total = await contractors.tax_queue(session, ADMIN, status="pending_review",
                                                  offset=0, limit=10)
        assert total == 2 and [r.contractor_name for r in rows] == ["Ada Queue", "Bob Queue"]
        one, total = await contractors.tax_queue(session, ADMIN, status=None, offset=1,
                                                 limit=1)
        assert total == 2 and one[0].contractor_name == "Bob Queue"
        none, total = await contractors.tax_queue(session, ADMIN, status="approved",
                                                  offset=0, limit=10)
        assert (none, total) == ([], 0)
        detail = await contractors.tax_detail(session, ADMIN, get_storage(app.state),
                                              uuid.UUID(first["id"]))
        assert detail.item.tax_id == "****4567" and "sig=" in (detail.item.tax_form_url or "")
        lic, total = await contractors.license_queue(session, ADMIN, status="unverified",
                                                     offset=0, limit=10)
        assert total == 2 and {r.item.license_number for r in lic} == {"L-1", "L-2"}
        pol, total = await contractors.policy_queue(session, ADMIN, status="pending",
                                                    offset=0, limit=10)
        assert total == 2 and {r.contractor_email for r in pol} == {ada.email, bob.email}
        assert await contractors.credential_counts(session) == {
            "tax_forms": 2, "licenses": 2, "policies": 2}
        with pytest.raises(contractors.LicenseNotFound):
            await contractors.license_detail(session, ADMIN, uuid.uuid4())
        with pytest.raises(contractors.PolicyNotFound):
            await contractors.policy_detail(session, ADMIN, uuid.uuid4())
        with pytest.raises(contractors.TaxInfoNotFound):
            await contractors.tax_detail(session, ADMIN, get_storage(app.state), uuid.uuid4())


async def test_queues_are_for_administrators_only(app: Any, client: httpx.AsyncClient):
    who = Account(await register(client, "contractor"))
    lic = await licence(client, who)
    me = Actor(user_id=uuid.UUID(who.user_id), email=who.email, role=Role.CONTRACTOR)
    async with app.state.db.session() as session:
        with pytest.raises(ForbiddenRole):
            await contractors.tax_queue(session, me, status=None, offset=0, limit=10)
        with pytest.raises(ForbiddenRole):
            await contractors.license_queue(session, me, status=None, offset=0, limit=10)
        with pytest.raises(ForbiddenRole):
            await contractors.policy_queue(session, me, status=None, offset=0, limit=10)
        with pytest.raises(ForbiddenRole):
            await contractors.license_detail(session, me, uuid.UUID(lic))
        with pytest.raises(ForbiddenRole):
            await clients.admin_documents(session, me, get_storage(app.state), status=None,
                                          offset=0, limit=10)


async def test_the_reviewers_reason_is_audited_and_the_api_review_stays_as_it_was(
    app: Any, client: httpx.AsyncClient
):
    who = Account(await register(client, "contractor"))
    with_reason, without = await licence(client, who, "R-1"), await licence(client, who, "R-2")
    async with app.state.db.session() as session:
        await contractors.review_license(session, ADMIN, uuid.UUID(with_reason), "verified",
                                         "  Checked on the register  ")
        await contractors.review_license(session, ADMIN, uuid.UUID(without), "unverified")
        [a], _ = await audit.search(session, action="contractor.license.reviewed",
                                    entity_id=with_reason)
        [b], _ = await audit.search(session, action="contractor.license.reviewed",
                                    entity_id=without)
    assert a.details == {"decision": "verified", "reason": "Checked on the register"}
    assert b.details == {"decision": "unverified"}


async def test_admin_documents_join_the_company_and_filter_by_status(
    app: Any, client: httpx.AsyncClient, make_client: Any
):
    account, _company = await make_client(UNKNOWN_COMPANY)
    for name in ("a.pdf", "b.pdf"):
        uploaded = await client.post(
            "/api/clients/me/documents", headers=account.headers, data={"type": "other"},
            files={"file": (name, MINIMAL_PDF, "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
    async with app.state.db.session() as session:
        rows, total = await clients.admin_documents(session, ADMIN, get_storage(app.state),
                                                    status="pending", offset=0, limit=10)
        assert total == 2 and [d.name for d, _ in rows] == ["a.pdf", "b.pdf"]
        assert {company for _, company in rows} == {"Nobody Knows Us Ltd"}
        assert all("sig=" in d.download_url for d, _ in rows)
        assert (await clients.admin_documents(session, ADMIN, get_storage(app.state),
                                              status="approved", offset=0, limit=10))[1] == 0


async def test_alerts_open_resolved_and_counted(app: Any):
    async with app.state.db.session() as session:
        one = await alerts.raise_alert(session, source="s", kind="k", key="q-1", summary="one")
        await alerts.raise_alert(session, source="s", kind="k", key="q-2", summary="two")
        assert one is not None and await alerts.count_open(session) == 2
        assert await alerts.resolve(session, one.id)
        assert await alerts.count_open(session) == 1
        resolved, total = await alerts.open_alerts(session, resolved_only=True)
        assert total == 1 and [a.key for a in resolved] == ["q-1"]
        opened, _ = await alerts.open_alerts(session)
        assert [a.key for a in opened] == ["q-2"]
        _rows, everything = await alerts.open_alerts(session, include_resolved=True)
        assert everything == 2
