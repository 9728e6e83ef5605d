"""Stored Merkle nodes ("tiles"): roots and proofs in O(log n) instead of O(n).

Every complete, aligned subtree of 2**8 = 256 leaves, and every complete aligned subtree
above it, gets its RFC 6962 hash stored in `ledger_tiles` by the transaction that completes
it (about 2 rows per 256 entries). The MTH of any range a proof or digest needs - always
aligned, see `merkle` - is then the fold of its binary decomposition into perfect subtrees:
the big ones are tiles, the small tail (< 256 leaves) is hashed from the entries. A missing
tile is not an error: that piece is hashed from its entries instead.

Tiles are derived data. `verification.verify_chain` recomputes each one from the entries and
reports a tile that does not match; a forged tile can only make a proof fail against a digest
the client already trusts, never make a false one pass.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.ledger import repository
from mindlinks.ledger.merkle import TreeHasher, perfect_root
from mindlinks.ledger.verifier import node_hash

TILE_HEIGHT = 8
TILE_LEAVES = 1 << TILE_HEIGHT

Tile = tuple[int, int, int, bytes]  # height, position, end_leaf, node_hash


def perfect_pieces(lo: int, hi: int) -> list[tuple[int, int]]:
    """[lo, hi) as consecutive aligned perfect subtrees, largest first when lo is aligned."""
    pieces = []
    a = lo
    while a < hi:
        size = 1 << ((hi - a).bit_length() - 1)
        while a % size:
            size >>= 1
        pieces.append((a, a + size))
        a += size
    return pieces


async def _leaf_roots(
    session: AsyncSession, pieces: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], bytes]:
    """MTH of each piece from its entries; consecutive pieces share one streamed read."""
    out: dict[tuple[int, int], bytes] = {}
    i = 0
    while i < len(pieces):
        j = i
        while j + 1 < len(pieces) and pieces[j + 1][0] == pieces[j][1]:
            j += 1
        run = pieces[i : j + 1]
        k, tree, leaf = 0, TreeHasher(), run[0][0]
        async for chunk in repository.stream_entry_hashes(session, run[0][0] + 1, run[-1][1]):
            for (entry_hash,) in chunk:
                tree.add(bytes(entry_hash))
                leaf += 1
                if leaf == run[k][1]:
                    out[run[k]] = tree.root()
                    k, tree = k + 1, TreeHasher()
        if k != len(run):
            raise repository.JournalGap()
        i = j + 1
    return out


async def range_root(session: AsyncSession, lo: int, hi: int) -> bytes:
    """MTH of leaves [lo, hi) (RFC 6962), from tiles where stored and entries elsewhere."""
    pieces = perfect_pieces(lo, hi)
    sizes = [b - a for a, b in pieces]
    if any(later > earlier for earlier, later in itertools.pairwise(sizes)):
        # Not an RFC 6962 subtree range (unaligned start): hash it whole from the entries.
        return (await _leaf_roots(session, [(lo, hi)]))[(lo, hi)]
    keys = [
        ((b - a).bit_length() - 1, a >> ((b - a).bit_length() - 1))
        for a, b in pieces
        if b - a >= TILE_LEAVES
    ]
    stored = await repository.tiles(session, keys) if keys else {}
    hashes: dict[tuple[int, int], bytes] = {}
    missing = []
    for a, b in pieces:
        height = (b - a).bit_length() - 1
        if (height, a >> height) in stored:
            hashes[(a, b)] = stored[(height, a >> height)]
        else:
            missing.append((a, b))
    hashes.update(await _leaf_roots(session, missing))
    root = hashes[pieces[-1]]
    for piece in reversed(pieces[:-1]):
        root = node_hash(hashes[piece], root)
    return root


async def tiles_completed_by(
    session: AsyncSession, old_size: int, new_entry_hashes: Sequence[bytes]
) -> list[Tile]:
    """The tiles an append of `new_entry_hashes` after `old_size` leaves completes."""
    new_size = old_size + len(new_entry_hashes)
    made: dict[tuple[int, int], bytes] = {}
    for block in range(old_size // TILE_LEAVES, new_size // TILE_LEAVES):
        start, end = block * TILE_LEAVES, (block + 1) * TILE_LEAVES
        leaves: list[bytes] = []
        if start < old_size:
            async for chunk in repository.stream_entry_hashes(session, start + 1, old_size):
                leaves.extend(bytes(eh) for (eh,) in chunk)
            if len(leaves) != old_size - start:
                raise repository.JournalGap()
        leaves.extend(new_entry_hashes[max(start, old_size) - old_size : end - old_size])
        made[(TILE_HEIGHT, block)] = perfect_root(leaves)
    height, level = TILE_HEIGHT, sorted(p for h, p in made)
    while level:
        lefts = [(height, p - 1) for p in level if p % 2 and (height, p - 1) not in made]
        stored = await repository.tiles(session, lefts) if lefts else {}
        upper = []
        for p in level:
            if p % 2:
                left = made.get((height, p - 1)) or stored.get((height, p - 1))
                if left is not None:  # a missing tile below: leave this one to the entries
                    made[(height + 1, p // 2)] = node_hash(left, made[(height, p)])
                    upper.append(p // 2)
        height, level = height + 1, upper
    return [(h, p, (p + 1) << h, digest) for (h, p), digest in made.items()]
