"""`tests.builders.active_contract` leaves what the API flow (`flow.active`) leaves: the same
rows in every table, the same contract, signatures, payment schedule, journal entries, audit
records and outbox events - all but the PDFs' bytes (and so their hashes), which it does not
render. Many tests build their contracts with it, so if the signing flow changes and the
builder does not follow, this fails."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from mindlinks.contracts.models import Contract, ContractPayment, ContractSignature
from mindlinks.ledger.models import LedgerEntry
from mindlinks.models import load_all
from mindlinks.platform.audit import AuditLog
from mindlinks.platform.events import OutboxEvent
from mindlinks.platform.storage import get_storage
from tests.builders import PLACEHOLDER_PDF, active_contract
from tests.contracts.conftest import Party

pytestmark = pytest.mark.usefixtures("db_backend")

UUID_RE = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")


class Shape:
    """A build's state with what must differ between two builds replaced by labels: the
    parties' ids by their role, other ids, times and hashes by a placeholder, journal
    sequence numbers counted from the contract's first entry."""

    def __init__(self, party: Party, contract_id: str, first_seq: int) -> None:
        self.names = {party.client.user_id: "<client-user>", party.company_id: "<company>",
                      party.contractor.user_id: "<contractor-user>",
                      party.contractor_id: "<contractor>", contract_id: "<contract>"}
        self.first_seq = first_seq

    def __call__(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v, key) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and key.lower().endswith("seq"):
            return value - self.first_seq
        if isinstance(value, uuid.UUID):
            value = str(value)
        if isinstance(value, datetime):
            return "<time>"
        if isinstance(value, bytes):
            return "<bytes>"
        if isinstance(value, str):
            if value in self.names:
                return self.names[value]
            if TIME_RE.match(value):
                return "<time>"
            if HASH_RE.match(value):
                return "<hash>"
            # Storage keys and links hold ids, and a link its signature.
            value = re.sub(r"sig=[\w-]+", "sig=<sig>", re.sub(r"exp=\d+", "exp=<exp>", value))
            return UUID_RE.sub(lambda m: self.names.get(m.group(0), "<id>"), value)
        return value


def _row(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


async def _counts(app: Any) -> dict[str, int]:
    async with app.state.db.session() as session:
        return {t.name: int(await session.scalar(select(func.count()).select_from(t)) or 0)
                for t in load_all().metadata.sorted_tables}


async def _state(app: Any, party: Party, returned: dict[str, Any]) -> dict[str, Any]:
    """Everything the build left about its contract, shaped for comparison."""
    cid = uuid.UUID(returned["id"])
    storage = get_storage(app.state)
    async with app.state.db.session() as session:
        contract = await session.get(Contract, cid)
        assert contract is not None
        signatures = (await session.scalars(select(ContractSignature).where(
            ContractSignature.contract_id == cid).order_by(ContractSignature.signed_at))).all()
        payments = (await session.scalars(select(ContractPayment).where(
            ContractPayment.contract_id == cid).order_by(ContractPayment.due_date))).all()
        entries = (await session.scalars(select(LedgerEntry).where(
            LedgerEntry.entity_id == str(cid)).order_by(LedgerEntry.seq))).all()
        audits = (await session.scalars(select(AuditLog).where(
            AuditLog.entity_id == str(cid)).order_by(AuditLog.created_at))).all()
        events = [e for e in (await session.scalars(select(OutboxEvent).order_by(
            OutboxEvent.occurred_at))).all() if e.payload.get("contractId") == str(cid)]
    # Every stored document and signature image is there to read.
    for key in [contract.document_key, contract.signed_document_key,
                *(s.image_key for s in signatures)]:
        assert key and await storage.get(key)
    shape = Shape(party, str(cid), entries[0].seq)
    return shape({
        "returned": returned,
        "contract": _row(contract),
        "signatures": [_row(s) for s in signatures],
        "payments": [_row(p) for p in payments],
        "journal": [{"type": e.entry_type, "entity": e.entity_type, "seq": e.seq,
                     "payload": json.loads(e.payload)} for e in entries],
        "audit": [{k: v for k, v in _row(a).items() if k != "request_id"} for a in audits],
        "events": [{"name": e.name, "payload": e.payload} for e in events],
    })


@pytest.mark.parametrize("over", [
    {},
    {"type": "hourly", "rate": 50, "startDate": "2024-11-01", "endDate": None},
    {"type": "milestone", "rate": 3000, "milestones": [{"title": "Design", "amount": 1200},
                                                       {"title": "Build", "amount": 1800}]},
], ids=["fixed", "hourly", "milestone"])
async def test_the_builder_leaves_what_the_signing_flow_leaves(
    app: Any, client: Any, make_party: Any, flow: Any, over: dict[str, Any],
) -> None:
    states, added = [], []
    for build in ("flow", "builder"):
        party = await make_party()
        before = await _counts(app)
        if build == "flow":
            templates = await client.get("/api/contract-templates", headers=party.client.headers,
                                         params={"type": over.get("type", "fixed"),
                                                 "model": "direct"})
            returned = await flow.active(party, templates.json()["data"][0]["id"], **over)
        else:
            returned = await active_contract(app, party, **over)
        after = await _counts(app)
        added.append({t: after[t] - before[t] for t in after if after[t] != before[t]})
        states.append(await _state(app, party, returned))
    assert added[0] == added[1]
    assert states[0] == states[1]
    assert states[1]["contract"]["status"] == "active"
    # The builder's saving is real: its documents are the placeholder, not rendered PDFs.
    async with app.state.db.session() as session:
        built = await session.get(Contract, uuid.UUID(returned["id"]))
        assert built is not None and built.signed_document_key is not None
    assert await get_storage(app.state).get(built.signed_document_key) == PLACEHOLDER_PDF
