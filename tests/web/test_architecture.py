"""`/full-system-architecture` is generated from the code: every table of the metadata, every
layer of the import contract and every registered subscription appears."""

from __future__ import annotations

import re

import httpx
import pytest

from mindlinks.platform import events
from mindlinks.platform.db import Base
from mindlinks.web import architecture

pytestmark = pytest.mark.usefixtures("db_backend")


async def test_every_table_domain_and_subscription_is_on_the_page(browser: httpx.AsyncClient):
    page = await browser.get("/full-system-architecture")
    assert page.status_code == 200
    svg = page.text[page.text.index("<svg class=\"arch\""):page.text.index("</svg>")]
    assert Base.metadata.tables, "no metadata loaded"
    for table in Base.metadata.tables:
        assert f">{table}</text>" in svg, table
    names = {d.name for d in architecture.describe()}
    for row in architecture._layers():
        assert set(row) <= names
    assert {"auth", "kyc", "clients", "payments", "web"} <= names
    for event in events.subscriptions():
        assert f">{event}</code>" in page.text, event
    # emitted names come from the source: the registration event is there, f-strings as *
    auth = next(d for d in architecture.describe() if d.name == "auth")
    assert "auth.user.registered" in auth.emits
    assert any("*" in e for d in architecture.describe() for e in d.emits)
    assert len(re.findall(r'<a href="#domain-', svg)) == len(names)


async def test_the_page_is_translated(browser: httpx.AsyncClient):
    page = await browser.get("/full-system-architecture?lang=ar")
    assert 'dir="rtl"' in page.text and "بنية النظام" in page.text
