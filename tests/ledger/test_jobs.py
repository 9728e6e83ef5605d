"""Digests exported to the storage backend, then used to catch a truncated journal."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from mindlinks.cli import app as cli_app
from mindlinks.ledger import jobs, service
from mindlinks.ledger.verification import Digest
from mindlinks.platform.db import Database
from mindlinks.platform.storage import LocalStorage, UrlSigner

from .helpers import fill, tamper, verify


async def test_export_is_idempotent_and_anchors_verification(
    database: Database, tmp_path: Path
) -> None:
    storage = LocalStorage(tmp_path / "files", UrlSigner(b"k" * 32), base_url="http://x")
    async with database.session() as session:
        assert await jobs.export_digest(session, storage) is None  # empty journal
    await fill(database, 50)
    async with database.session() as session:
        done = await jobs.export_digest(session, storage)
    assert done is not None
    key, digest = done
    assert key == "ledger/digests/000000000000050.json"
    stored = tmp_path / "files" / key
    first_bytes = stored.read_bytes()
    async with database.session() as session:
        assert (await jobs.export_digest(session, storage)) == (key, digest)
    assert stored.read_bytes() == first_bytes

    anchored = Digest.from_json(json.loads(await storage.get(key)))
    assert anchored == digest
    await tamper(database, "DELETE FROM ledger_entries WHERE seq > 45")
    report = await verify(database, anchored)
    assert (report.first_broken_seq, report.verified) == (46, 45)
    async with database.session() as session:
        assert (await service.digest(session)).seq == 45


async def test_cli_digest_to_storage(database: Database, database_url: str, tmp_path: Path) -> None:
    await fill(database, 7)
    env = {"MINDLINKS_DATABASE_URL": database_url, "MINDLINKS_DATA_DIR": str(tmp_path / "var")}
    result = await asyncio.to_thread(
        CliRunner().invoke, cli_app, ["ledger", "digest", "--to-storage"], env=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["seq"] == 7
    stored = tmp_path / "var" / "files" / "ledger" / "digests" / "000000000000007.json"
    assert json.loads(stored.read_text()) == json.loads(result.stdout)
