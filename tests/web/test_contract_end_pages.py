"""Cancel and terminate from the contract's page (web/contract_end_pages.py): the buttons only
for the client and only in the states the contracts' state machine lets the action leave;
the confirmation form (reason limit, CSRF, one idempotency key per form so a double submit
changes the contract once); another company's contract and the contractor's side are the 404
page; a state that cannot be left that way is the contract's page with 409 and its code."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.contracts.models import Contract
from mindlinks.platform.audit import AuditLog
from tests.builders import active_contract
from tests.contracts.conftest import Party
from tests.web.conftest import csrf_of
from tests.web.money import post_form, signed_in

pytestmark = pytest.mark.usefixtures("db_backend")
KEY_RE = re.compile(r'name="idempotency_key" value="([^"]+)"')


async def _row(app: Any, cid: str) -> Contract:
    async with app.state.db.session() as session:
        row = await session.get(Contract, uuid.UUID(cid))
        assert row is not None
        return row


async def _audited(app: Any, action: str) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == action)) or 0)


async def _confirm_form(c: httpx.AsyncClient, cid: str, action: str) -> dict[str, str]:
    """The confirmation page's hidden fields (CSRF token and the form's idempotency key)."""
    page = await c.get(f"/contracts/{cid}/{action}")
    assert page.status_code == 200, page.text
    key = KEY_RE.search(page.text)
    assert key, page.text
    return {"csrf_token": csrf_of(page), "idempotency_key": key.group(1)}


async def test_client_cancels_a_sent_contract_once(
    app: Any, party: Party, fixed_template: dict[str, Any], flow: Any,
):
    sent = await flow.sent(party, fixed_template["id"])
    cid = sent["id"]
    async with signed_in(app, party.contractor.email) as c:
        page = await c.get(f"/contracts/{cid}")
        assert "Cancel the contract" not in page.text and f"/contracts/{cid}/cancel" not in page.text
    async with signed_in(app, party.client.email) as c:
        page = await c.get(f"/contracts/{cid}")
        assert f'href="/contracts/{cid}/cancel"' in page.text
        assert f"/contracts/{cid}/terminate" not in page.text  # not active: nothing to end
        hidden = await _confirm_form(c, cid, "cancel")
        for reason in ("", "   ", "x" * 1001):  # required, and 1,000 characters at most
            refused = await c.post(f"/contracts/{cid}/cancel", data={**hidden, "reason": reason})
            assert refused.status_code == 422, (reason[:5], refused.text)
            assert 'maxlength="1000"' in refused.text  # the form again, with its errors
        assert (await _row(app, cid)).status == "pending"

        done = await c.post(f"/contracts/{cid}/cancel",
                            data={**hidden, "reason": "The project was called off"})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"/contracts/{cid}?done=cancelled"
        # The same form sent again (a double click): the first answer, no second change.
        again = await c.post(f"/contracts/{cid}/cancel",
                             data={**hidden, "reason": "The project was called off"})
        assert again.status_code == 303 and again.headers["location"] == done.headers["location"]
        assert again.headers.get("idempotent-replayed") == "true"
        page = await c.get(done.headers["location"])
        assert "The contract is cancelled." in page.text and "badge-cancelled" in page.text
        assert "The project was called off" in page.text
        assert "Cancel the contract" not in page.text and "Sign the contract" not in page.text
        # A stale confirmation page goes back to the contract.
        assert (await c.get(f"/contracts/{cid}/cancel")).status_code == 303
    row = await _row(app, cid)
    assert row.status == "cancelled" and row.cancel_reason == "The project was called off"
    assert await _audited(app, "contract.cancelled") == 1


async def test_client_terminates_an_active_contract(
    app: Any, party: Party,
):
    active = await active_contract(app, party)
    cid = active["id"]
    async with signed_in(app, party.client.email) as c:
        page = await c.get(f"/contracts/{cid}")
        assert f'href="/contracts/{cid}/terminate"' in page.text
        assert f"/contracts/{cid}/cancel" not in page.text
        hidden = await _confirm_form(c, cid, "terminate")
        early = await c.post(f"/contracts/{cid}/terminate", data={
            **hidden, "reason": "Budget cut", "effective_date": "2025-12-31"})
        assert early.status_code == 422 and "cannot be before" in early.text, early.text
        assert 'value="2025-12-31"' in early.text  # shown as typed
        no_date = await c.post(f"/contracts/{cid}/terminate", data={
            **hidden, "reason": "Budget cut", "effective_date": "soon"})
        assert no_date.status_code == 422
        done = await c.post(f"/contracts/{cid}/terminate", data={
            **hidden, "reason": "Budget cut", "effective_date": "2026-03-31"})
        assert done.headers["location"] == f"/contracts/{cid}?done=terminated", done.text
        page = await c.get(done.headers["location"])
        assert "The contract is terminated." in page.text and "badge-terminated" in page.text
        assert "Terminate the contract" not in page.text
    row = await _row(app, cid)
    assert row.status == "terminated" and row.termination_reason == "Budget cut"
    assert row.termination_effective_date.isoformat() == "2026-03-31"
    assert await _audited(app, "contract.terminated") == 1


async def test_the_contractor_and_another_company_get_the_404_page(
    app: Any, party: Party, make_party: Any, fixed_template: dict[str, Any], flow: Any,
):
    sent = await flow.sent(party, fixed_template["id"])
    active = await active_contract(app, party)
    other = await make_party(legal_name="Other Co", contractor_name="Someone Else")
    for account in (party.contractor, other.client, other.contractor):
        async with signed_in(app, account.email) as c:
            for cid in (sent["id"], active["id"], str(uuid.uuid4()), "not-an-id"):
                for action in ("cancel", "terminate"):
                    page = await c.get(f"/contracts/{cid}/{action}")
                    assert page.status_code == 404, (account.email, cid, action)
                    refused = await post_form(c, "/contracts", f"/contracts/{cid}/{action}", {
                        "reason": "Not yours", "effective_date": "2026-03-31",
                        "idempotency_key": str(uuid.uuid4())})
                    assert refused.status_code == 404, (account.email, cid, action)
                    assert "<h1>Not found</h1>" in refused.text
    assert (await _row(app, sent["id"])).status == "pending"
    assert (await _row(app, active["id"])).status == "active"
    assert await _audited(app, "contract.cancelled") == 0
    assert await _audited(app, "contract.terminated") == 0


async def test_without_the_csrf_token_nothing_ends(
    app: Any, party: Party, fixed_template: dict[str, Any], flow: Any,
):
    sent = await flow.sent(party, fixed_template["id"])
    active = await active_contract(app, party)
    async with signed_in(app, party.client.email) as c:
        for cid, action in ((sent["id"], "cancel"), (active["id"], "terminate")):
            hidden = await _confirm_form(c, cid, action)
            data = {"idempotency_key": hidden["idempotency_key"], "reason": "No token",
                    "effective_date": "2026-03-31"}
            for token in (None, "forged.token"):
                body = data if token is None else {**data, "csrf_token": token}
                refused = await c.post(f"/contracts/{cid}/{action}", data=body)
                assert refused.status_code == 403, (action, refused.text)
                assert refused.json()["code"] == "csrf_failed"
    assert (await _row(app, sent["id"])).status == "pending"
    assert (await _row(app, active["id"])).status == "active"


async def test_a_state_that_cannot_end_that_way_is_the_409_page(
    app: Any, party: Party, fixed_template: dict[str, Any], flow: Any,
):
    sent = await flow.sent(party, fixed_template["id"])
    active = await active_contract(app, party)
    async with signed_in(app, party.client.email) as c:
        # The confirmation pages are not offered in these states...
        assert (await c.get(f"/contracts/{sent['id']}/terminate")).status_code == 303
        assert (await c.get(f"/contracts/{active['id']}/cancel")).status_code == 303
        # ...and a post made anyway (a stale page, another tab) is refused by the service.
        for cid, action in ((sent["id"], "terminate"), (active["id"], "cancel")):
            refused = await post_form(c, f"/contracts/{cid}", f"/contracts/{cid}/{action}", {
                "reason": "Wrong state", "effective_date": "2026-03-31",
                "idempotency_key": str(uuid.uuid4())})
            assert refused.status_code == 409, (action, refused.text)
            assert 'class="alert error"' in refused.text
            assert "<code>invalid_transition</code>" in refused.text
            assert "<h1>Web Development Project" in refused.text  # the contract's page
        # In Arabic: the error's message in the page's language, the code as is.
        await post_form(c, "/contracts", "/language", {"lang": "ar", "next": "/contracts"})
        refused = await post_form(c, f"/contracts/{sent['id']}",
                                  f"/contracts/{sent['id']}/terminate", {
                                      "reason": "x", "effective_date": "2026-03-31",
                                      "idempotency_key": str(uuid.uuid4())})
        assert refused.status_code == 409 and "<code>invalid_transition</code>" in refused.text
        assert "لا يمكن" in refused.text, refused.text
    assert (await _row(app, sent["id"])).status == "pending"
    assert (await _row(app, active["id"])).status == "active"


async def test_the_same_form_sent_eight_times_at_once_cancels_once(
    app: Any, party: Party, fixed_template: dict[str, Any], flow: Any,
):
    """A double (here eightfold) submit racing: one cancellation, one audit line; a request
    arriving while the first still runs is 409 `idempotency_key_in_flight` (PostgreSQL) and,
    sent again, the first answer."""
    import asyncio

    sent = await flow.sent(party, fixed_template["id"])
    cid = sent["id"]
    async with signed_in(app, party.client.email) as c:
        data = {**await _confirm_form(c, cid, "cancel"), "reason": "Called off"}
        answers = list(await asyncio.gather(*(c.post(f"/contracts/{cid}/cancel", data=data)
                                              for _ in range(8))))
        assert {a.status_code for a in answers} <= {303, 409}, [a.status_code for a in answers]
        for i, answer in enumerate(answers):
            if answer.status_code == 409:
                assert "<code>idempotency_key_in_flight</code>" in answer.text, answer.text
                answers[i] = await c.post(f"/contracts/{cid}/cancel", data=data)
        assert {a.headers["location"] for a in answers} == {f"/contracts/{cid}?done=cancelled"}
        assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
    assert (await _row(app, cid)).status == "cancelled"
    assert await _audited(app, "contract.cancelled") == 1
