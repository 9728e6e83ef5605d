"""Who may see and approve a payroll run: the client company that owns it. Another company's
run or invoice funding is 404 (whatever the Idempotency-Key), a contractor is 403; manual
approval pays the run once, a replay with the same key answers the same, a second approval
is 409."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from tests.contracts.conftest import flow, make_party, party  # noqa: F401 - fixtures
from tests.invoices.conftest import active_fixed  # noqa: F401 - fixtures
from tests.payments.payroll_helpers import CLIENT, CONTRACTOR, fund, get, issue, run_payroll

pytestmark = pytest.mark.usefixtures("db_backend")


def key() -> str:
    return str(uuid.uuid4())


async def test_manual_approval_and_another_clients_payroll_is_404(
    app: Any, client: httpx.AsyncClient, make_party: Any, pay: Any,  # noqa: F811
    active_fixed: Any,  # noqa: F811
):
    owner = await make_party()
    other = await make_party(legal_name="Rival Corp", contractor_name="Alan Turing")
    for body in ({"autoApprove": "no"}, {}, {"autoApprove": 1}):
        refused = await client.put(f"{CLIENT}/payroll-settings", json=body,
                                   headers=owner.client.headers)
        assert refused.status_code == 422, body
    manual = await client.put(f"{CLIENT}/payroll-settings", json={"autoApprove": False},
                              headers=owner.client.headers)
    assert manual.status_code == 200 and manual.json() == {"autoApprove": False}

    await active_fixed(owner)
    await fund(pay, owner.client, "5000.00")
    assert await issue(app, date(2026, 2, 1)) == 1
    assert (await run_payroll(app, date(2026, 2, 15)))["paid"] == 0  # waits for approval
    [run] = (await get(client, owner.client, f"{CLIENT}/payrolls"))["data"]
    assert run["status"] == "draft" and run["totalAmount"] == 5000.0
    [invoice] = (await get(client, owner.client, f"{CLIENT}/invoices"))["data"]

    approve = f"{CLIENT}/payrolls/{run['id']}/approve"
    for path, method in ((f"{CLIENT}/payrolls/{run['id']}", "GET"),
                         (f"{CLIENT}/payrolls/{run['id']}/export", "GET"),
                         (approve, "POST"),
                         (f"{CLIENT}/invoices/{invoice['id']}/funding", "GET")):
        response = await client.request(method, path, headers={
            **other.client.headers, "Idempotency-Key": key()})
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] in ("payroll_not_found", "invoice_not_found")
        as_contractor = await client.request(method, path, headers=owner.contractor.headers)
        assert as_contractor.status_code == 403, path
    assert (await get(client, other.client, f"{CLIENT}/payrolls"))["data"] == []
    assert (await client.post(approve, headers=owner.client.headers)).status_code == 400

    first_key = key()
    done = await client.post(approve, headers={**owner.client.headers,
                                               "Idempotency-Key": first_key})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert [i["status"] for i in done.json()["items"]] == ["paid"]
    replay = await client.post(approve, headers={**owner.client.headers,
                                                 "Idempotency-Key": first_key})
    assert replay.status_code == 200 and replay.json() == done.json()
    again = await client.post(approve, headers={**owner.client.headers,
                                                "Idempotency-Key": key()})
    assert again.status_code == 409 and again.json()["code"] == "payroll_not_approvable"
    wallet = await get(client, owner.contractor, f"{CONTRACTOR}/wallet")
    assert wallet["availableBalance"] == 5000.0
    # The other company's contractor sees nothing of it.
    assert (await get(client, other.contractor, f"{CONTRACTOR}/history"))["data"] == []
    assert (await get(client, other.contractor, f"{CONTRACTOR}/wallet"))[
        "availableBalance"] == 0.0
