"""The Merkle tree and the standalone verifier, against a literal transcription of RFC 6962.

Pure functions: no database. Hypothesis explores tree sizes and indices, and every kind of
bad proof (forged, truncated, extended, reordered, wrong leaf, wrong size) must be refused.
"""

from __future__ import annotations

import ast
import hashlib
import sys
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mindlinks.ledger import verifier
from mindlinks.ledger.merkle import TreeHasher, consistency_ranges, inclusion_ranges
from mindlinks.ledger.verifier import (
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency,
    verify_inclusion,
)


def _entries(n: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]


# --- RFC 6962 §2.1, transcribed recursively (the reference) ------------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return leaf_hash(d[0])
    k = _k(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def _from_ranges(d: list[bytes], ranges: list[tuple[int, int]]) -> list[bytes]:
    return [mth(d[lo:hi]) for lo, hi in ranges]


# --- the tree ---------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=300))
def test_streaming_root_is_rfc6962_mth(n: int) -> None:
    d = _entries(n)
    tree = TreeHasher()
    tree.extend(d)
    assert tree.root() == mth(d) == merkle_root(d)


def test_known_small_tree() -> None:
    a, b, c = _entries(3)
    assert merkle_root([a]) == leaf_hash(a)
    assert merkle_root([a, b, c]) == node_hash(node_hash(leaf_hash(a), leaf_hash(b)), leaf_hash(c))
    # Domain separation: a leaf is not an interior node.
    assert leaf_hash(a + b) != node_hash(a, b)


@given(st.integers(min_value=1, max_value=200), st.data())
def test_inclusion_ranges_give_rfc_path(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    d = _entries(n)
    proof = _from_ranges(d, inclusion_ranges(m, n))
    assert proof == path(m, d)
    assert verify_inclusion(m, n, leaf_hash(d[m]), proof, mth(d))


@given(st.integers(min_value=1, max_value=200), st.data())
def test_consistency_ranges_give_rfc_proof(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(min_value=1, max_value=n))
    d = _entries(n)
    proof = _from_ranges(d, consistency_ranges(m, n))
    assert proof == subproof(m, d, True)
    assert verify_consistency(m, n, mth(d[:m]), mth(d), proof)


# --- bad inclusion proofs ---------------------------------------------------------------


@settings(max_examples=200)
@given(st.integers(min_value=2, max_value=150), st.data())
def test_bad_inclusion_proofs_are_rejected(n: int, data: st.DataObject) -> None:
    d = _entries(n)
    m = data.draw(st.integers(min_value=0, max_value=n - 1))
    root, leaf, proof = mth(d), leaf_hash(d[m]), path(m, d)
    assert verify_inclusion(m, n, leaf, proof, root)

    i = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    forged = list(proof)
    forged[i] = bytes([forged[i][0] ^ 1]) + forged[i][1:]
    assert not verify_inclusion(m, n, leaf, forged, root), "forged"
    assert not verify_inclusion(m, n, leaf, proof[:-1], root), "truncated"
    assert not verify_inclusion(m, n, leaf, [*proof, proof[0]], root), "extended"
    if len(proof) > 1:
        j = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        assume(proof[i] != proof[j])
        reordered = list(proof)
        reordered[i], reordered[j] = reordered[j], reordered[i]
        assert not verify_inclusion(m, n, leaf, reordered, root), "reordered"
    other = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda x: x != m))
    assert not verify_inclusion(m, n, leaf_hash(d[other]), proof, root), "wrong leaf"
    assert not verify_inclusion(other, n, leaf, proof, root), "wrong index"
    assert not verify_inclusion(m, n, d[m], proof, root), "entry hash given as leaf hash"
    assert not verify_inclusion(m, n + 1, leaf, proof, mth(_entries(n + 1))), "wrong size"
    assert not verify_inclusion(m, n, leaf, proof, mth(d[:-1])), "other root"


