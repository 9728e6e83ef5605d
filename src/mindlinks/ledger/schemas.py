"""Journal API shapes. Hashes are lowercase hex (64 characters)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import Field, StrictInt

from mindlinks.ledger.models import LedgerEntry
from mindlinks.ledger.service import ConsistencyProof, InclusionProof
from mindlinks.ledger.verification import ChainReport
from mindlinks.ledger.verification import Digest as DigestValue
from mindlinks.ledger.verifier import leaf_hash
from mindlinks.platform.api import MAX_INT64, CamelModel, ResponseModel

HexHash = Field(pattern=r"^[0-9a-f]{64}$")


class Digest(ResponseModel):
    """`seq` entries; `tipHash` = entry_hash of entry `seq`; `merkleRoot` = RFC 6962 root."""

    seq: int
    tip_hash: str
    merkle_root: str
    recorded_at: datetime | None

    @classmethod
    def of(cls, d: DigestValue) -> Digest:
        return cls(
            seq=d.seq,
            tip_hash=d.tip_hash.hex(),
            merkle_root=d.merkle_root.hex(),
            recorded_at=d.recorded_at,
        )


class DigestIn(CamelModel):
    seq: StrictInt = Field(ge=0, le=MAX_INT64)
    tip_hash: str = HexHash
    merkle_root: str = HexHash
    recorded_at: datetime | None = None

    def value(self) -> DigestValue:
        tip, root = bytes.fromhex(self.tip_hash), bytes.fromhex(self.merkle_root)
        return DigestValue(self.seq, tip, root, self.recorded_at)


class Entry(ResponseModel):
    """One entry. `payloadCanonical` is the exact hashed text: hash it to check `payloadHash`."""

    seq: int
    entry_type: str
    entity_type: str
    entity_id: str
    payload: dict[str, Any]
    payload_canonical: str
    payload_hash: str
    prev_hash: str
    entry_hash: str
    recorded_at: datetime

    @classmethod
    def of(cls, e: LedgerEntry) -> Entry:
        return cls(
            seq=e.seq,
            entry_type=e.entry_type,
            entity_type=e.entity_type,
            entity_id=e.entity_id,
            payload=orjson.loads(e.payload),
            payload_canonical=e.payload,
            payload_hash=bytes(e.payload_hash).hex(),
            prev_hash=bytes(e.prev_hash).hex(),
            entry_hash=bytes(e.entry_hash).hex(),
            recorded_at=e.recorded_at,
        )


class InclusionProofOut(ResponseModel):
    """Check with `verifier.verify_inclusion_against(entry, proof, trusted_digest)`."""

    algorithm: Literal["rfc6962-sha256"] = "rfc6962-sha256"
    seq: int
    leaf_index: int
    tree_size: int
    entry_hash: str
    leaf_hash: str
    audit_path: list[str]
    digest: Digest

    @classmethod
    def of(cls, p: InclusionProof) -> InclusionProofOut:
        return cls(
            seq=p.seq,
            leaf_index=p.leaf_index,
            tree_size=p.tree_size,
            entry_hash=p.entry_hash.hex(),
            leaf_hash=leaf_hash(p.entry_hash).hex(),
            audit_path=[h.hex() for h in p.audit_path],
            digest=Digest.of(p.digest),
        )


class ConsistencyProofOut(ResponseModel):
    """Check with `verifier.verify_consistency_against(old_digest, new_digest, proof)`."""

    algorithm: Literal["rfc6962-sha256"] = "rfc6962-sha256"
    from_seq: int
    to_seq: int
    from_root: str
    to_root: str
    proof: list[str]

    @classmethod
    def of(cls, p: ConsistencyProof) -> ConsistencyProofOut:
        return cls(
            from_seq=p.from_seq,
            to_seq=p.to_seq,
            from_root=p.from_root.hex(),
            to_root=p.to_root.hex(),
            proof=[h.hex() for h in p.proof],
        )


class VerifyRequest(CamelModel):
    """Optionally, a digest exported earlier that the chain must still extend."""

    against: DigestIn | None = None


class VerifyReport(ResponseModel):
    verified: int
    first_broken_seq: int | None
    reason: str | None

    @classmethod
    def of(cls, r: ChainReport) -> VerifyReport:
        return cls(verified=r.verified, first_broken_seq=r.first_broken_seq, reason=r.reason)
