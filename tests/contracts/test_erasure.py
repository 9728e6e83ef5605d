"""RELIABILITY 37, shred-safe chain: destroying a contractor's data key makes their encrypted
fields unreadable while the journal, which only ever held ids, hashes and amounts, still
verifies against a digest taken before, with the amounts intact."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select

from mindlinks.contractors.models import BankAccount
from mindlinks.ledger import service as ledger
from mindlinks.ledger.models import LedgerEntry
from mindlinks.ledger.verification import verify_chain
from mindlinks.platform.crypto import DataKeyDestroyed, destroy_subject_key, unseal

ACCOUNT, ABA = "000123456789", "011000015"


async def test_shredding_a_contractor_keeps_the_chain_and_the_amounts(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
) -> None:
    created = await client.post(
        "/api/contractors/me/bank-accounts", headers=party.contractor.headers,
        json={"accountHolderName": "Ada Lovelace", "bankName": "First Bank", "currency": "USD",
              "country": "US", "accountNumber": ACCOUNT, "routingNumber": ABA})
    assert created.status_code == 201, created.text
    contract = await flow.active(party, fixed_template["id"], rate=4321)
    async with app.state.db.session() as session:
        before = await ledger.digest(session)

    async with app.state.db.session() as session:
        assert await destroy_subject_key(session, uuid.UUID(party.contractor_id)) is True

    # The personal data is gone for good...
    async with app.state.db.session() as session:
        account = await session.get(BankAccount, uuid.UUID(created.json()["id"]))
        with pytest.raises(DataKeyDestroyed):
            await unseal(session, account, "account_number_enc")
    # The API still answers (the masked last four digits are kept apart from the ciphertext).
    listed = await client.get("/api/contractors/me/bank-accounts",
                              headers=party.contractor.headers)
    assert listed.status_code == 200 and listed.json()[0]["accountNumber"] == "****6789"

    # ... the journal still verifies, against the digest taken before, and keeps the amounts.
    async with app.state.db.session() as session:
        report = await verify_chain(session, against=before)
        assert report.ok, report
        entries = (await session.execute(
            select(LedgerEntry).where(LedgerEntry.entity_type == "contract",
                                      LedgerEntry.entity_id == contract["id"])
            .order_by(LedgerEntry.seq))).scalars().all()
    payloads = [orjson.loads(e.payload) for e in entries]
    activation = next(p for p in payloads if "rateMinor" in p)
    assert activation["rateMinor"] == 432100 and activation["currency"] == "USD"
    assert len(entries) >= 4  # both signatures, fully signed, activation
    text = " ".join(e.payload for e in entries)
    for personal in ("Ada Lovelace", "Grace Hopper", ACCOUNT, "@"):
        assert personal not in text