def test_malformed_inclusion_inputs_are_rejected() -> None:
    d = _entries(5)
    proof = path(2, d)
    root, leaf = mth(d), leaf_hash(d[2])
    assert verify_inclusion(2, 5, leaf, [p.hex() for p in proof], root)
    assert not verify_inclusion(2, 5, leaf, [*proof[:-1], proof[-1][:31]], root)
    assert not verify_inclusion(2, 5, leaf, ["zz" * 32, *proof[1:]], root)
    assert not verify_inclusion(5, 5, leaf, proof, root)
    assert not verify_inclusion(-1, 5, leaf, proof, root)
    assert not verify_inclusion(0, 1, leaf_hash(d[0]), [d[1]], leaf_hash(d[0]))


# --- bad consistency proofs -------------------------------------------------------------


@settings(max_examples=200)
@given(st.integers(min_value=2, max_value=150), st.data())
def test_bad_consistency_proofs_are_rejected(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(min_value=1, max_value=n - 1))
    d = _entries(n)
    old, new, proof = mth(d[:m]), mth(d), subproof(m, d, True)
    assert verify_consistency(m, n, old, new, proof)

    i = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    forged = list(proof)
    forged[i] = bytes([forged[i][0] ^ 0x80]) + forged[i][1:]
    assert not verify_consistency(m, n, old, new, forged), "forged"
    assert not verify_consistency(m, n, old, new, proof[:-1]), "truncated"
    assert not verify_consistency(m, n, old, new, [*proof, proof[0]]), "extended"
    if len(proof) > 1:
        j = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        assume(proof[i] != proof[j])
        reordered = list(proof)
        reordered[i], reordered[j] = reordered[j], reordered[i]
        assert not verify_consistency(m, n, old, new, reordered), "reordered"
    # A rewritten history: same sizes, one old entry changed.
    rewritten = list(d)
    k = data.draw(st.integers(min_value=0, max_value=m - 1))
    rewritten[k] = hashlib.sha256(b"evil" + d[k]).digest()
    assert not verify_consistency(m, n, old, mth(rewritten), subproof(m, rewritten, True))
    assert not verify_consistency(m, n, mth(rewritten[:m]), new, proof)
    # The proof of m -> n does not prove m -> n + 1 (against that tree's real root).
    bigger = mth(_entries(n + 1))
    assert not verify_consistency(m, n + 1, old, bigger, proof), "wrong size"


def test_consistency_edge_cases() -> None:
    d = _entries(8)
    r = mth(d)
    assert verify_consistency(8, 8, r, r, [])
    assert not verify_consistency(8, 8, r, mth(d[:7]), [])
    assert not verify_consistency(8, 8, r, r, [r])
    assert not verify_consistency(0, 8, mth([]), r, [])
    assert not verify_consistency(4, 8, mth(d[:4]), r, [])
    assert not verify_consistency(9, 8, r, r, subproof(4, d, True))


# --- the verifier stands alone -----------------------------------------------------------


def test_verifier_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(verifier.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_entry_hash_binds_every_field() -> None:
    prev, ph = bytes(32), hashlib.sha256(b"{}").digest()
    base = verifier.compute_entry_hash(prev, 1, "signature", ph, 1_700_000_000_000_000)
    assert base != verifier.compute_entry_hash(
        b"\x01" * 32, 1, "signature", ph, 1_700_000_000_000_000
    )
    assert base != verifier.compute_entry_hash(prev, 2, "signature", ph, 1_700_000_000_000_000)
    assert base != verifier.compute_entry_hash(prev, 1, "signaturf", ph, 1_700_000_000_000_000)
    assert base != verifier.compute_entry_hash(
        prev, 1, "signature", bytes(32), 1_700_000_000_000_000
    )
    assert base != verifier.compute_entry_hash(prev, 1, "signature", ph, 1_700_000_000_000_001)
    with pytest.raises(ValueError):
        verifier.compute_entry_hash(prev[:31], 1, "signature", ph, 0)


@given(st.integers(min_value=0, max_value=9))
def test_perfect_root_is_mth(height: int) -> None:
    from mindlinks.ledger.merkle import perfect_root

    d = _entries(1 << height)
    assert perfect_root(d) == mth(d)
    with pytest.raises(ValueError):
        perfect_root(_entries(3))
