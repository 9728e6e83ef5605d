"""Reads after tampering: with the triggers out of the way, an edited entry is never served.

`GET /api/ledger/entries/{seq}` and an entity's history recompute the entry's hashes and
check its links (and, for one entry, its Merkle tile) before answering; a broken entry is
409 `ledger_broken`, never the edited payload."""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

import httpx
import pytest

from mindlinks.ledger import service
from mindlinks.ledger.tiles import TILE_LEAVES
from mindlinks.ledger.verifier import compute_entry_hash, recorded_at_micros
from tests.factories import Account

from .helpers import digest, fill, tamper, tamper_row

pytestmark = pytest.mark.usefixtures("db_backend")


async def _get(client: httpx.AsyncClient, admin: Account, seq: int) -> httpx.Response:
    return await client.get(f"/api/ledger/entries/{seq}", headers=admin.headers)


def _broken(response: httpx.Response) -> bool:
    return (
        response.status_code == 409
        and response.headers["content-type"].startswith("application/problem+json")
        and response.json()["code"] == "ledger_broken"
    )


async def test_edited_payload_is_refused_not_served(
    app: Any, client: httpx.AsyncClient, admin: Account
) -> None:
    await fill(app.state.db, 10)
    assert (await _get(client, admin, 5)).status_code == 200
    await tamper(
        app.state.db,
        "UPDATE ledger_entries SET payload = :p WHERE seq = 5",
        p='{"amountMinor":999999,"currency":"USD","n":5,"ref":"pay-5"}',
    )
    response = await _get(client, admin, 5)
    assert _broken(response), response.text
    assert "999999" not in response.text
    # Its neighbours are untouched and still served.
    assert (await _get(client, admin, 4)).status_code == 200
    history = await client.get(
        "/api/ledger/entities/payment/payment-4/history", headers=admin.headers
    )  # entry 5 is entity payment-4 (fill: (i) % 7 with i = 4)
    assert _broken(history), history.text


async def test_payload_and_hashes_rewritten_together_break_the_next_link(
    app: Any, client: httpx.AsyncClient, admin: Account
) -> None:
    await fill(app.state.db, 10)
    row = (await _get(client, admin, 5)).json()
    payload = '{"amountMinor":1,"currency":"USD","n":5,"ref":"pay-5"}'
    payload_hash = hashlib.sha256(payload.encode()).digest()
    async with app.state.db.session() as session:
        entry = await service.repository.get(session, 5)
        assert entry is not None
        at = entry.recorded_at
        micros = recorded_at_micros(at if at.tzinfo else at.replace(tzinfo=UTC))
    entry_hash = compute_entry_hash(
        bytes.fromhex(row["prevHash"]), 5, "payment_event", payload_hash, micros
    )
    await tamper_row(
        app.state.db, 5, payload=payload, payload_hash=payload_hash, entry_hash=entry_hash
    )
    response = await _get(client, admin, 5)
    assert _broken(response), response.text
    assert "entry 6 does not link" in response.json()["detail"]


async def test_rechained_suffix_is_caught_by_the_stored_tile(
    app: Any, client: httpx.AsyncClient, admin: Account
) -> None:
    """A forger who rewrites entry 100 and re-chains every later entry keeps all links
    consistent; the stored Merkle tile of entries 1..256 still betrays the edit."""
    await fill(app.state.db, TILE_LEAVES + 4)
    head_at = (await digest(app.state.db)).recorded_at
    assert head_at is not None
    micros = recorded_at_micros(head_at)
    async with app.state.db.session() as session:
        prev = (await service.repository.links(session, [99]))[99][1]
        rows = [await service.repository.get(session, s) for s in range(100, TILE_LEAVES + 5)]
    for entry in rows:
        assert entry is not None
        payload = entry.payload.replace('"currency":"USD"', '"currency":"EUR"')
        payload_hash = hashlib.sha256(payload.encode()).digest()
        entry_hash = compute_entry_hash(prev, entry.seq, entry.entry_type, payload_hash, micros)
        await tamper_row(
            app.state.db, entry.seq, payload=payload, payload_hash=payload_hash,
            prev_hash=prev, entry_hash=entry_hash,
        )
        prev = entry_hash
    response = await _get(client, admin, 100)
    assert _broken(response), response.text
    assert "Merkle tile" in response.json()["detail"]
    # Past the last complete tile only the links can speak, and they were forged consistently.
    assert (await _get(client, admin, TILE_LEAVES + 4)).status_code == 200


async def test_deleted_predecessor_is_refused(
    app: Any, client: httpx.AsyncClient, admin: Account
) -> None:
    await fill(app.state.db, 6)
    await tamper(app.state.db, "DELETE FROM ledger_entries WHERE seq = 3")
    response = await _get(client, admin, 4)
    assert _broken(response), response.text
    assert "entry 3 is missing" in response.json()["detail"]
