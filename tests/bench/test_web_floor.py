"""The floor of the contractor-home bench (`bench/web_floor.py`) renders the very page the
platform serves for the same data: same template, same context shape, same HTML. Without
this the floor could drift (a widget dropped, a query missing) and the bench's ratio would
quietly compare different work."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bench import web_floor, web_seed
from tests.web.conftest import web_login

pytestmark = pytest.mark.usefixtures("db_backend")


async def test_floor_renders_the_platform_home_byte_for_byte(app: Any, database_url: str):
    seeded = await web_seed.seed(database_url, 4)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.11", 50002))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        await web_login(c, seeded.email, web_seed.PASSWORD)
        page = await c.get("/contractor")
        csrf = c.cookies["ml_csrf"]
    assert page.status_code == 200, page.text

    db = web_floor.RawDb(database_url)
    await db.open()
    try:
        context = await web_floor.home_context(db, seeded.user_id, seeded.contractor_id, csrf)
    finally:
        await db.close()
    floor = web_floor.environment().get_template("money/contractor_home.html").render(context)

    # What the page is about, on both sides: not an empty page twice.
    for html in (page.text, floor):
        assert f"Welcome back, {web_seed.MEASURED_NAME}" in html
        assert all(title in html for title in seeded.contract_titles[:6])
        assert seeded.contract_titles[6] not in html  # the home shows the latest six
        assert "$41,840.00" in html  # wallet: 24 credits, a third withdrawn
        assert "Company 13 Ltd" in html  # a client's name on an active contract card
        assert "(26 unread)" in html
    assert floor == page.text
