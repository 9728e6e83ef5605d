"""Both parties signing at the same moment activate the contract exactly once.

The contract row is locked (`SELECT ... FOR UPDATE`) for the whole signing transaction on
PostgreSQL, so the second signer waits, then sees the first signature and activates. Without
the lock both would move `pending` to their own `x_signed` and nobody would activate. SQLite
serialises writers, so the race cannot happen there: the test runs on PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.contracts.models import Contract, ContractSignature
from mindlinks.ledger.models import LedgerEntry
from mindlinks.platform.events import OutboxEvent

pytestmark = [pytest.mark.usefixtures("db_backend"), pytest.mark.race]

ROUNDS = 4


async def test_simultaneous_signatures_activate_exactly_once(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    for _ in range(ROUNDS):
        contract = await flow.sent(party, fixed_template["id"])
        cid = contract["id"]
        first, second = await asyncio.gather(flow.sign(party.client, cid),
                                             flow.sign(party.contractor, cid))
        assert first.status_code == 200, first.text
        assert second.status_code == 200, second.text
        statuses = sorted([first.json()["status"], second.json()["status"]])
        assert "active" in statuses and statuses.count("active") == 1, statuses

        async with app.state.db.session() as session:
            row = await session.get(Contract, uuid.UUID(cid))
            assert row is not None and row.status == "active"
            assert row.client_signed_at and row.contractor_signed_at
            sigs = await session.scalar(select(func.count()).select_from(ContractSignature)
                                        .where(ContractSignature.contract_id == row.id))
            kinds = (await session.execute(select(LedgerEntry.entry_type)
                                           .where(LedgerEntry.entity_id == cid))).scalars().all()
            activated = await session.scalar(
                select(func.count()).select_from(OutboxEvent)
                .where(OutboxEvent.name == "contract.activated",
                       OutboxEvent.payload["contractId"].as_string() == cid))
        assert sigs == 2
        assert sorted(kinds) == ["contract_activation", "fully_signed", "signature",
                                 "signature"]
        assert activated == 1
