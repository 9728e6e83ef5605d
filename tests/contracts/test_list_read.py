"""The API's contract lists are one compiled statement (`repository.list_rows`) served by orjson
(`views.contract_list_response`). They must answer exactly what the ORM read model
(`views.contract_page`, still used by the web pages) builds - names, logo, rate, signature
flags, next payment date, filters, pages, totals - and only ever the caller's contracts."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
from PIL import Image

from mindlinks.contracts import repository, views
from mindlinks.contracts.schemas import ContractListItem
from mindlinks.platform.api import Page, PageParams
from mindlinks.platform.db import utcnow
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import get_storage
from tests.contracts.conftest import Party, fixed_template, flow, make_party, party  # noqa: F401

STATUSES = [None, "draft", "pending", "active", "cancelled", "terminated", "completed"]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _actor(who: Party, role: str) -> Actor:
    account = who.client if role == "client" else who.contractor
    return Actor(user_id=uuid.UUID(account.user_id), email="x@example.com", role=Role(role),
                 contractor_id=uuid.UUID(who.contractor_id) if role == "contractor" else None)


async def _orm_page(app: Any, actor: Actor, status: str | None, page: int,
                    limit: int) -> dict[str, Any]:
    params = PageParams(page, limit)
    async with app.state.db.session() as session:
        items, total = await views.contract_page(session, actor, get_storage(app.state),
                                                 status=status, offset=params.offset,
                                                 limit=params.limit)
    built = Page[ContractListItem].build(items, total, params)
    return built.model_dump(mode="json", by_alias=True)  # type: ignore[no-any-return]


async def _mixed_contracts(client: httpx.AsyncClient, who: Party, template_id: str,
                           driver: Any) -> None:
    # Future dates, so the active contract has a next scheduled payment whatever today is.
    future = {"startDate": "2040-01-01", "endDate": "2040-12-31"}
    await driver.active(who, template_id, title="Active one", **future)
    # Terminated: its schedule up to the effective date stays, but it has no next payment.
    ended = await driver.active(who, template_id, title="Terminated", rate=1234.5, **future)
    response = await client.post(f"/api/contracts/{ended['id']}/terminate",
                                 json={"effectiveDate": "2040-06-30", "reason": "Done"},
                                 headers=who.client.headers)
    assert response.status_code == 200, response.text
    await driver.sent(who, template_id, title="Sent")
    await driver.create(who, template_id, title="Draft", rate=99.99)
    cancelled = await driver.create(who, template_id, title="Cancelled")
    response = await client.post(f"/api/contracts/{cancelled['id']}/cancel",
                                 json={"reason": "Not needed"}, headers=who.client.headers)
    assert response.status_code == 200, response.text


async def test_the_compiled_list_answers_what_the_read_model_builds(
    app: Any, client: httpx.AsyncClient, party: Party, make_party: Any,  # noqa: F811
    fixed_template: dict[str, Any], flow: Any,  # noqa: F811
):
    get_storage(app.state).signer.clock = lambda: 2_000_000_000.0  # same signed logo URLs
    logo = await client.post("/api/clients/me/logo", headers=party.client.headers,
                             files={"file": ("logo.png", _png(), "image/png")})
    assert logo.status_code == 200, logo.text
    await _mixed_contracts(client, party, fixed_template["id"], flow)
    other = await make_party(legal_name="Other Co", contractor_name="Bob")
    await flow.create(other, fixed_template["id"], title="Not theirs")
    compared = 0
    for role in ("client", "contractor"):
        account = party.client if role == "client" else party.contractor
        for status in STATUSES:
            for page, limit in ((1, 20), (1, 2), (2, 2), (3, 2), (9, 2)):
                params: dict[str, Any] = {"page": page, "limit": limit}
                if status:
                    params["status"] = status
                response = await client.get(f"/api/contracts/{role}/me", params=params,
                                            headers=account.headers)
                assert response.status_code == 200, response.text
                expected = await _orm_page(app, _actor(party, role), status, page, limit)
                assert response.json() == expected, (role, status, page, limit)
                compared += len(expected["data"])
    body = (await client.get("/api/contracts/contractor/me",
                             headers=party.contractor.headers)).json()
    # The comparison saw every kind of row, not only empty pages.
    assert compared > 20 and body["meta"]["total"] == 5
    by_title = {c["title"]: c for c in body["data"]}
    assert by_title["Active one"]["nextPaymentDate"] is not None
    assert by_title["Sent"]["nextPaymentDate"] is None
    assert by_title["Terminated"]["nextPaymentDate"] is None
    assert by_title["Terminated"]["rate"] == 1234.5
    assert by_title["Draft"]["clientName"] == "Acme Widgets Ltd"
    assert by_title["Draft"]["contractorName"] == "Ada Lovelace"
    assert by_title["Draft"]["clientLogo"]
    assert by_title["Active one"]["signedByClient"] and by_title["Active one"]["signedByContractor"]
    assert not by_title["Sent"]["signedByClient"]
    assert [c["title"] for c in body["data"]] == ["Cancelled", "Draft", "Sent", "Terminated",
                                                  "Active one"]  # newest first


async def test_another_tenants_contracts_are_not_listed(
    client: httpx.AsyncClient, party: Party, make_party: Any,  # noqa: F811
    fixed_template: dict[str, Any], flow: Any,  # noqa: F811
):
    mine = {(await flow.create(party, fixed_template["id"]))["id"] for _ in range(2)}
    other = await make_party(legal_name="Other Co", contractor_name="Bob")
    theirs = {(await flow.create(other, fixed_template["id"]))["id"] for _ in range(3)}
    for who, expected in ((party, mine), (other, theirs)):
        for role, account in (("client", who.client), ("contractor", who.contractor)):
            body = (await client.get(f"/api/contracts/{role}/me",
                                     headers=account.headers)).json()
            assert {c["id"] for c in body["data"]} == expected, role
            assert body["meta"]["total"] == len(expected)
            filtered = (await client.get(f"/api/contracts/{role}/me",
                                         params={"status": "draft"},
                                         headers=account.headers)).json()
            assert {c["id"] for c in filtered["data"]} == expected
    # A role-gated route: a contractor cannot read the client list, and the reverse.
    assert (await client.get("/api/contracts/client/me",
                             headers=party.contractor.headers)).status_code == 403
    assert (await client.get("/api/contracts/contractor/me",
                             headers=party.client.headers)).status_code == 403


async def test_the_scope_is_the_read_models_scope(
    app: Any, party: Party, fixed_template: dict[str, Any], flow: Any,  # noqa: F811
):
    """`list_scope` mirrors `readable` for actors the routes never let through: a contractor
    without a profile and an administrator without MFA see nothing, one with MFA all."""
    await flow.create(party, fixed_template["id"])
    db = app.state.db
    user = uuid.UUID(party.client.user_id)
    nobody = [Actor(user_id=user, email="x@example.com", role=Role.CONTRACTOR),
              Actor(user_id=user, email="x@example.com", role=Role.ADMIN, amr=("pwd",))]
    for actor in nobody:
        assert await repository.list_rows(db, actor, status=None, today=utcnow().date(),
                                          offset=0, limit=20) == ([], 0)
    admin = Actor(user_id=user, email="x@example.com", role=Role.ADMIN, amr=("pwd", "otp"))
    rows, total = await repository.list_rows(db, admin, status=None, today=utcnow().date(),
                                             offset=0, limit=20)
    assert total == 1 and len(rows) == 1
