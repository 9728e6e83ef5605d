"""What a timesheet may contain ("validate against contract"), each refusal with its stable
code and nothing stored; who may see and review what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from mindlinks.timesheets.models import Timesheet
from tests.timesheets.conftest import SEED_ENTRIES, SEED_WEEK, events

pytestmark = pytest.mark.usefixtures("db_backend")


def _entries(**change: Any) -> list[dict[str, Any]]:
    first = {**SEED_ENTRIES[0], **change}
    return [first, *SEED_ENTRIES[1:]]


@pytest.mark.parametrize(("override", "code"), [
    ({"weekEnding": "2024-12-06"}, "invalid_week_ending"),              # a Friday
    ({"weekEnding": "2024-10-26", "entries": [
        {"date": "2024-10-21", "hours": 1, "description": ""}]}, "week_outside_contract"),
    ({"entries": _entries(date="2024-12-09")}, "entry_outside_week"),
    ({"entries": _entries(date="2024-11-30")}, "entry_outside_week"),    # the Saturday before
    ({"entries": _entries(date="2024-12-03")}, "duplicate_entry_date"),
    ({"entries": _entries(hours=0)}, "invalid_hours"),
    ({"entries": _entries(hours=-1)}, "invalid_hours"),
    ({"entries": _entries(hours=24.01)}, "invalid_hours"),
    ({"entries": _entries(hours=7.555)}, "too_many_decimals"),
    ({"entries": _entries(hours="NaN")}, "validation_error"),
    ({"entries": _entries(hours=True)}, "validation_error"),
    ({"entries": _entries(description="x" * 501)}, "validation_error"),
    ({"entries": _entries(description="a\u0000b")}, "invalid_characters"),
    ({"entries": []}, "validation_error"),
    ({"entries": SEED_ENTRIES * 2}, "validation_error"),                 # more than 7
    ({"notes": "n" * 2001}, "validation_error"),
    ({"status": "approved"}, "validation_error"),                        # not writable
    ({"approvedBy": "me"}, "validation_error"),                          # unknown field
    ({"weekEnding": "not-a-date"}, "validation_error"),
])
async def test_bad_input_is_422_with_a_code_and_stores_nothing(
    app: Any, party: Any, active_hourly: dict[str, Any], sheets: Any, override: dict[str, Any],
    code: str,
):
    response = await sheets.post(party.contractor, active_hourly["id"], **override)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code
    async with app.state.db.session() as session:
        assert (await session.execute(select(Timesheet))).first() is None
    assert await events(app, "timesheet.submitted") == []


async def test_future_days_and_days_after_the_contract_are_refused(
    client: httpx.AsyncClient, party: Any, flow: Any, sheets: Any
):
    tpl = (await client.get("/api/contract-templates", params={"type": "hourly"},
                            headers=party.client.headers)).json()["data"][0]
    ended = await flow.active(party, tpl["id"], type="hourly", rate=50, startDate="2024-11-01",
                              endDate="2024-12-04", frequency="monthly")
    after_end = await sheets.post(party.contractor, ended["id"])
    assert after_end.status_code == 422 and after_end.json()["code"] == "entry_outside_contract"
    within = await sheets.post(party.contractor, ended["id"], entries=SEED_ENTRIES[:3])
    assert within.status_code == 201, within.text

    future = await sheets.post(party.contractor, ended["id"], week="2099-01-03",
                               entries=[{"date": "2099-01-02", "hours": 1, "description": ""}])
    assert future.status_code == 422


async def test_only_active_hourly_contracts_take_timesheets(
    client: httpx.AsyncClient, party: Any, flow: Any, sheets: Any
):
    fixed = (await client.get("/api/contract-templates", params={"type": "fixed"},
                              headers=party.client.headers)).json()["data"][0]
    active_fixed = await flow.active(party, fixed["id"], startDate="2024-11-01")
    response = await sheets.post(party.contractor, active_fixed["id"])
    assert response.status_code == 422 and response.json()["code"] == "contract_not_hourly"

    hourly_tpl = (await client.get("/api/contract-templates", params={"type": "hourly"},
                                   headers=party.client.headers)).json()["data"][0]
    unsigned = await flow.sent(party, hourly_tpl["id"], type="hourly", rate=50,
                               startDate="2024-11-01")
    response = await sheets.post(party.contractor, unsigned["id"])
    assert response.status_code == 422 and response.json()["code"] == "contract_not_active"


async def test_one_regular_timesheet_per_week(
    party: Any, active_hourly: dict[str, Any], sheets: Any
):
    await sheets.submitted(party.contractor, active_hourly["id"], status="draft")
    again = await sheets.post(party.contractor, active_hourly["id"])
    assert again.status_code == 409 and again.json()["code"] == "timesheet_exists"


async def test_another_partys_timesheet_is_404(
    client: httpx.AsyncClient, party: Any, make_party: Any, active_hourly: dict[str, Any],
    sheets: Any,
):
    sheet = await sheets.submitted(party.contractor, active_hourly["id"])
    other = await make_party(legal_name="Rival Corp", contractor_name="Alan Turing")
    # another contractor cannot read, edit, submit, or file against the contract
    assert (await sheets.get(other.contractor, sheet["id"])).status_code == 404
    put = await client.put(f"/api/timesheets/{sheet['id']}", headers=other.contractor.headers,
                           json={"notes": "mine now"})
    assert put.status_code == 404
    theirs = await sheets.post(other.contractor, active_hourly["id"])
    assert theirs.status_code == 404 and theirs.json()["code"] == "contract_not_found"
    # the client of another company can neither see nor approve nor reject
    assert (await sheets.get(other.client, sheet["id"])).status_code == 404
    approve = await sheets.act(other.client, sheet["id"], "approve")
    assert approve.status_code == 404 and approve.json()["code"] == "timesheet_not_found"
    reject = await sheets.act(other.client, sheet["id"], "reject", {"reason": "no"})
    assert reject.status_code == 404
    bulk = await client.post("/api/timesheets/reviews", headers=other.client.headers,
                             json={"items": [{"id": sheet["id"], "decision": "approve"}]})
    assert bulk.status_code == 404
    listed = await client.get("/api/timesheets/client/me", headers=other.client.headers)
    assert listed.json()["data"] == []
    # the contractor cannot approve their own timesheet
    own = await sheets.act(party.contractor, sheet["id"], "approve")
    assert own.status_code == 403 and own.json()["code"] == "forbidden_role"
    # the client does not write the contractor's timesheet
    put = await client.put(f"/api/timesheets/{sheet['id']}", headers=party.client.headers,
                           json={"notes": "client edit"})
    assert put.status_code == 403
    after = (await sheets.get(party.contractor, sheet["id"])).json()
    assert after["status"] == "pending" and after["notes"] == "Completed sprint 5 deliverables"
    # the approval's journal entry is the parties' to read, not another tenant's
    assert (await sheets.act(party.client, sheet["id"], "approve")).status_code == 200
    history = f"/api/ledger/entities/timesheet/{sheet['id']}/history"
    for who in (party.contractor, party.client):
        mine = await client.get(history, headers=who.headers)
        assert mine.status_code == 200, mine.text
        assert [e["entryType"] for e in mine.json()["data"]] == ["timesheet_approval"]
    for who in (other.contractor, other.client):
        theirs = await client.get(history, headers=who.headers)
        assert theirs.status_code == 404


async def test_bulk_review_is_all_or_nothing(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    a = await sheets.submitted(party.contractor, active_hourly["id"])
    b = await sheets.submitted(party.contractor, active_hourly["id"], week="2024-12-14",
                               entries=[{"date": "2024-12-10", "hours": 4, "description": ""}])
    c = await sheets.submitted(party.contractor, active_hourly["id"], week="2024-12-21",
                               entries=[{"date": "2024-12-17", "hours": 4, "description": ""}])
    await sheets.act(party.client, c["id"], "approve")
    h = party.client.headers

    async def review(items: list[dict[str, Any]]) -> httpx.Response:
        return await client.post("/api/timesheets/reviews", headers=h, json={"items": items})

    stale = await review([{"id": a["id"], "decision": "approve"},
                          {"id": b["id"], "decision": "reject", "reason": "too little"},
                          {"id": c["id"], "decision": "approve"}])  # c is already approved
    assert stale.status_code == 409 and stale.json()["code"] == "invalid_transition"
    assert stale.json()["errors"][0]["field"] == "items[2].id"
    no_reason = await review([{"id": a["id"], "decision": "approve"},
                              {"id": b["id"], "decision": "reject"}])
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    twice = await review([{"id": a["id"], "decision": "approve"},
                          {"id": a["id"], "decision": "reject", "reason": "x"}])
    assert twice.status_code == 422 and twice.json()["code"] == "duplicate_review_item"
    assert (await review([])).status_code == 422
    assert (await review([{"id": a["id"], "decision": "maybe"}])).status_code == 422
    for sheet in (a, b):  # nothing changed
        assert (await sheets.get(party.client, sheet["id"])).json()["status"] == "pending"
    assert len(await events(app, "timesheet.approved")) == 1

    done = await review([{"id": a["id"], "decision": "approve"},
                         {"id": b["id"], "decision": "reject", "reason": "too little"}])
    assert done.status_code == 200, done.text
    assert [t["status"] for t in done.json()["data"]] == ["approved", "rejected"]
    assert len(await events(app, "timesheet.approved")) == 2
    assert len(await events(app, "timesheet.rejected")) == 1


async def test_seed_week_is_the_default_example(party: Any, active_hourly: dict[str, Any],
                                                sheets: Any):
    # weekEnding in the seed is a Saturday and its entries the Monday..Friday before it
    created = await sheets.submitted(party.contractor, active_hourly["id"])
    assert created["weekEnding"] == SEED_WEEK
    assert [e["date"] for e in created["entries"]] == [e["date"] for e in SEED_ENTRIES]


async def test_every_illegal_transition_is_409_and_changes_nothing(
    app: Any, client: httpx.AsyncClient, party: Any, active_hourly: dict[str, Any], sheets: Any
):
    import uuid

    from mindlinks.timesheets import service

    def week(n: int) -> dict[str, Any]:
        saturday = f"2024-11-{2 + 7 * n:02d}" if n < 4 else "2024-11-30"
        day = f"2024-11-{2 + 7 * n - 1:02d}" if n < 4 else "2024-11-29"
        return {"week": saturday, "entries": [{"date": day, "hours": 1, "description": ""}]}

    made = {
        "draft": await sheets.submitted(party.contractor, active_hourly["id"], status="draft",
                                        **week(0)),
        "pending": await sheets.submitted(party.contractor, active_hourly["id"], **week(1)),
        "approved": await sheets.submitted(party.contractor, active_hourly["id"], **week(2)),
        "rejected": await sheets.submitted(party.contractor, active_hourly["id"], **week(3)),
        "paid": await sheets.submitted(party.contractor, active_hourly["id"], **week(4)),
    }
    for status in ("approved", "paid"):
        assert (await sheets.act(party.client, made[status]["id"], "approve")).status_code == 200
    await sheets.act(party.client, made["rejected"]["id"], "reject", {"reason": "no"})
    async with app.state.db.session() as session:
        await service.mark_paid(session, [uuid.UUID(made["paid"]["id"])])

    allowed = {(frm, action) for action, moves in service.TRANSITIONS.items() for frm in moves}
    actions = {
        "approve": (party.client, lambda i: sheets.act(party.client, i, "approve")),
        "reject": (party.client, lambda i: sheets.act(party.client, i, "reject",
                                                      {"reason": "r"})),
        "submit": (party.contractor, lambda i: sheets.act(party.contractor, i, "submit")),
        "edit": (party.contractor, lambda i: client.put(
            f"/api/timesheets/{i}", headers=party.contractor.headers, json={"notes": "e"})),
    }
    tried = 0
    for status, sheet in made.items():
        before = (await sheets.get(party.contractor, sheet["id"])).json()
        assert before["status"] == status
        for action, (who, call) in actions.items():
            if (status, action) in allowed:
                continue
            response = await call(sheet["id"])
            tried += 1
            if status == "draft" and who is party.client:
                assert response.status_code == 404  # a draft is invisible to the client
            else:
                assert response.status_code == 409, (status, action, response.text)
                assert response.json()["code"] == "invalid_transition"
        assert (await sheets.get(party.contractor, sheet["id"])).json() == before
    assert tried == 14  # 5 statuses x 4 actions, less the 6 allowed moves
