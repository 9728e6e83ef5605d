"""The notifications page (any signed-in role): the inbox with all/unread and pages, the list
fragment htmx polls, mark one read, mark all read; CSRF on each POST; another user's
notification is the 404 page and stays unread; signed out -> sign-in (the polled fragment
answers 286, htmx's stop-polling); Arabic page."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from tests.factories import Account
from tests.notifications.conftest import emit_and_deliver
from tests.web.conftest import csrf_of
from tests.web.money import count_statements, signed_in

pytestmark = pytest.mark.usefixtures("db_backend")
__all__ = ["count_statements"]


async def _notify(app: Any, who: Account, amount: str) -> None:
    await emit_and_deliver(app, "withdrawal.requested", {
        "withdrawalId": str(uuid.uuid4()), "userId": str(who.id), "amount": amount,
        "currency": "USD"})


async def _inbox(client: httpx.AsyncClient, who: Account) -> dict[str, Any]:
    response = await client.get("/api/notifications/me", headers=who.headers)
    return response.json()  # type: ignore[no-any-return]


def _mark_action(html: str) -> str:
    """The first "Mark as read" form's target (after the page's "Mark all as read")."""
    found = re.search(r'action="/notifications/([0-9a-f-]{36}/read[^"]*)"', html)
    assert found, "no unread notification on the page"
    return found.group(1).replace("&amp;", "&")


async def test_inbox_mark_read_and_mark_all(
    app: Any, client: httpx.AsyncClient, browser: httpx.AsyncClient, party: Any,
):
    worker, company = party.contractor, party.client
    for amount in ("10.00", "20.00", "30.00"):
        await _notify(app, worker, amount)
    await _notify(app, company, "99.00")  # someone else's
    unread = (await _inbox(client, worker))["meta"]["unread"]  # the three and the party's own
    theirs_unread = (await _inbox(client, company))["meta"]["unread"]

    signed_out = await browser.get("/notifications")
    assert signed_out.status_code == 303 and "/login?next=/notifications" in \
        signed_out.headers["location"]
    assert (await browser.get("/notifications/list")).status_code == 286

    async with signed_in(app, worker.email) as c:
        page = await c.get("/notifications")
        assert page.status_code == 200
        assert f"{unread} unread" in page.text and "$30.00" in page.text and "$99.00" not in page.text
        assert 'hx-get="/notifications/list?show=all&amp;page=1"' in page.text
        assert 'hx-trigger="every 15s, ml-refresh"' in page.text  # polling: the stream's fallback
        fragment = await c.get("/notifications/list?show=unread")
        assert fragment.status_code == 200 and "<html" not in fragment.text
        assert fragment.text.count('class="unread"') == unread

        theirs = (await _inbox(client, company))["data"][0]["id"]
        mine = (await _inbox(client, worker))["data"][0]["id"]
        refused = await c.post(f"/notifications/{mine}/read")
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        foreign = await c.post(f"/notifications/{theirs}/read",
                               data={"csrf_token": csrf_of(page)})
        assert foreign.status_code == 404
        assert (await _inbox(client, company))["meta"]["unread"] == theirs_unread
        bad = await c.post("/notifications/not-an-id/read", data={"csrf_token": csrf_of(page)})
        assert bad.status_code == 404

        unread_page = await c.get("/notifications?show=unread")
        marked = await c.post("/notifications/" + _mark_action(unread_page.text),
                              data={"csrf_token": csrf_of(unread_page)})
        assert marked.status_code == 303
        assert marked.headers["location"].startswith("/notifications?show=unread")
        assert (await _inbox(client, worker))["meta"]["unread"] == unread - 1
        assert f"{unread - 1} unread" in (await c.get("/notifications")).text

        refused_all = await c.post("/notifications/read-all")
        assert refused_all.status_code == 403
        done = await c.post("/notifications/read-all", data={"csrf_token": csrf_of(page)})
        assert done.status_code == 303
        after = await c.get(done.headers["location"])
        assert "All notifications marked as read." in after.text and "0 unread" in after.text
        assert (await _inbox(client, worker))["meta"]["unread"] == 0
        assert (await _inbox(client, company))["meta"]["unread"] == theirs_unread  # untouched

    async with signed_in(app, company.email) as c:  # a client has the page too
        page = await c.get("/notifications?lang=ar")
        assert page.status_code == 200 and '<html lang="ar" dir="rtl">' in page.text
        assert "تحديد الكل كمقروء" in page.text and "$99.00" in page.text
        digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
        assert f"{theirs_unread} غير مقروءة".translate(digits) in page.text


async def test_pages_are_bounded(app: Any, party: Any):
    async with signed_in(app, party.contractor.email) as c:
        for query in ("page=0", "page=999999999", "page=x", "show=bogus"):
            assert (await c.get(f"/notifications?{query}")).status_code == 200


async def test_the_page_reads_a_fixed_number_of_statements(
    app: Any, party: Any, count_statements: Any,
):
    """Whatever the number of notifications: one round of reads, not one per row."""
    await _notify(app, party.contractor, "1.00")
    async with signed_in(app, party.contractor.email) as c:
        few = await count_statements(c, "/notifications")
        for amount in ("2.00", "3.00", "4.00", "5.00", "6.00"):
            await _notify(app, party.contractor, amount)
        assert await count_statements(c, "/notifications") == few
        assert await count_statements(c, "/notifications/list") <= few
