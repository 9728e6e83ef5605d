"""The onboarding checklists link each step to the page that completes it
(web/checklists.py): every link on the contractor's home and on the client's home opens
(200) for that role, and the steps are the domain's, in order."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from mindlinks.contractors import onboarding
from mindlinks.web import checklists
from tests.contracts.conftest import Party
from tests.web.money import signed_in

pytestmark = pytest.mark.usefixtures("db_backend")
LIST_RE = re.compile(r'<ol class="checklist">(.*?)</ol>(.*?)</section>', re.S)


def _links(page: str) -> list[str]:
    found = LIST_RE.search(page)
    assert found, page
    return re.findall(r'href="([^"]+)"', found.group(1) + found.group(2))


async def _all_open(c: httpx.AsyncClient, links: list[str]) -> None:
    for link in links:
        page = await c.get(link)
        assert page.status_code == 200, (link, page.status_code, page.text[:300])


def test_every_contractor_step_has_a_page():
    assert [key for key, _ in onboarding.STEPS] == list(checklists.CONTRACTOR_STEP_PAGES)


async def test_the_contractors_checklist_links_open(app: Any, party: Party, flow: Any,
                                                    fixed_template: dict[str, Any]):
    await flow.sent(party, fixed_template["id"])
    async with signed_in(app, party.contractor.email) as c:
        home = await c.get("/contractor")
        assert home.status_code == 200, home.text
        links = _links(home.text)
        assert links[:5] == list(checklists.CONTRACTOR_STEP_PAGES.values())
        assert "/account/credentials" in links and "/account/documents" in links
        await _all_open(c, links)


async def test_the_clients_checklist_links_open(app: Any, party: Party,
                                                client: httpx.AsyncClient):
    async with signed_in(app, party.client.email) as c:
        home = await c.get("/")
        assert "Getting started" in home.text
        links = _links(home.text)
        assert links == [href for _, _, href in checklists.CLIENT_STEPS]
        await _all_open(c, links)
        # The verified company with its contractor: those steps are done.
        assert home.text.count("step-completed") >= 3, home.text

    from tests.factories import Account, register

    newcomer = Account(await register(client, "client", name="No Company"))
    async with signed_in(app, newcomer.email) as c:
        home = await c.get("/")
        assert "step-completed" not in LIST_RE.search(home.text).group(1)  # type: ignore[union-attr]
        first = _links(home.text)[0]
        assert first == "/account/company" and (await c.get(first)).status_code == 200


async def test_the_contractor_sees_no_client_steps(app: Any, party: Party):
    async with signed_in(app, party.contractor.email) as c:
        assert "Getting started" not in (await c.get("/")).text
