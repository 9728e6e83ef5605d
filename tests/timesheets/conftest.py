"""Fixtures of the timesheets tests: an active hourly contract (50.00 USD an hour, the seed's
rate) between a client company and its contractor (`active_hourly`: built through the
contracts services by `tests.builders`; `hourly`: signed through the API, for end-to-end
tests), and helpers to submit and review timesheets."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.ledger.models import LedgerEntry
from mindlinks.platform.db import utcnow
from mindlinks.platform.events import OutboxEvent
from tests.builders import active_contract
from tests.contracts.conftest import Party, flow, make_party, party  # noqa: F401

# The seed's example week (seed 000 "Submit timesheet"): 37.5 hours.
SEED_WEEK = "2024-12-07"
SEED_ENTRIES = [
    {"date": "2024-12-02", "hours": 8, "description": "Backend API development"},
    {"date": "2024-12-03", "hours": 7.5, "description": "Database optimization"},
    {"date": "2024-12-04", "hours": 8, "description": "Code review"},
    {"date": "2024-12-05", "hours": 8, "description": "Testing"},
    {"date": "2024-12-06", "hours": 6, "description": "Documentation"},
]
CONTRACT_START = "2024-11-01"


def saturday_on_or_after(day: date) -> date:
    return day + timedelta(days=(5 - day.weekday()) % 7)


def week_of(saturday: date, hours: float | str = 8) -> list[dict[str, Any]]:
    """Monday..Friday of the week ending `saturday`."""
    return [{"date": (saturday - timedelta(days=5 - i)).isoformat(), "hours": hours,
             "description": f"day {i}"} for i in range(5)]


def this_week() -> date:
    """The Saturday ending the current (UTC) week: a timesheet for it is on time."""
    return saturday_on_or_after(utcnow().date())


HOURLY_TERMS = {"type": "hourly", "rate": 50, "currency": "USD", "startDate": CONTRACT_START,
                "endDate": None, "frequency": "monthly"}


@pytest.fixture
async def active_hourly(app: Any, party: Party) -> dict[str, Any]:  # noqa: F811 (fixture)
    """The contract, as the signing flow leaves it, built by `tests.builders` (fast: no HTTP,
    no PDFs): for the tests of what happens once a contract is active."""
    return await active_contract(app, party, **HOURLY_TERMS)


@pytest.fixture
async def hourly(
    client: httpx.AsyncClient, party: Party, flow: Any,  # noqa: F811 (fixtures)
) -> dict[str, Any]:
    """The contract signed through the API (PDFs rendered and sealed): for end-to-end tests
    (the money path, the browser journeys)."""
    tpl = (await client.get("/api/contract-templates", params={"type": "hourly",
                                                               "model": "direct"},
                            headers=party.client.headers)).json()["data"][0]
    return await flow.active(party, tpl["id"], **HOURLY_TERMS)  # type: ignore[no-any-return]


@pytest.fixture
def sheets(client: httpx.AsyncClient) -> Any:
    class Sheets:
        async def post(self, who: Any, contract_id: str, week: str = SEED_WEEK,
                       entries: list[dict[str, Any]] | None = None, **extra: Any
                       ) -> httpx.Response:
            body = {"contractId": contract_id, "weekEnding": week,
                    "entries": SEED_ENTRIES if entries is None else entries,
                    "notes": "Completed sprint 5 deliverables", **extra}
            return await client.post("/api/timesheets", json=body, headers=who.headers)

        async def submitted(self, who: Any, contract_id: str, **kw: Any) -> dict[str, Any]:
            response = await self.post(who, contract_id, **kw)
            assert response.status_code == 201, response.text
            return response.json()  # type: ignore[no-any-return]

        async def act(self, who: Any, timesheet_id: str, action: str,
                      body: dict[str, Any] | None = None) -> httpx.Response:
            return await client.post(f"/api/timesheets/{timesheet_id}/{action}", json=body,
                                     headers=who.headers)

        async def get(self, who: Any, timesheet_id: str) -> httpx.Response:
            return await client.get(f"/api/timesheets/{timesheet_id}", headers=who.headers)

    return Sheets()


async def events(app: Any, name: str) -> list[dict[str, Any]]:
    async with app.state.db.session() as session:
        rows = await session.execute(select(OutboxEvent).where(OutboxEvent.name == name)
                                     .order_by(OutboxEvent.occurred_at))
        return [r.payload for r in rows.scalars()]


async def journal(app: Any, entry_type: str = "timesheet_approval") -> list[LedgerEntry]:
    async with app.state.db.session() as session:
        rows = await session.execute(select(LedgerEntry).where(LedgerEntry.entry_type == entry_type)
                                     .order_by(LedgerEntry.seq))
        return list(rows.scalars())


async def count(app: Any, model: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)
