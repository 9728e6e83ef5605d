"""SQL statements per admin review page (counted on the app's engine, as the money pages'
test does): each page stays under a fixed number, and a queue's count does not grow with its
rows (the contractor's name or company is joined in, not read per row)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from mindlinks.platform import alerts
from tests.clients.conftest import UNKNOWN_COMPANY
from tests.factories import Account, register
from tests.platform.samples import MINIMAL_PDF
from tests.web.money import count_statements
from tests.web.test_admin_pages import admin_browser
from tests.web.test_admin_review_pages import licence, policy, tax_form

__all__ = ["admin_browser", "count_statements"]
pytestmark = pytest.mark.usefixtures("db_backend")

# Measured on SQLite and PostgreSQL (the same statements on both) with a margin of a few; a
# page crossing its line has grown an N+1 or a new round trip.
LIMITS = {
    "/admin": 10, "/admin/tax-forms": 5, "/admin/licenses": 5, "/admin/insurance": 5,
    "/admin/client-documents": 5, "/admin/companies": 6, "/admin/alerts": 5, "/admin/contract-templates": 5,
    "/admin/contract-templates/new": 3,
}
DETAIL_LIMITS = {"/admin/tax-forms/": 7, "/admin/licenses/": 6, "/admin/insurance/": 6,
                 "/admin/contract-templates/": 4}


async def _one_of_each(app: Any, client: httpx.AsyncClient, make_client: Any, n: int) -> None:
    who = Account(await register(client, "contractor", name=f"Worker {n}"))
    await tax_form(client, who)
    await licence(client, who, f"L-{n}")
    await policy(client, who, f"P-{n}")
    account, _company = await make_client({**UNKNOWN_COMPANY, "legalName": f"Company {n} Ltd",
                                           "taxId": f"GB98765432{n}"})
    uploaded = await client.post(
        "/api/clients/me/documents", headers=account.headers, data={"type": "other"},
        files={"file": (f"doc{n}.pdf", MINIMAL_PDF, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    async with app.state.db.session() as session:
        await alerts.raise_alert(session, source="test", kind="odd", key=f"k-{n}",
                                 summary=f"Alert {n}", details={"n": n})
        await session.commit()


async def test_admin_pages_are_a_fixed_number_of_statements(
    app: Any, client: httpx.AsyncClient, admin_browser: httpx.AsyncClient, make_client: Any,
    count_statements: Any,
):
    await _one_of_each(app, client, make_client, 0)
    few = {url: await count_statements(admin_browser, url) for url in LIMITS}
    for n in (1, 2, 3):
        await _one_of_each(app, client, make_client, n)
    page = await admin_browser.get("/admin/tax-forms")
    assert all(f"Worker {n}" in page.text for n in range(4))
    many = {url: await count_statements(admin_browser, url) for url in LIMITS}
    assert many == few, (few, many)
    for url, count in many.items():
        assert count <= LIMITS[url], (url, count)
    for prefix, limit in DETAIL_LIMITS.items():
        listing = await admin_browser.get(prefix.rstrip("/"))
        item = re.search(f'href="({re.escape(prefix)}[0-9a-f-]{{36}})"', listing.text)
        assert item, prefix
        count = await count_statements(admin_browser, item.group(1))
        assert count <= limit, (prefix, count)
