"""The contract lists take their page and total from one statement (a window count): the
total is the same on every page, a page past the end still reports it, and each party sees
only its own contracts."""

from __future__ import annotations

from typing import Any

import httpx

from tests.contracts.conftest import fixed_template, flow, make_party, party  # noqa: F401


async def test_pages_and_a_page_past_the_end_report_the_total(
    client: httpx.AsyncClient, party: Any, make_party: Any,  # noqa: F811
    fixed_template: dict[str, Any], flow: Any,  # noqa: F811
):
    ids = [(await flow.create(party, fixed_template["id"]))["id"] for _ in range(3)]
    pages = []
    for page in (1, 2, 3):
        body = (await client.get("/api/contracts/client/me", params={"page": page, "limit": 2},
                                 headers=party.client.headers)).json()
        pages.append(body)
    assert [p["meta"]["total"] for p in pages] == [3, 3, 3]
    assert [len(p["data"]) for p in pages] == [2, 1, 0]
    assert pages[2]["meta"] == {"total": 3, "page": 3, "limit": 2, "totalPages": 2}
    assert sorted(c["id"] for p in pages for c in p["data"]) == sorted(ids)
    stranger = await make_party()
    theirs = (await client.get("/api/contracts/client/me",
                               headers=stranger.client.headers)).json()
    assert theirs == {"data": [], "meta": {"total": 0, "page": 1, "limit": 20,
                                           "totalPages": 0}}
