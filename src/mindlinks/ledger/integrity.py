"""Check entries against the chain before serving them.

With the immutability triggers out of the way (a superuser), an edited row would otherwise be
served as if it were the record. So every read that hands out an entry's content first
recomputes, for each entry:

1. `payload_hash` from the stored canonical payload;
2. `entry_hash` from the entry's fields (seq, type, payload hash, time, prev_hash);
3. the chain links: `prev_hash` equals the previous entry's `entry_hash` (32 zero bytes for
   entry 1), and the next entry, when there is one, names this entry's `entry_hash`;
4. (`deep=True`, single-entry reads) the stored Merkle tile that covers the entry, recomputed
   from its 256 entry hashes - a forger who re-chains everything after the entry must also
   forge that tile.

A failure raises `JournalBroken` (409 `ledger_broken`), never a partial answer. What a chain
cannot show by itself (a rewritten tail) is still only caught against an exported digest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.ledger import repository
from mindlinks.ledger.merkle import perfect_root
from mindlinks.ledger.models import LedgerEntry
from mindlinks.ledger.tiles import TILE_HEIGHT, TILE_LEAVES
from mindlinks.ledger.verifier import GENESIS_PREV_HASH, compute_entry_hash, recorded_at_micros

JournalBroken = repository.JournalBroken


def _micros(value: datetime) -> int:
    # SQLite hands back naive datetimes; what was stored is UTC.
    return recorded_at_micros(value if value.tzinfo else value.replace(tzinfo=UTC))


def _broken(seq: int, why: str) -> JournalBroken:
    return JournalBroken(f"Journal entry {seq} fails its integrity check ({why})")


async def check_entries(
    session: AsyncSession, entries: Sequence[LedgerEntry], *, deep: bool = False
) -> None:
    """Raise `JournalBroken` unless every entry matches its hashes and its neighbours."""
    if not entries:
        return
    for e in entries:
        payload_hash = hashlib.sha256(e.payload.encode("utf-8")).digest()
        if payload_hash != bytes(e.payload_hash):
            raise _broken(e.seq, "payload does not match its hash")
        recomputed = compute_entry_hash(
            bytes(e.prev_hash), e.seq, e.entry_type, payload_hash, _micros(e.recorded_at)
        )
        if recomputed != bytes(e.entry_hash):
            raise _broken(e.seq, "entry hash does not match the entry's fields")
    neighbours = await repository.links(
        session, [s for e in entries for s in (e.seq - 1, e.seq + 1) if s >= 1]
    )
    for e in entries:
        if e.seq == 1:
            expected_prev: bytes | None = GENESIS_PREV_HASH
        else:
            before = neighbours.get(e.seq - 1)
            expected_prev = before[1] if before else None
        if expected_prev is None:
            raise _broken(e.seq, f"entry {e.seq - 1} is missing")
        if bytes(e.prev_hash) != expected_prev:
            raise _broken(e.seq, f"prev_hash is not entry {e.seq - 1}'s hash")
        after = neighbours.get(e.seq + 1)
        if after is not None and after[0] != bytes(e.entry_hash):
            raise _broken(e.seq, f"entry {e.seq + 1} does not link to it")
    if deep:
        for position in sorted({(e.seq - 1) // TILE_LEAVES for e in entries}):
            await _check_tile(session, position)


async def _check_tile(session: AsyncSession, position: int) -> None:
    stored = (await repository.tiles(session, [(TILE_HEIGHT, position)])).get(
        (TILE_HEIGHT, position)
    )
    if stored is None:  # the tile is not complete yet: the links above are the check
        return
    first = position * TILE_LEAVES + 1
    hashes = await repository.entry_hashes(session, first, first + TILE_LEAVES - 1)
    if len(hashes) != TILE_LEAVES or perfect_root(hashes) != stored:
        raise JournalBroken(
            f"Journal entries {first}..{first + TILE_LEAVES - 1} do not match their stored "
            "Merkle tile"
        )
