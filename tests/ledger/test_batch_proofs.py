"""`inclusion_proofs` (many entries at once, small subtrees hashed from one read per
tile-sized block) gives exactly the audit paths of `inclusion_proof`, one entry at a time,
across tile boundaries and for digests that end inside a tile or exactly on one."""

from __future__ import annotations

import pytest

from mindlinks.ledger import service
from mindlinks.ledger.verifier import leaf_hash, verify_inclusion
from mindlinks.platform.db import Database

from .helpers import fill


@pytest.mark.parametrize("size", [1, 255, 256, 257, 600])
async def test_batch_paths_equal_single_paths(database: Database, size: int) -> None:
    await fill(database, 600)
    seqs = sorted({1, 2, size // 2 or 1, 255, 256, 257, 300, 511, 512, 513, size} & set(
        range(1, size + 1)))
    async with database.session() as s:
        digest, paths = await service.inclusion_proofs(s, seqs, size)
        assert digest.seq == size
        for seq in seqs:
            single = await service.inclusion_proof(s, seq, size)
            assert paths[seq] == single.audit_path, seq
            assert verify_inclusion(seq - 1, size, leaf_hash(single.entry_hash), paths[seq],
                                    digest.merkle_root)


async def test_an_entry_beyond_the_digest_is_refused(database: Database) -> None:
    await fill(database, 10)
    async with database.session() as s:
        with pytest.raises(service.JournalEntryNotFound):
            await service.inclusion_proofs(s, [11], 10)
