"""Known-answer vectors: the journal's byte layout, pinned.

The values below were computed once and are published in docs/ledger.md ("Test vectors") for
outside verifiers. Every other ledger test checks the code against itself, so a change to the
layout (seq little-endian instead of big-endian, another timestamp unit, a missing length
prefix, leaf/node prefixes swapped) would pass them all; these fail.

The journal: 7 entries appended in one batch at 2026-01-01T00:00:00Z, entry i (1..7) of type
`payment_event` about `payment`/`vector-i` with payload
`{"amountMinor": 100*i, "currency": "USD", "ref": "vector-i"}`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mindlinks.ledger import service, verifier
from mindlinks.platform.db import Database

AT = datetime(2026, 1, 1, tzinfo=UTC)

PAYLOAD_1 = '{"amountMinor":100,"currency":"USD","ref":"vector-1"}'
PAYLOAD_HASH_1 = "f96c859a553f82a931b54476934a13206a7cdf568e80274b3c0704b29ba7dd9d"
ENTRY_HASHES = [
    "251cefaddd8c8b1ab577b831025635cbd7a80b547d9847ade3b64f1bc6ccb725",
    "a32d1384853741ecdc883e703b8dd012f0e28e82461bcb8612096d340b7b1051",
    "f8fb4345f7db39b67acd4014bb37343e8f148891e4e66cf411a85b772c9e1756",
    "100cace309efa3ac760bd7740aa42cdffa1a6bd27ab1cf0d49b3a9d06ad04fac",
    "91eff51c3e8dd53c2b33105d4e2b2e9bf963f4ba1a88c89cf9c750d1e9d52369",
    "876295b44b9ac4e9418bb881b1e5f21b8506b4d9116e0e4e31a3a66da06d6d60",
    "b713f1d4530df76f143ef268cab31bc76a7f0e4cd77e79dc3783e1600bd13b20",
]
LEAF_HASH_1 = "86447bfc2916c6e65ab26afde7d9629e9f2fc6b19116db754de335fc4949b9c4"
ROOT_7 = "49aa0d82095b42f11b62c660911a94e51c6de9b4c92a4067fca6b3b741153384"
ROOT_3 = "2be6738879f14fed4bdd878134923e06c02a9fa479949006664aa3d8f6b2b017"
INCLUSION_3_IN_7 = [
    "68d142d2f28ff0a37624a9324215f485d29fb93172d736430714f1cc72f24248",
    "93bf7a3fe81fba0f111a3c2896fcd77d1477066e3712cdab43848091b61b4dd4",
    "a9b08c986100c36d387164c2369e3ff800f6c02ed98801211cbb3b804b693cd2",
]
CONSISTENCY_3_TO_7 = [
    "07d4e4dd9079901597ed6a11cb18c609ca7074814a970530b4e8a7c4e9087852",
    "68d142d2f28ff0a37624a9324215f485d29fb93172d736430714f1cc72f24248",
    "93bf7a3fe81fba0f111a3c2896fcd77d1477066e3712cdab43848091b61b4dd4",
    "a9b08c986100c36d387164c2369e3ff800f6c02ed98801211cbb3b804b693cd2",
]


def _entries() -> list[service.NewEntry]:
    return [
        service.NewEntry(
            "payment_event",
            "payment",
            f"vector-{i}",
            {"amountMinor": 100 * i, "currency": "USD", "ref": f"vector-{i}"},
        )
        for i in range(1, 8)
    ]


def test_entry_leaf_and_root_from_the_published_layout() -> None:
    """The standalone verifier's functions alone, from the documented fields."""
    assert service.canonical_json(_entries()[0].payload).decode() == PAYLOAD_1
    assert verifier.compute_payload_hash(PAYLOAD_1.encode()).hex() == PAYLOAD_HASH_1
    prev = verifier.GENESIS_PREV_HASH
    micros = verifier.recorded_at_micros(AT)
    assert micros == 1_767_225_600_000_000
    for seq, entry in enumerate(_entries(), start=1):
        payload_hash = verifier.compute_payload_hash(service.canonical_json(entry.payload))
        entry_hash = verifier.compute_entry_hash(prev, seq, entry.entry_type, payload_hash, micros)
        assert entry_hash.hex() == ENTRY_HASHES[seq - 1], f"entry {seq}"
        prev = entry_hash
    hashes = [bytes.fromhex(h) for h in ENTRY_HASHES]
    assert verifier.leaf_hash(hashes[0]).hex() == LEAF_HASH_1
    assert verifier.merkle_root(hashes).hex() == ROOT_7
    assert verifier.merkle_root(hashes[:3]).hex() == ROOT_3
    assert verifier.verify_inclusion(
        2, 7, verifier.leaf_hash(hashes[2]), INCLUSION_3_IN_7, bytes.fromhex(ROOT_7)
    )
    assert verifier.verify_consistency(
        3, 7, bytes.fromhex(ROOT_3), bytes.fromhex(ROOT_7),
        [bytes.fromhex(h) for h in CONSISTENCY_3_TO_7],
    )


@pytest.mark.usefixtures("db_backend")
async def test_the_server_appends_and_proves_the_published_values(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real append path (stored on this database), digests and proofs from stored tiles."""
    monkeypatch.setattr(service, "utcnow", lambda: AT)
    async with database.session() as session:
        appended = await service.append_many(session, _entries())
    assert [a.entry_hash.hex() for a in appended] == ENTRY_HASHES
    async with database.session() as session:
        head = await service.digest(session)
        assert (head.seq, head.tip_hash.hex(), head.merkle_root.hex()) == (
            7, ENTRY_HASHES[6], ROOT_7
        )
        assert (await service.digest(session, 3)).merkle_root.hex() == ROOT_3
        inclusion = await service.inclusion_proof(session, 3, 7)
        assert [h.hex() for h in inclusion.audit_path] == INCLUSION_3_IN_7
        consistency = await service.consistency_proof(session, 3, 7)
        assert [h.hex() for h in consistency.proof] == CONSISTENCY_3_TO_7
        report = await service.verify_chain(session)
        assert report.ok and report.verified == 7
