"""Appending to the journal: seq, hashes, canonical payloads, immutability, rollback."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import uuid

import orjson
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from mindlinks.ledger import service, verifier
from mindlinks.ledger.models import LedgerEntry
from mindlinks.platform.db import Database
from mindlinks.platform.errors import ValidationFailed

from .helpers import digest, fill, verify


async def _rows(database: Database) -> list[LedgerEntry]:
    async with database.session() as session:
        return list(
            (await session.execute(select(LedgerEntry).order_by(LedgerEntry.seq))).scalars()
        )


async def test_entries_chain_from_genesis_with_gap_free_seq(database: Database) -> None:
    contract = uuid.uuid4()
    async with database.session() as session:
        first = await service.append(
            session,
            entry_type="signature",
            entity_type="contract",
            entity_id=contract,
            payload={"contractId": contract, "role": "client", "documentHash": "ab" * 32},
        )
        second = await service.append(
            session,
            entry_type=service.EntryType.CONTRACT_ACTIVATION,
            entity_type="contract",
            entity_id=contract,
            payload={"contractId": str(contract), "amountMinor": 500000, "currency": "EUR"},
        )
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == bytes(32)
    assert second.prev_hash == first.entry_hash

    rows = await _rows(database)
    assert [r.seq for r in rows] == [1, 2]
    for row, appended in zip(rows, (first, second), strict=True):
        # Canonical: sorted keys, no whitespace; the stored text is exactly what was hashed.
        assert (
            row.payload
            == orjson.dumps(orjson.loads(row.payload), option=orjson.OPT_SORT_KEYS).decode()
        )
        assert " " not in row.payload
        assert row.payload_hash == hashlib.sha256(row.payload.encode()).digest()
        assert (
            row.entry_hash
            == appended.entry_hash
            == verifier.compute_entry_hash(
                row.prev_hash,
                row.seq,
                row.entry_type,
                row.payload_hash,
                verifier.recorded_at_micros(row.recorded_at),
            )
        )
        assert row.recorded_at == appended.recorded_at
    if database.is_sqlite:
        # Stored exactly as the ORM stores a UTCDateTime, though written by the raw insert.
        async with database.engine.connect() as conn:
            raw = (await conn.exec_driver_sql("SELECT recorded_at FROM ledger_entries")).scalars()
            for value in raw:
                assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", value), value
    assert rows[0].payload.startswith('{"contractId":"' + str(contract) + '","documentHash"')
    assert rows[1].entry_type == "contract_activation"
    assert (await verify(database)).ok


async def test_a_rolled_back_append_leaves_no_gap(database: Database) -> None:
    await fill(database, 3)
    with pytest.raises(RuntimeError):
        async with database.session() as session:
            await service.append(
                session,
                entry_type="payment_event",
                entity_type="payment",
                entity_id="p",
                payload={"amountMinor": 1},
            )
            raise RuntimeError("the caller's change failed")
    async with database.session() as session:
        entry = await service.append(
            session,
            entry_type="payment_event",
            entity_type="payment",
            entity_id="p",
            payload={"amountMinor": 2},
        )
    assert entry.seq == 4
    report = await verify(database)
    assert (report.verified, report.first_broken_seq) == (4, None)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"amount": 10.5}, "ledger_payload"),
        ({"nested": [{"fee": 0.1}]}, "ledger_payload"),
        ({"email": "ann@example.com"}, "ledger_pii"),
        ({"signer": {"ipAddress": "203.0.113.7"}}, "ledger_pii"),
        ({"ip_address": "203.0.113.7"}, "ledger_pii"),
        ({"full_name": "Ann Lee"}, "ledger_pii"),
        ({"iban": "DE89370400440532013000"}, "ledger_pii"),
        ({1: "x"}, "ledger_payload"),
        ({"blob": object()}, "ledger_payload"),
    ],
)
async def test_payloads_refuse_floats_personal_data_and_non_json(
    database: Database, payload: dict, code: str
) -> None:
    async with database.session() as session:
        with pytest.raises(ValidationFailed) as err:
            await service.append(
                session,
                entry_type="signature",
                entity_type="contract",
                entity_id="c",
                payload=payload,
            )
    assert err.value.code == code
    assert (await digest(database)).seq == 0


async def test_hashed_personal_data_is_accepted(database: Database) -> None:
    async with database.session() as session:
        entry = await service.append(
            session,
            entry_type="signature",
            entity_type="contract",
            entity_id="c",
            payload={
                "emailHash": "aa" * 32,
                "ipHash": "bb" * 32,
                "signerUserId": str(uuid.uuid4()),
            },
        )
    assert entry.seq == 1


@pytest.mark.parametrize("bad", ["", "Signature", "sig nature", "x" * 65, "1abc"])
async def test_entry_and_entity_types_are_checked(database: Database, bad: str) -> None:
    async with database.session() as session:
        with pytest.raises(ValidationFailed):
            await service.append(
                session, entry_type=bad, entity_type="contract", entity_id="c", payload={}
            )
        with pytest.raises(ValidationFailed):
            await service.append(
                session, entry_type="signature", entity_type=bad, entity_id="c", payload={}
            )


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entries SET payload = '{}' WHERE seq = 2",
        "UPDATE ledger_entries SET entry_type = 'admin_action'",
        "DELETE FROM ledger_entries WHERE seq = 3",
        "DELETE FROM ledger_entries",
    ],
)
async def test_the_database_refuses_to_change_or_delete_entries(
    database: Database, statement: str
) -> None:
    await fill(database, 3)
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.engine.begin() as conn:
            await conn.execute(text(statement))
    assert len(await _rows(database)) == 3
    assert (await verify(database)).verified == 3


async def test_postgresql_refuses_truncate(database: Database) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite has no TRUNCATE (DELETE without WHERE is covered above)")
    await fill(database, 2)
    with pytest.raises(DBAPIError, match="append-only"):
        async with database.engine.begin() as conn:
            await conn.execute(text("TRUNCATE ledger_entries"))
    assert len(await _rows(database)) == 2


async def test_append_many_is_one_ordered_run(database: Database) -> None:
    await fill(database, 2500, batch=1000)
    rows = await _rows(database)
    assert [r.seq for r in rows] == list(range(1, 2501))
    assert all(b.prev_hash == a.entry_hash for a, b in itertools.pairwise(rows))
    async with database.session() as session:
        assert await service.append_many(session, []) == []
    assert (await verify(database)).verified == 2500


async def test_concurrent_appends_never_fork_the_chain(database: Database) -> None:
    if database.is_sqlite:
        pytest.skip("SQLite has a single writer; concurrency is PostgreSQL's case")
    writers, per_writer = 12, 15

    async def writer(w: int) -> list[int]:
        seqs = []
        for i in range(per_writer):
            async with database.session() as session:
                # Read-modify-write inside the transaction, as a real caller would.
                await session.execute(text("SELECT 1"))
                entry = await service.append(
                    session,
                    entry_type="payment_event",
                    entity_type="wallet",
                    entity_id=f"w{w}",
                    payload={"writer": w, "i": i, "amountMinor": i},
                )
                await asyncio.sleep(0)
                seqs.append(entry.seq)
        return seqs

    results = await asyncio.gather(*(writer(w) for w in range(writers)))
    all_seqs = sorted(s for r in results for s in r)
    assert all_seqs == list(range(1, writers * per_writer + 1))
    report = await verify(database)
    assert (report.verified, report.first_broken_seq) == (writers * per_writer, None)
    rows = await _rows(database)
    assert len({r.prev_hash for r in rows}) == len(rows)  # no two entries share a parent
