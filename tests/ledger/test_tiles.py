"""Stored Merkle tiles give exactly the RFC 6962 roots and proofs the entries give."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mindlinks.ledger import service
from mindlinks.ledger.models import LedgerEntry, LedgerTile
from mindlinks.ledger.repository import JournalGap
from mindlinks.ledger.tiles import perfect_pieces
from mindlinks.ledger.verifier import (
    leaf_hash,
    merkle_root,
    verify_consistency,
    verify_inclusion,
)
from mindlinks.platform.db import Database

from .helpers import fill, tamper

# Uneven batches: tiles complete inside a batch, across batches and on single appends.
BATCHES = [1, 254, 1, 3, 300, 511, 2, 1000, 1]
N = sum(BATCHES)  # 2073
SEQS = [1, 2, 255, 256, 257, 511, 512, 513, 768, 1023, 1024, 1025, 1500, 2047, 2048, 2049, N]


async def _grow(database: Database) -> list[bytes]:
    for size in BATCHES:
        await fill(database, size, batch=size)
    async with database.session() as session:
        rows = await session.execute(select(LedgerEntry.entry_hash).order_by(LedgerEntry.seq))
        return [bytes(h) for (h,) in rows]


async def _tiles(database: Database) -> dict[tuple[int, int], bytes]:
    async with database.session() as session:
        rows = await session.execute(
            select(
                LedgerTile.height, LedgerTile.position, LedgerTile.end_leaf, LedgerTile.node_hash
            )
        )
        out = {}
        for h, p, end, x in rows:
            assert end == (p + 1) << h
            out[(h, p)] = bytes(x)
        return out


async def _check_roots_and_proofs(database: Database, hashes: list[bytes]) -> None:
    async with database.session() as session:
        for seq in SEQS:
            d = await service.digest(session, seq)
            assert d.merkle_root == merkle_root(hashes[:seq]), seq
            assert d.tip_hash == hashes[seq - 1]
        for size in (256, 1024, 1500, N):
            root = merkle_root(hashes[:size])
            for seq in (1, 200, 256, 257, 700, 1024, 1025, size):
                if seq > size:
                    continue
                p = await service.inclusion_proof(session, seq, size)
                assert verify_inclusion(
                    seq - 1, size, leaf_hash(hashes[seq - 1]), p.audit_path, root
                )
        for first, second in [(1, N), (256, 512), (255, 1025), (512, 2048), (700, N), (1024, 2049)]:
            c = await service.consistency_proof(session, first, second)
            assert verify_consistency(
                first, second, merkle_root(hashes[:first]), merkle_root(hashes[:second]), c.proof
            )


async def test_tiles_are_the_rfc_subtree_hashes(database: Database) -> None:
    hashes = await _grow(database)
    assert len(hashes) == N
    tiles = await _tiles(database)
    expected = {
        (h, p): merkle_root(hashes[p << h : (p + 1) << h])
        for h in range(8, 12)
        for p in range(N >> h)
    }
    assert tiles == expected  # 8 tiles of 256, 4 of 512, 2 of 1024, 1 of 2048
    await _check_roots_and_proofs(database, hashes)


async def test_missing_tiles_fall_back_to_the_entries(database: Database) -> None:
    hashes = await _grow(database)
    await tamper(database, "DELETE FROM ledger_tiles WHERE height >= 9 OR position = 3")
    await _check_roots_and_proofs(database, hashes)
    # Appending goes on; tiles whose left sibling is missing are simply not stored.
    await fill(database, 300)
    assert (await service_verify(database)).ok


async def service_verify(database: Database) -> service.ChainReport:
    async with database.session() as session:
        return await service.verify_chain(session)


async def test_a_deleted_entry_makes_proofs_refuse(database: Database) -> None:
    await fill(database, 300)
    await tamper(database, "DELETE FROM ledger_entries WHERE seq IN (260, 299)")
    async with database.session() as session:
        with pytest.raises(JournalGap):
            await service.digest(session, 280)  # the leaves after tile 0 have a gap
        with pytest.raises(JournalGap):
            await service.inclusion_proof(session, 299, 300)


def test_perfect_pieces() -> None:
    assert perfect_pieces(0, 7) == [(0, 4), (4, 6), (6, 7)]
    assert perfect_pieces(1024, 1025 + 511) == [(1024, 1536)]
    assert perfect_pieces(3, 8) == [(3, 4), (4, 8)]  # unaligned: sizes grow, caller hashes whole
    assert perfect_pieces(5, 5) == []
