"""`fundingStatus` inside the invoice responses (issue 13 §2): the client's list rows and both
parties' invoice detail carry it, equal to the separate `/funding` route; the contractor's
list rows keep the seed's shape exactly."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from tests.contracts.conftest import flow, make_party, party  # noqa: F401 - fixtures
from tests.invoices.conftest import SEED_KEYS, active_fixed  # noqa: F401 - fixtures
from tests.payments.payroll_helpers import CLIENT, CONTRACTOR, fund, get, issue

pytestmark = pytest.mark.usefixtures("db_backend")


async def test_invoice_responses_carry_the_funding_status(
    app: Any, client: httpx.AsyncClient, party: Any, pay: Any,  # noqa: F811
    active_fixed: Any,  # noqa: F811
):
    await active_fixed(party)  # 5000.00 USD due 02-01 and 03-01
    await fund(pay, party.client, "6000.00")
    assert await issue(app, date(2026, 3, 1)) == 2
    rows = (await get(client, party.client, f"{CLIENT}/invoices"))["data"]
    assert all(set(r) == SEED_KEYS | {"fundingStatus"} for r in rows)
    first, second = sorted(rows, key=lambda r: r["issueDate"])
    assert (first["fundingStatus"], second["fundingStatus"]) == ("held", "awaiting_funding")
    for row in (first, second):
        separate = await get(client, party.client, f"{CLIENT}/invoices/{row['id']}/funding")
        assert separate["fundingStatus"] == row["fundingStatus"]
        detail = await get(client, party.client, f"{CLIENT}/invoices/{row['id']}")
        assert detail["fundingStatus"] == row["fundingStatus"]
        mine = await get(client, party.contractor, f"{CONTRACTOR}/invoices/{row['id']}")
        assert mine["fundingStatus"] == row["fundingStatus"]
    listed = (await get(client, party.contractor, f"{CONTRACTOR}/invoices"))["data"]
    assert all(set(r) == SEED_KEYS for r in listed)
