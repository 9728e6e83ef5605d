"""The daily orphan sweep: files older than an hour that no row references are deleted (what a
process killed between writing a file and committing its row leaves behind); referenced files,
young files and files under a prefix no domain declared are kept."""

from __future__ import annotations

import io
import os
import time
import uuid
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import select

from mindlinks.contractors.models import ContractorProfile
from mindlinks.platform.orphans import sweep_orphans
from mindlinks.platform.storage import LocalStorage, get_storage, new_key
from mindlinks.scheduler import collect_jobs
from tests.factories import bearer, register


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _age(storage: LocalStorage, key: str, hours: float) -> None:
    stamp = time.time() - hours * 3600
    os.utime(storage.path_of(key), (stamp, stamp))


async def test_sweep_deletes_only_old_unreferenced_files(
    app: Any, client: httpx.AsyncClient
) -> None:
    storage = get_storage(app.state)
    assert isinstance(storage, LocalStorage)
    user = await register(client, "contractor")
    response = await client.post("/api/contractors/me/avatar", headers=bearer(user["accessToken"]),
                                 files={"file": ("me.png", _png(), "image/png")})
    assert response.status_code == 200, response.text
    async with app.state.db.session() as session:
        profile = await session.scalar(select(ContractorProfile))
        assert profile is not None and profile.avatar_key
        referenced, owner = profile.avatar_key, profile.id

    orphan = new_key("contractors", owner, "avatar", extension=".webp")
    young_orphan = new_key("contractors", owner, "tax", extension=".pdf")
    undeclared = "ledger-digests/000000000000001.json"  # no domain declared this prefix
    for key in (orphan, young_orphan, undeclared):
        await storage.put(key, io.BytesIO(b"bytes"), mime="application/octet-stream")
    partial = storage.path_of(orphan).with_name(f".{uuid.uuid4().hex}.part")
    partial.write_bytes(b"half a file")
    for key in (referenced, orphan, undeclared):
        _age(storage, key, 2)
    os.utime(partial, (time.time() - 7200, time.time() - 7200))

    report = await sweep_orphans(app.state.db, storage)

    assert report.deleted == [orphan]
    assert not await storage.exists(orphan)
    assert not partial.exists()
    for kept in (referenced, young_orphan, undeclared):
        assert await storage.exists(kept), kept
    # The avatar still downloads.
    profile_out = (await client.get("/api/contractors/me",
                                    headers=bearer(user["accessToken"]))).json()
    download = await client.get(profile_out["avatarUrl"].replace("http://127.0.0.1:8000", ""))
    assert download.status_code == 200

    again = await sweep_orphans(app.state.db, storage)  # idempotent
    assert again.deleted == []


def test_the_sweep_is_a_scheduled_job() -> None:
    assert "storage.sweep-orphans" in collect_jobs()
