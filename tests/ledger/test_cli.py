"""`mindlinks ledger digest > file` and `mindlinks ledger verify --against file`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from mindlinks.cli import app as cli_app
from mindlinks.platform.db import Database

from .helpers import fill, tamper


async def _run(url: str, *args: str) -> tuple[int, str]:
    # The CLI runs its own event loop, so it gets a thread of its own.
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, cli_app, ["ledger", *args], env={"MINDLINKS_DATABASE_URL": url}
    )
    return result.exit_code, result.stdout


async def test_exported_digest_catches_truncation_later(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    await fill(database, 120)
    code, out = await _run(database_url, "digest")
    assert code == 0, out
    exported = json.loads(out)
    assert exported["seq"] == 120 and len(exported["merkleRoot"]) == 64
    anchor = tmp_path / "digest.json"
    anchor.write_text(out)

    code, out = await _run(database_url, "verify", "--against", str(anchor), "--no-progress")
    assert (code, json.loads(out)) == (0, {"verified": 120, "firstBrokenSeq": None, "reason": None})

    await tamper(database, "DELETE FROM ledger_entries WHERE seq > 100")
    code, out = await _run(database_url, "verify")
    assert code == 0  # the chain alone cannot see a missing tail
    code, out = await _run(database_url, "verify", "--against", str(anchor))
    report = json.loads(out)
    assert code == 1
    assert report["firstBrokenSeq"] == 101 and report["verified"] == 100

    await tamper(database, "DELETE FROM ledger_entries WHERE seq = 40")
    code, out = await _run(database_url, "verify")
    assert (code, json.loads(out)["firstBrokenSeq"]) == (1, 40)


async def test_verify_refuses_a_file_that_is_not_a_digest(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"seq": 3}')
    code, _ = await _run(database_url, "verify", "--against", str(bad))
    assert code == 2
    code, out = await _run(database_url, "digest", "--seq", "5")
    assert (code, out) == (2, "")
