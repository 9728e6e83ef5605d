"""Scheduled work of the journal: exporting digests out of the database.

A digest kept only in the database proves nothing against whoever can rewrite the database.
`export_digest` writes the current digest to the storage backend (a separate system: S3 in
production - ideally a bucket with object lock - or a local directory), one object per
digest seq, so a later `mindlinks ledger verify --against <that file>` can prove the journal
still extends it. Idempotent: exporting twice at the same head writes once.
"""

from __future__ import annotations

import io
import json

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.ledger import service
from mindlinks.platform.storage import StorageBackend

DIGEST_PREFIX = "ledger/digests"


def digest_key(seq: int) -> str:
    """Zero-padded so that listing the prefix sorts digests by seq."""
    return f"{DIGEST_PREFIX}/{seq:015d}.json"


async def export_digest(
    session: AsyncSession, storage: StorageBackend
) -> tuple[str, service.Digest] | None:
    """Store the current digest; returns (key, digest), or None for an empty journal."""
    digest = await service.digest(session)
    if digest.seq == 0:
        return None
    key = digest_key(digest.seq)
    if not await storage.exists(key):
        body = json.dumps(digest.to_json(), indent=2).encode() + b"\n"
        await storage.put(key, io.BytesIO(body), mime="application/json")
    return key, digest
