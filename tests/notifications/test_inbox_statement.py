"""The inbox is one precompiled statement (page and counts together): a page past the end
still carries the counts, another user's notifications never appear, and the JSON written
without response validation has exactly the fields and formats of `NotificationOut`."""

from __future__ import annotations

import uuid

from mindlinks.notifications.schemas import NotificationOut
from tests.notifications.conftest import emit_and_deliver


async def _payment(app, user, amount):
    await emit_and_deliver(app, "payment.received", {
        "paymentId": str(uuid.uuid4()), "contractId": str(uuid.uuid4()),
        "contractorId": str(uuid.uuid4()), "userId": str(user.id), "amount": amount,
        "currency": "USD", "clientName": "ABC Corp"})


async def test_page_past_the_end_keeps_the_counts_and_rows_stay_the_users(
        app, client, contractor, other):
    await _payment(app, contractor, 1)
    await _payment(app, contractor, 2)
    await _payment(app, other, 3)

    past = (await client.get("/api/notifications/me?page=5&limit=2",
                             headers=contractor.headers)).json()
    assert past == {"data": [], "meta": {"total": 2, "unread": 2, "page": 5, "limit": 2,
                                         "totalPages": 1}}
    mine = (await client.get("/api/notifications/me", headers=contractor.headers)).json()
    assert len(mine["data"]) == 2 and mine["meta"]["total"] == 2
    theirs = (await client.get("/api/notifications/me", headers=other.headers)).json()
    assert len(theirs["data"]) == 1 and theirs["meta"]["total"] == 1
    assert not {n["id"] for n in mine["data"]} & {n["id"] for n in theirs["data"]}
    for row in mine["data"]:
        # What Pydantic would have written: same keys, and the row reads back unchanged.
        again = NotificationOut.model_validate(row).model_dump(mode="json", by_alias=True)
        assert set(row) == set(again) and row["id"] == again["id"]
        assert row["createdAt"].endswith("Z") and row["actionUrl"] == again["actionUrl"]
