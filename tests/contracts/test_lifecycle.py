"""The contract lifecycle through the API: create, update, send, cancel, terminate, complete,
listings and details in the seed's shapes, tenant isolation and the transition table."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mindlinks.platform.events import OutboxEvent
from tests.contracts.conftest import contract_body, signature_png

pytestmark = pytest.mark.usefixtures("db_backend")

SEED_LIST_KEYS = {"id", "clientId", "clientName", "clientLogo", "type", "title", "rate",
                  "currency", "frequency", "startDate", "endDate", "status",
                  "signedByContractor", "signedByClient", "nextPaymentDate", "createdAt"}
SEED_DETAIL_KEYS = {"id", "clientId", "clientName", "contractorId", "type", "title",
                    "description", "rate", "currency", "frequency", "startDate", "endDate",
                    "status", "signedByContractor", "signedByClient", "signedByContractorAt",
                    "signedByClientAt", "pdfUrl", "terms", "createdAt", "updatedAt"}


async def _events(app: Any, name: str) -> list[dict[str, Any]]:
    async with app.state.db.session() as session:
        rows = (await session.execute(select(OutboxEvent).where(OutboxEvent.name == name)))
        return [r.payload for r in rows.scalars()]


async def test_create_is_a_draft_in_the_seed_shape(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    created = await flow.create(party, fixed_template["id"])
    assert set(created) >= SEED_DETAIL_KEYS
    assert created["status"] == "draft"
    assert created["rate"] == 5000 and created["currency"] == "USD"
    assert created["clientName"] == "Acme Widgets Ltd"
    assert created["pdfUrl"] is None and created["signedByClient"] is False
    assert created["terms"] == ["Deliverables: a web shop", "Termination: 14 days' notice"]

    mine = await client.get("/api/contracts/client/me", headers=party.client.headers)
    assert mine.status_code == 200
    assert [c["id"] for c in mine.json()["data"]] == [created["id"]]
    theirs = await client.get("/api/contracts/contractor/me", headers=party.contractor.headers)
    item = theirs.json()["data"][0]
    assert set(item) >= SEED_LIST_KEYS
    assert item["clientName"] == "Acme Widgets Ltd" and item["nextPaymentDate"] is None
    assert theirs.json()["meta"] == {"total": 1, "page": 1, "limit": 20, "totalPages": 1}


async def test_update_while_draft_then_send_renders_the_pdf(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    created = await flow.create(party, fixed_template["id"])
    cid = created["id"]
    updated = await client.put(f"/api/contracts/{cid}", headers=party.client.headers,
                               json={"title": "Shop rebuild", "rate": 5500.5})
    assert updated.status_code == 200, updated.text
    assert updated.json()["title"] == "Shop rebuild" and updated.json()["rate"] == 5500.5

    sent = await client.post(f"/api/contracts/{cid}/send", headers=party.client.headers)
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["status"] == "pending" and len(body["documentHash"]) == 64
    pdf = await client.get(body["pdfUrl"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    import hashlib

    assert hashlib.sha256(pdf.content).hexdigest() == body["documentHash"]

    events = await _events(app, "contract.ready_for_signature")
    assert len(events) == 1
    assert events[0]["contractId"] == cid
    assert events[0]["contractorId"] == party.contractor_id
    assert events[0]["userId"] == party.contractor.user_id
    assert events[0]["contractTitle"] == "Shop rebuild"

    extra = await client.put(f"/api/contracts/{cid}", headers=party.client.headers,
                             json={"status": "active"})
    assert extra.status_code == 422  # unknown fields are refused, status is not writable
    again = await client.put(f"/api/contracts/{cid}", headers=party.client.headers,
                             json={"title": "Too late"})
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


async def test_the_contractor_is_notified(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    await flow.sent(party, fixed_template["id"])
    await app.state.dispatcher.drain()
    inbox = await client.get("/api/notifications/me", headers=party.contractor.headers)
    assert inbox.status_code == 200, inbox.text
    kinds = [n["type"] for n in inbox.json()["data"]]
    assert kinds.count("contract_ready_to_sign") == 1


@pytest.mark.parametrize(
    ("override", "code"),
    [
        ({"currency": "XYZ"}, "unsupported_currency"),
        ({"currency": "usd"}, "validation_error"),
        ({"rate": 10.123}, "too_many_decimals"),
        ({"rate": 0}, "validation_error"),
        ({"endDate": "2025-12-01"}, "invalid_dates"),
        ({"frequency": "daily"}, "validation_error"),
        ({"type": "hourly"}, "template_mismatch"),
        ({"templateId": "00000000-0000-0000-0000-000000000000"}, "unknown_template"),
        ({"contractorId": "00000000-0000-0000-0000-000000000000"}, "contractor_not_linked"),
        ({"role": "admin"}, "validation_error"),
        ({"milestones": [{"title": "a", "amount": 5000}]}, "milestones_not_allowed"),
    ],
)
async def test_bad_input_is_422_with_a_code(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any],
    override: dict[str, Any], code: str,
):
    response = await client.post("/api/contracts", headers=party.client.headers,
                                 json=contract_body(party, fixed_template["id"], **override))
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


async def test_milestone_contracts_need_milestones_that_add_up(
    client: httpx.AsyncClient, party: Any
):
    tpl = (await client.get("/api/contract-templates", params={"type": "milestone"},
                            headers=party.client.headers)).json()["data"][0]
    base = contract_body(party, tpl["id"], type="milestone", rate=3000)
    missing = await client.post("/api/contracts", headers=party.client.headers, json=base)
    assert missing.status_code == 422 and missing.json()["code"] == "milestones_required"
    wrong = await client.post("/api/contracts", headers=party.client.headers, json={
        **base, "milestones": [{"title": "Design", "amount": 1000},
                               {"title": "Build", "amount": 1500}]})
    assert wrong.status_code == 422 and wrong.json()["code"] == "milestone_total_mismatch"
    right = await client.post("/api/contracts", headers=party.client.headers, json={
        **base, "milestones": [{"title": "Design", "amount": 1000, "dueDate": "2026-02-01"},
                               {"title": "Build", "amount": 2000}]})
    assert right.status_code == 201, right.text
    assert [(m["title"], m["amount"], m["status"]) for m in right.json()["milestones"]] == [
        ("Design", 1000, "pending"), ("Build", 2000, "pending")]


async def test_only_clients_create_and_only_with_their_contractors(
    client: httpx.AsyncClient, party: Any, make_party: Any, fixed_template: dict[str, Any]
):
    other = await make_party(legal_name="Other Corp Ltd", contractor_name="Alan Turing")
    by_contractor = await client.post("/api/contracts", headers=party.contractor.headers,
                                      json=contract_body(party, fixed_template["id"]))
    assert by_contractor.status_code == 403
    not_mine = await client.post("/api/contracts", headers=party.client.headers,
                                 json={**contract_body(party, fixed_template["id"]),
                                       "contractorId": other.contractor_id})
    assert not_mine.status_code == 422 and not_mine.json()["code"] == "contractor_not_linked"


async def test_another_partys_contract_is_404(
    client: httpx.AsyncClient, party: Any, make_party: Any, fixed_template: dict[str, Any],
    flow: Any,
):
    contract = await flow.sent(party, fixed_template["id"])
    other = await make_party(legal_name="Other Corp Ltd", contractor_name="Alan Turing")
    cid = contract["id"]
    for account in (other.client, other.contractor):
        for method, path, body in (
            ("GET", f"/api/contracts/{cid}", None),
            ("GET", f"/api/contracts/{cid}/download", None),
            ("GET", f"/api/contracts/{cid}/verify", None),
            ("POST", f"/api/contracts/{cid}/sign", {"signature": "AAAA"}),
        ):
            response = await client.request(method, path, json=body, headers=account.headers)
            assert response.status_code == 404, (account, path, response.text)
            assert response.json()["code"] == "contract_not_found"
    for path, body in ((f"/api/contracts/{cid}", {"title": "x"}),):
        response = await client.put(path, json=body, headers=other.client.headers)
        assert response.status_code == 404
    cancel = await client.post(f"/api/contracts/{cid}/cancel", json={"reason": "mine now"},
                               headers=other.client.headers)
    assert cancel.status_code == 404
    listed = await client.get("/api/contracts/contractor/me", headers=other.contractor.headers)
    assert listed.json()["data"] == []
    # The contract's journal entries are the parties' only.
    await client.post(f"/api/contracts/{cid}/sign", json={"signature": signature_png()},
                      headers=party.client.headers)
    mine = await client.get(f"/api/ledger/entities/contract/{cid}/history",
                            headers=party.contractor.headers)
    assert mine.status_code == 200 and len(mine.json()["data"]) == 1
    seq = mine.json()["data"][0]["seq"]
    for account in (other.client, other.contractor):
        history = await client.get(f"/api/ledger/entities/contract/{cid}/history",
                                   headers=account.headers)
        assert history.status_code == 404
        entry = await client.get(f"/api/ledger/entries/{seq}", headers=account.headers)
        assert entry.status_code == 404


async def test_cancel_before_activation(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    contract = await flow.sent(party, fixed_template["id"])
    signed = await flow.sign(party.client, contract["id"])
    assert signed.json()["status"] == "client_signed"
    by_contractor = await client.post(f"/api/contracts/{contract['id']}/cancel",
                                      json={"reason": "no"}, headers=party.contractor.headers)
    assert by_contractor.status_code == 403
    cancelled = await client.post(f"/api/contracts/{contract['id']}/cancel",
                                  json={"reason": "Budget cut"}, headers=party.client.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelReason"] == "Budget cut"
    late = await flow.sign(party.contractor, contract["id"])
    assert late.status_code == 409 and late.json()["code"] == "invalid_transition"
    filtered = await client.get("/api/contracts/contractor/me", params={"status": "cancelled"},
                                headers=party.contractor.headers)
    assert [c["id"] for c in filtered.json()["data"]] == [contract["id"]]


async def test_terminate_and_complete_active_contracts(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    first = await flow.active(party, fixed_template["id"])
    early = await client.post(f"/api/contracts/{first['id']}/terminate",
                              json={"effectiveDate": "2025-12-31", "reason": "x"},
                              headers=party.client.headers)
    assert early.status_code == 422 and early.json()["code"] == "invalid_dates"
    ended = await client.post(f"/api/contracts/{first['id']}/terminate",
                              json={"effectiveDate": "2026-03-15", "reason": "Project ended"},
                              headers=party.client.headers)
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "terminated"
    assert ended.json()["terminationEffectiveDate"] == "2026-03-15"

    second = await flow.active(party, fixed_template["id"])
    done = await client.post(f"/api/contracts/{second['id']}/complete",
                             headers=party.client.headers)
    assert done.status_code == 200 and done.json()["status"] == "completed"


# Every (state, action) pair the table does not allow answers 409 invalid_transition.
ACTIONS = ["update", "send", "cancel", "terminate", "complete", "sign_client",
           "sign_contractor"]
ALLOWED = {
    "draft": {"update", "send", "cancel"},
    "pending": {"cancel", "sign_client", "sign_contractor"},
    "client_signed": {"cancel", "sign_contractor"},
    "contractor_signed": {"cancel", "sign_client"},
    "active": {"terminate", "complete"},
    "completed": set(),
    "terminated": set(),
    "cancelled": set(),
}


async def _contract_in(state: str, party: Any, tpl: str, flow: Any,
                       client: httpx.AsyncClient) -> str:
    h = party.client.headers
    if state == "draft":
        return (await flow.create(party, tpl))["id"]  # type: ignore[no-any-return]
    if state == "cancelled":
        cid = (await flow.create(party, tpl))["id"]
        await client.post(f"/api/contracts/{cid}/cancel", json={"reason": "x"}, headers=h)
        return cid  # type: ignore[no-any-return]
    cid = (await flow.sent(party, tpl))["id"]
    if state == "client_signed":
        await flow.sign(party.client, cid)
    elif state == "contractor_signed":
        await flow.sign(party.contractor, cid)
    elif state in ("active", "completed", "terminated"):
        await flow.sign(party.client, cid)
        await flow.sign(party.contractor, cid)
        if state == "completed":
            await client.post(f"/api/contracts/{cid}/complete", headers=h)
        if state == "terminated":
            await client.post(f"/api/contracts/{cid}/terminate", headers=h,
                              json={"effectiveDate": "2026-02-01", "reason": "x"})
    return cid  # type: ignore[no-any-return]


async def _do(action: str, cid: str, party: Any, flow: Any,
              client: httpx.AsyncClient) -> httpx.Response:
    h = party.client.headers
    if action == "update":
        return await client.put(f"/api/contracts/{cid}", json={"title": "t"}, headers=h)
    if action == "send":
        return await client.post(f"/api/contracts/{cid}/send", headers=h)
    if action == "cancel":
        return await client.post(f"/api/contracts/{cid}/cancel", json={"reason": "x"}, headers=h)
    if action == "terminate":
        return await client.post(f"/api/contracts/{cid}/terminate", headers=h,
                                 json={"effectiveDate": "2026-02-01", "reason": "x"})
    if action == "complete":
        return await client.post(f"/api/contracts/{cid}/complete", headers=h)
    if action == "sign_client":
        return await flow.sign(party.client, cid)  # type: ignore[no-any-return]
    return await flow.sign(party.contractor, cid)  # type: ignore[no-any-return]


@pytest.mark.parametrize("state", list(ALLOWED))
async def test_every_invalid_transition_is_409(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any,
    state: str,
):
    tpl = fixed_template["id"]
    cid = await _contract_in(state, party, tpl, flow, client)
    detail = await client.get(f"/api/contracts/{cid}", headers=party.client.headers)
    assert detail.json()["status"] == state
    for action in ACTIONS:
        if action in ALLOWED[state]:
            continue
        response = await _do(action, cid, party, flow, client)
        assert response.status_code == 409, (state, action, response.text)
        assert response.json()["code"] == "invalid_transition"
    after = await client.get(f"/api/contracts/{cid}", headers=party.client.headers)
    assert after.json()["status"] == state
