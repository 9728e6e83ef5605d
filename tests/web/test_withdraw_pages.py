"""The withdraw flow in the wallet: form → confirmation with fee, net amount and arrival (the
same figures the withdrawal then records; nothing is written before the final POST) → the
final POST once per form key (a double submit replays the same withdrawal, another body under
the key is refused); the withdrawals list and detail, cancel; CSRF on each POST; another
contractor's withdrawal is the 404 page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.payments.withdrawals_models import Withdrawal
from tests.payments.withdrawal_helpers import PATH, ready
from tests.web.conftest import csrf_of
from tests.web.money import signed_in

pytestmark = pytest.mark.usefixtures("db_backend")


async def _count(app: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Withdrawal)) or 0)


def _field(html: str, name: str) -> str:
    return html.split(f'name="{name}" value="')[1].split('"')[0]


async def test_withdraw_confirm_once_list_and_cancel(
    app: Any, client: httpx.AsyncClient, party: Any, make_party: Any,
):
    w = await ready(app, client, party.contractor)
    async with signed_in(app, party.contractor.email) as c:
        wallet = await c.get("/wallet")
        assert wallet.status_code == 200 and "Review the withdrawal" in wallet.text
        key = _field(wallet.text, "idempotency_key")
        form = {"csrf_token": csrf_of(wallet), "idempotency_key": key, "amount": "5000.00",
                "currency": "USD", "method_id": w.method_id}
        for url in ("/wallet/withdraw", "/wallet/withdrawals"):
            refused = await c.post(url, data={k: v for k, v in form.items()
                                              if k != "csrf_token"})
            assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"

        low = await c.post("/wallet/withdraw", data={**form, "amount": "0.50"})
        assert low.status_code == 422 and "minimum" in low.text.lower()
        confirm = await c.post("/wallet/withdraw", data=form)
        assert confirm.status_code == 200 and "Estimated arrival" in confirm.text
        assert "You receive" in confirm.text and _field(confirm.text, "idempotency_key") == key
        assert await _count(app) == 0  # the preview writes nothing

        final = {**form, "csrf_token": csrf_of(confirm)}
        first = await c.post("/wallet/withdrawals", data=final)
        second = await c.post("/wallet/withdrawals", data=final)  # a double click
        assert first.status_code == second.status_code == 303
        assert first.headers["location"] == second.headers["location"]
        assert await _count(app) == 1
        other_body = await c.post("/wallet/withdrawals", data={**final, "amount": "10.00"})
        assert other_body.status_code == 422 and await _count(app) == 1

        withdrawal_id = first.headers["location"].split("/")[-1].split("?")[0]
        made = (await client.get(f"{PATH}/{withdrawal_id}", headers=w.headers)).json()
        for figure in ("fee", "netAmount"):  # what the confirmation showed is what was charged
            shown = f"${made[figure]:,.2f}"
            assert shown in confirm.text, (figure, shown)
        assert made["estimatedArrival"] in confirm.text

        detail = await c.get(first.headers["location"])
        assert detail.status_code == 200 and "Withdrawal requested." in detail.text
        listing = await c.get("/wallet/withdrawals")
        assert withdrawal_id in listing.text and "$5,000.00" in listing.text

    stranger = await make_party(legal_name="Other Co", contractor_name="Eve")
    async with signed_in(app, stranger.contractor.email) as other:
        assert (await other.get(f"/wallet/withdrawals/{withdrawal_id}")).status_code == 404
        page = await other.get("/wallet")
        cancel = await other.post(f"/wallet/withdrawals/{withdrawal_id}/cancel",
                                  data={"csrf_token": csrf_of(page)})
        assert cancel.status_code == 404
        assert withdrawal_id not in (await other.get("/wallet/withdrawals")).text

    async with signed_in(app, party.contractor.email) as c:
        page = await c.get(f"/wallet/withdrawals/{withdrawal_id}")
        cancelled = await c.post(f"/wallet/withdrawals/{withdrawal_id}/cancel",
                                 data={"csrf_token": csrf_of(page)})
        assert cancelled.status_code == 303
        assert "badge-cancelled" in (await c.get(f"/wallet/withdrawals/{withdrawal_id}")).text
