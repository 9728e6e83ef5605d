"""Tamper detection (RELIABILITY 35): someone with direct SQL access (triggers out of the way)
edits, deletes, swaps or re-chains entries; verification names the exact first broken seq,
and what the chain alone cannot show is caught against a digest exported beforehand."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import bindparam, text, update

from mindlinks.ledger import service
from mindlinks.ledger.models import LedgerEntry
from mindlinks.ledger.verifier import compute_entry_hash, recorded_at_micros
from mindlinks.platform.db import Database

from .helpers import digest, fill, tamper, tamper_row, verify

N = 10_000
SMALL = 300


async def _rechain_from(
    database: Database, start: int, new_payload_at: dict[int, str], *, drop_tiles: bool = True
) -> None:
    """A thorough forger: rewrite payloads, then recompute every hash from `start` onwards
    (and delete the stored Merkle tiles over the rewritten part, which would betray him)."""
    async with database.engine.begin() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT seq, entry_type, payload, recorded_at FROM ledger_entries "
                    "WHERE seq >= :s ORDER BY seq"
                ),
                {"s": start},
            )
        ).all()
        prev_row = (
            await conn.execute(
                text("SELECT entry_hash FROM ledger_entries WHERE seq = :s"), {"s": start - 1}
            )
        ).first()
    prev = bytes(prev_row[0]) if prev_row else bytes(32)
    async with database.session() as session:
        head_at = (await service.digest(session)).recorded_at
    assert head_at is not None
    updates = []
    for seq, entry_type, payload, _recorded in rows:
        payload = new_payload_at.get(seq, payload)
        ph = hashlib.sha256(payload.encode()).digest()
        # All rewritten rows share the head's timestamp, so recompute with it.
        eh = compute_entry_hash(prev, seq, entry_type, ph, recorded_at_micros(head_at))
        updates.append(
            {"b_seq": seq, "p": payload, "ph": ph, "prev": prev, "eh": eh, "at": head_at}
        )
        prev = eh
    async with database.engine.begin() as conn:
        if database.is_sqlite:
            await conn.execute(text("DROP TRIGGER IF EXISTS ledger_entries_no_update"))
            await conn.execute(text("DROP TRIGGER IF EXISTS ledger_tiles_no_delete"))
        else:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
        if drop_tiles:
            await conn.execute(text("DELETE FROM ledger_tiles WHERE end_leaf >= :s"), {"s": start})
        t = LedgerEntry.__table__
        await conn.execute(
            update(t)
            .where(t.c.seq == bindparam("b_seq"))
            .values(
                payload=bindparam("p"),
                payload_hash=bindparam("ph"),
                prev_hash=bindparam("prev"),
                entry_hash=bindparam("eh"),
                recorded_at=bindparam("at"),
            ),
            updates,
        )


async def test_ten_thousand_entries_edit_in_the_middle_is_named(database: Database) -> None:
    await fill(database, N)
    assert (await verify(database)).verified == N
    await tamper(
        database,
        "UPDATE ledger_entries SET payload = replace(payload, :old, :new) WHERE seq = 4777",
        old='"amountMinor":5777',
        new='"amountMinor":9999',
    )
    report = await verify(database)
    assert report.first_broken_seq == 4777
    assert report.verified == 4776
    assert report.reason == "payload does not match its payload_hash"


async def test_payload_edit_with_recomputed_payload_hash(database: Database) -> None:
    await fill(database, SMALL)
    forged = '{"amountMinor":1,"currency":"USD","n":120,"ref":"pay-120"}'
    await tamper(
        database,
        "UPDATE ledger_entries SET payload = :p, payload_hash = :h WHERE seq = 120",
        p=forged,
        h=hashlib.sha256(forged.encode()).digest(),
    )
    report = await verify(database)
    assert (report.first_broken_seq, report.reason) == (
        120,
        "entry_hash does not match the entry's fields",
    )


async def test_changed_hashes_and_timestamps(database: Database) -> None:
    await fill(database, SMALL)
    await tamper(
        database, "UPDATE ledger_entries SET entry_hash = :h WHERE seq = 200", h=b"\x07" * 32
    )
    report = await verify(database)
    assert (report.first_broken_seq, report.reason) == (
        200,
        "entry_hash does not match the entry's fields",
    )

    await tamper(
        database, "UPDATE ledger_entries SET prev_hash = :h WHERE seq = 50", h=b"\x00" * 32
    )
    report = await verify(database)
    assert report.first_broken_seq == 50
    assert report.reason == "prev_hash does not match the entry_hash of entry 49"


async def test_recorded_at_is_covered(database: Database) -> None:
    await fill(database, SMALL)
    stamp = (await digest(database, 77)).recorded_at
    assert stamp is not None
    await tamper_row(database, 77, recorded_at=stamp - timedelta(days=1))
    report = await verify(database)
    assert (report.first_broken_seq, report.reason) == (
        77,
        "entry_hash does not match the entry's fields",
    )


async def test_deleted_entry_is_named(database: Database) -> None:
    await fill(database, SMALL)
    await tamper(database, "DELETE FROM ledger_entries WHERE seq = 150")
    report = await verify(database)
    assert report.first_broken_seq == 150
    assert report.reason == "entry 150 is missing (next entry is 151)"
    assert report.verified == 149


async def test_swapped_entries_are_named(database: Database) -> None:
    await fill(database, SMALL)
    await tamper(
        database,
        "UPDATE ledger_entries SET seq = -1 WHERE seq = 90",
        "UPDATE ledger_entries SET seq = 90 WHERE seq = 210",
        "UPDATE ledger_entries SET seq = 210 WHERE seq = -1",
    )
    report = await verify(database)
    assert report.first_broken_seq == 90
    assert report.reason == "prev_hash does not match the entry_hash of entry 89"


async def test_swapped_payloads_are_named(database: Database) -> None:
    await fill(database, SMALL)
    async with database.engine.connect() as conn:
        a, b = (
            await conn.execute(
                text("SELECT payload FROM ledger_entries WHERE seq IN (30, 31) ORDER BY seq")
            )
        ).scalars()
    await tamper(
        database,
        "UPDATE ledger_entries SET payload = :b WHERE seq = 30",
        "UPDATE ledger_entries SET payload = :a WHERE seq = 31",
        a=a,
        b=b,
    )
    assert (await verify(database)).first_broken_seq == 30


async def test_truncated_tail_is_caught_against_an_exported_digest(database: Database) -> None:
    await fill(database, SMALL)
    anchored = await digest(database)
    await tamper(database, "DELETE FROM ledger_entries WHERE seq > 280")
    # The shortened chain is internally consistent: only the digest can tell.
    assert (await verify(database)).ok
    report = await verify(database, anchored)
    assert report.first_broken_seq == 281
    assert "tail truncated" in (report.reason or "")
    assert report.verified == 280


async def test_truncated_and_re_extended_tail_is_caught(database: Database) -> None:
    await fill(database, SMALL)
    anchored = await digest(database)
    await tamper(
        database,
        "DELETE FROM ledger_entries WHERE seq > 250",
        "DELETE FROM ledger_tiles WHERE end_leaf > 250",
    )
    await fill(database, 80)  # new, different entries 251..330
    assert (await verify(database)).ok
    report = await verify(database, anchored)
    assert report.first_broken_seq == SMALL
    assert "differs from the exported digest" in (report.reason or "")


async def test_full_rechain_is_caught_against_an_exported_digest(database: Database) -> None:
    await fill(database, SMALL)
    anchored = await digest(database)
    early = await digest(database, 100)
    forged = '{"amountMinor":1,"currency":"USD","n":5,"ref":"pay-5"}'
    await _rechain_from(database, 1, {5: forged})
    assert (await verify(database)).ok  # a perfect re-chain fools the chain alone
    for anchor in (anchored, early):
        report = await verify(database, anchor)
        assert report.first_broken_seq == anchor.seq
        assert "rewritten at or before" in (report.reason or "")


async def test_rechain_of_a_suffix_after_the_digest_is_not_blamed_on_it(database: Database) -> None:
    """Entries after the anchored seq are new to the digest: it vouches only for 1..seq."""
    await fill(database, SMALL)
    anchored = await digest(database, 200)
    await _rechain_from(database, 201, {250: '{"amountMinor":0}'})
    assert (await verify(database, anchored)).ok
    report = await verify(database, await digest(database, 200))
    assert report.ok


async def test_a_digest_from_another_journal_is_refused(database: Database) -> None:
    await fill(database, 20)
    real = await digest(database)
    other = service.Digest(real.seq, real.tip_hash, hashlib.sha256(b"other").digest(), None)
    report = await verify(database, other)
    assert report.first_broken_seq == 20
    assert (await verify(database, real)).ok
    empty = service.Digest(0, bytes(32), hashlib.sha256(b"").digest(), None)
    assert (await verify(database, empty)).ok


async def test_rechain_that_keeps_the_stored_tiles_is_caught_by_them(database: Database) -> None:
    await fill(database, 600)
    await _rechain_from(database, 300, {310: '{"amountMinor":0}'}, drop_tiles=False)
    report = await verify(database)
    # Tiles: 1..256 (untouched), 257..512 (rewritten from 300): the second one betrays it.
    assert report.first_broken_seq == 512
    assert report.reason == "stored Merkle tile 8/1 does not match entries 257..512"


async def test_a_forged_tile_is_named(database: Database) -> None:
    await fill(database, 1100)
    await tamper(
        database,
        "UPDATE ledger_tiles SET node_hash = :h WHERE height = 9 AND position = 0",
        h=b"\x05" * 32,
    )
    report = await verify(database)
    assert report.first_broken_seq == 512
    assert report.reason == "stored Merkle tile 9/0 does not match entries 1..512"
