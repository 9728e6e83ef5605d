"""Whole-chain verification, streaming in constant memory.

Re-reads every entry in seq order through a server-side cursor and recomputes, for each:
seq continuity (a missing row is a gap), `payload_hash` from the stored canonical payload,
the link `prev_hash == previous entry_hash`, and `entry_hash` from the entry's fields. The
first entry that fails is reported by its seq, with the reason. Each stored Merkle tile is
recomputed from its entries as the stream passes its last entry.

What a chain cannot show by itself - the last entries deleted, or everything re-chained from
some point with freshly computed hashes - is caught by comparing with a digest exported
earlier (`against`): the entry at the digest's seq must have the digest's tip hash, the
Merkle root over 1..seq must match, and the journal must still reach that seq.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.ledger import repository
from mindlinks.ledger.merkle import TreeHasher, perfect_root
from mindlinks.ledger.tiles import TILE_HEIGHT, TILE_LEAVES
from mindlinks.ledger.verifier import GENESIS_PREV_HASH, compute_entry_hash, node_hash

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)


@dataclass(frozen=True, slots=True)
class Digest:
    """A journal digest: what to export and keep outside the database."""

    seq: int
    tip_hash: bytes
    merkle_root: bytes
    recorded_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "tipHash": self.tip_hash.hex(),
            "merkleRoot": self.merkle_root.hex(),
            "recordedAt": self.recorded_at.isoformat().replace("+00:00", "Z")
            if self.recorded_at
            else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Digest:
        recorded = data.get("recordedAt")
        at = datetime.fromisoformat(recorded.replace("Z", "+00:00")) if recorded else None
        tip, root = bytes.fromhex(data["tipHash"]), bytes.fromhex(data["merkleRoot"])
        if len(tip) != 32 or len(root) != 32 or int(data["seq"]) < 0:
            raise ValueError("not a journal digest")
        return cls(
            seq=int(data["seq"]),
            tip_hash=tip,
            merkle_root=root,
            recorded_at=at,
        )


@dataclass(frozen=True, slots=True)
class ChainReport:
    """`verified`: entries checked good before the first problem (all of them when intact)."""

    verified: int
    first_broken_seq: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def _micros(value: datetime) -> int:
    # Hot loop: plain arithmetic instead of astimezone() per row. Naive means UTC here.
    delta = value - (_EPOCH_NAIVE if value.tzinfo is None else _EPOCH)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _check_tiles(
    node: tuple[int, int, bytes],
    stack: list[tuple[int, int, bytes]],
    stored: dict[tuple[int, int], bytes],
) -> tuple[int, int] | None:
    """Compare a just-completed tile, and those it completes above it, with the stored ones.

    Returns the (height, position) of the first stored tile that differs. A tile that is not
    stored is skipped: digests then hash that subtree from the entries.
    """
    while True:
        height, position, digest = node
        want = stored.get((height, position))
        if want is not None and want != digest:
            return height, position
        if stack and stack[-1][0] == height:
            left = stack.pop()
            node = (height + 1, position // 2, node_hash(left[2], digest))
        else:
            stack.append(node)
            return None


async def verify_chain(
    session: AsyncSession,
    *,
    against: Digest | None = None,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Recompute the whole chain; report the first broken seq and why (constant memory).

    `progress` is called after each chunk with the number of entries read so far.
    """
    expected = 1
    prev = GENESIS_PREV_HASH
    anchor_seq = against.seq if against else 0
    tree = TreeHasher() if against and against.seq > 0 else None
    sha256 = hashlib.sha256

    def broken(seq: int, reason: str) -> ChainReport:
        return ChainReport(seq - 1, seq, reason)

    block: list[bytes] = []  # entry hashes of the current 256-leaf tile
    tile_stack: list[tuple[int, int, bytes]] = []  # completed tiles awaiting a right sibling

    async for chunk in repository.stream_chain(session):
        stored_tiles = await repository.tiles_ending_in(session, chunk[0][0], chunk[-1][0])
        for seq, entry_type, payload, payload_hash, prev_hash, entry_hash, recorded_at in chunk:
            if seq != expected:
                return broken(expected, f"entry {expected} is missing (next entry is {seq})")
            if sha256(payload.encode("utf-8")).digest() != payload_hash:
                return broken(seq, "payload does not match its payload_hash")
            if prev_hash != prev:
                return broken(seq, f"prev_hash does not match the entry_hash of entry {seq - 1}")
            if (
                compute_entry_hash(prev, seq, entry_type, payload_hash, _micros(recorded_at))
                != entry_hash
            ):
                return broken(seq, "entry_hash does not match the entry's fields")
            if tree is not None and against is not None and seq <= anchor_seq:
                tree.add(entry_hash)
                if seq == anchor_seq and (
                    entry_hash != against.tip_hash or tree.root() != against.merkle_root
                ):
                    return broken(
                        seq,
                        f"the chain up to entry {seq} differs from the exported digest "
                        f"(rewritten at or before {seq})",
                    )
            block.append(entry_hash)
            if not seq % TILE_LEAVES:
                bad = _check_tiles(
                    (TILE_HEIGHT, seq // TILE_LEAVES - 1, perfect_root(block)),
                    tile_stack,
                    stored_tiles,
                )
                if bad is not None:
                    first, last = bad[1] * (1 << bad[0]) + 1, (bad[1] + 1) << bad[0]
                    return broken(
                        seq,
                        f"stored Merkle tile {bad[0]}/{bad[1]} does not match entries "
                        f"{first}..{last}",
                    )
                block = []
            prev = entry_hash
            expected += 1
        if progress is not None:
            progress(expected - 1)
    last = expected - 1
    if against is not None and last < anchor_seq:
        return broken(
            last + 1,
            f"the journal ends at entry {last} but the exported digest covers {anchor_seq} "
            "(tail truncated)",
        )
    if against is not None and anchor_seq == 0 and against.merkle_root != TreeHasher().root():
        return broken(1, "the exported digest is not a digest of an empty journal")
    return ChainReport(last, None, None)
