"""Helpers for the contractors tests: registered contractors with their tokens, sample files,
the sandbox bank statement, and event delivery."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import text

from tests.factories import Account, bearer, register

SVG_WITH_SCRIPT = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
                   b'<script>alert(document.cookie)</script></svg>')

# A valid US ABA routing number (checksum 3-7-1) and an account number.
ABA = "011000015"
ACCOUNT = "000123456789"
IBAN_DE = "DE89370400440532013000"


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def make_contractor(client: httpx.AsyncClient):  # type: ignore[no-untyped-def]
    async def _make(name: str = "Ada Lovelace") -> Account:
        return Account(await register(client, "contractor", name=name))

    return _make


@pytest.fixture
async def client_user(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer((await register(client, "client", name="Acme Buyer"))["accessToken"])


async def events_named(app: Any, name: str) -> list[dict[str, Any]]:
    async with app.state.db.session() as session:
        rows = (await session.execute(
            text("SELECT payload FROM platform_outbox_events WHERE name = :n ORDER BY created_at"),
            {"n": name},
        )).scalars().all()
    import json

    return [r if isinstance(r, dict) else json.loads(r) for r in rows]


async def emit_event(app: Any, name: str, payload: dict[str, Any]) -> None:
    from mindlinks.platform.events import emit

    async with app.state.db.session() as session:
        await emit(session, name, payload)
    await app.state.dispatcher.drain()


async def complete_profile(client: httpx.AsyncClient, who: Account, **extra: Any) -> None:
    body = {
        "phone": "+14155552671", "country": "US", "timezone": "America/New_York",
        "legalName": "Ada Lovelace",
        "address": {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345",
                    "country": "US"},
        **extra,
    }
    response = await client.put("/api/contractors/me", json=body, headers=who.headers)
    assert response.status_code == 200, response.text


async def add_us_account(client: httpx.AsyncClient, who: Account, **extra: Any
                         ) -> dict[str, Any]:
    body = {"accountHolderName": "Ada Lovelace", "bankName": "First Bank", "currency": "USD",
            "country": "US", "accountNumber": ACCOUNT, "routingNumber": ABA, **extra}
    response = await client.post("/api/contractors/me/bank-accounts", json=body,
                                 headers=who.headers)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def statement_amounts(app: Any, account_id: str) -> list[int]:
    import uuid

    amounts: list[int] = app.state.micro_deposit_sender.latest_amounts(uuid.UUID(account_id))
    return amounts
