"""Server side of the RFC 6962 Merkle tree: streaming roots and the shape of proofs.

Every node of an inclusion or consistency proof is the Merkle Tree Hash (MTH) of one
contiguous range of leaves, and which ranges is a pure function of the leaf index and the
tree sizes (RFC 6962 §2.1.1 PATH, §2.1.2 SUBPROOF). So a proof is produced in two steps:
`inclusion_ranges` / `consistency_ranges` list the ranges, then the service streams each
range's entry hashes out of the database through a `TreeHasher`. Memory stays O(log n);
time is O(n) per proof or digest (the ranges partition the tree), which is the price of
keeping no derived node table (see docs/ledger.md, "Cost").

Ranges are half-open and 0-based over leaves: leaf ``i`` is the entry with ``seq = i + 1``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from mindlinks.ledger.verifier import leaf_hash, node_hash

Range = tuple[int, int]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n > 1): RFC 6962's ``k``."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges whose MTHs form PATH(index, D[0:size]), deepest first."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    out: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo = lo + k
    out.reverse()
    return out


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The leaf ranges whose MTHs form PROOF(first, D[0:second]) (RFC 6962 §2.1.2)."""
    if not 0 < first <= second:
        raise ValueError("consistency needs 0 < first <= second")
    out: list[Range] = []
    lo, hi, m, whole = 0, second, first, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                out.append((lo, hi))
            break
        k = _split(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    out.reverse()
    return out


def perfect_root(entry_hashes: list[bytes]) -> bytes:
    """MTH of a power-of-two count of entry hashes, level by level (the fast path for tiles)."""
    sha256 = hashlib.sha256
    level = [sha256(b"\x00" + h).digest() for h in entry_hashes]
    if not level or len(level) & (len(level) - 1):
        raise ValueError("perfect_root needs a power-of-two number of leaves")
    while len(level) > 1:
        level = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)
        ]
    return level[0]


class TreeHasher:
    """Incremental MTH: feed entry hashes in order, read the root of what was fed so far.

    Holds one hash per set bit of the count (the perfect subtrees of its binary
    decomposition), so memory is O(log n) however long the stream.
    """

    __slots__ = ("_stack", "count")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []
        self.count = 0

    def add(self, entry_hash: bytes) -> None:
        size, h = 1, leaf_hash(entry_hash)
        stack = self._stack
        while stack and stack[-1][0] == size:
            h = node_hash(stack.pop()[1], h)
            size <<= 1
        stack.append((size, h))
        self.count += 1

    def extend(self, entry_hashes: Iterable[bytes]) -> None:
        for eh in entry_hashes:
            self.add(eh)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1][1]
        for _, h in reversed(self._stack[:-1]):
            root = node_hash(h, root)
        return root
