"""Helpers of the money dashboards' tests: signed-in browsers for both parties of a contract,
an active milestone contract, the weekly grid's form fields, and a statement counter on the
app's engine (SQLAlchemy `before_cursor_execute`)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import date, timedelta
from typing import Any
from unittest.mock import patch

import httpx
import pytest
from sqlalchemy import event

from mindlinks.platform.db import RawQuery
from tests.builders import active_contract
from tests.factories import PASSWORD
from tests.web.conftest import csrf_of, web_login

WEEK = date(2024, 12, 7)  # the seed's week (a Saturday); the `hourly` fixture covers it


@asynccontextmanager
async def signed_in(app: Any, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser (own cookie jar), signed in through the login form."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50001))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        await web_login(c, email, PASSWORD)
        yield c


def grid(week: date = WEEK, hours: dict[int, str] | None = None) -> dict[str, str]:
    """The weekly grid's fields: `hours` maps 0..6 (Sunday..Saturday) to hours."""
    hours = {1: "8", 2: "7.5", 3: "8", 4: "8", 5: "6"} if hours is None else hours
    fields: dict[str, str] = {}
    for i, value in hours.items():
        day = (week - timedelta(days=6 - i)).isoformat()
        fields[f"hours-{day}"] = value
        fields[f"desc-{day}"] = f"work {i}"
    return fields


async def post_form(c: httpx.AsyncClient, page_url: str, action: str,
                    data: dict[str, Any]) -> httpx.Response:
    page = await c.get(page_url)
    assert page.status_code == 200, page.text
    return await c.post(action, data={"csrf_token": csrf_of(page), **data})


async def milestone_contract(app: Any, party: Any) -> dict[str, Any]:
    return await active_contract(app, party, type="milestone", rate=3000,
                                 milestones=[{"title": "Design", "amount": 1200},
                                             {"title": "Build", "amount": 1800}])


class Statements:
    def __init__(self) -> None:
        self.count = 0
        self.sql: list[str] = []


@contextmanager
def counting(app: Any) -> Iterator[Statements]:
    """Every statement the app's engine sends while the block runs, and every one sent
    straight to the driver (`platform.db.RawQuery`, which SQLAlchemy's events do not see)."""
    engine = app.state.db.engine.sync_engine
    seen = Statements()

    def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT)", statement, re.I):
            seen.count += 1
            seen.sql.append(statement)

    def _raw(method: Any) -> Any:
        async def counted(self: RawQuery, *args: Any, **kwargs: Any) -> Any:
            seen.count += 1
            seen.sql.append(str(self.statement))
            return await method(self, *args, **kwargs)
        return counted

    event.listen(engine, "before_cursor_execute", _count)
    with patch.object(RawQuery, "all", _raw(RawQuery.all)), \
            patch.object(RawQuery, "first", _raw(RawQuery.first)):
        try:
            yield seen
        finally:
            event.remove(engine, "before_cursor_execute", _count)


@pytest.fixture
def count_statements(app: Any) -> Any:
    async def _measure(c: httpx.AsyncClient, url: str) -> int:
        with counting(app) as seen:
            response = await c.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return seen.count

    return _measure
