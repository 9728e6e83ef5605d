"""`mindlinks ledger digest` and `mindlinks ledger verify [--against FILE]`.

Export a digest now and keep the file somewhere the database's administrators cannot
rewrite (another machine, a WORM bucket, a signed email). Later, `verify --against` proves
the journal still extends it - the check that catches a deleted tail or a complete re-chain,
which the hash chain alone cannot.

Exit status: 0 when the chain verifies, 1 when it is broken, 2 on bad input.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from mindlinks.ledger import jobs, repository, service
from mindlinks.ledger.verification import Digest
from mindlinks.platform.db import Database
from mindlinks.platform.errors import DomainError
from mindlinks.platform.storage import storage_from_settings
from mindlinks.settings import Settings, get_settings

ledger_app = typer.Typer(help="The verifiable journal: digests and whole-chain verification.")


async def export_digest(database_url: str, seq: int | None = None) -> dict[str, Any]:
    db = Database(database_url)
    try:
        async with db.sessionmaker() as session:
            return (await service.digest(session, seq)).to_json()
    finally:
        await db.dispose()


async def verify(
    database_url: str, against: Digest | None, *, show_progress: bool = True
) -> service.ChainReport:
    db = Database(database_url)
    stderr = Console(stderr=True)
    try:
        async with db.sessionmaker() as session:
            total = await repository.count(session)
            with Progress(
                TextColumn("verifying journal"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=stderr,
                disable=not show_progress,
                transient=True,
            ) as bar:
                task = bar.add_task("verify", total=total)
                return await service.verify_chain(
                    session,
                    against=against,
                    progress=lambda done: bar.update(task, completed=done),
                )
    finally:
        await db.dispose()


async def export_to_storage(settings: Settings) -> str | None:
    db = Database(settings.resolved_database_url)
    try:
        async with db.sessionmaker() as session:
            done = await jobs.export_digest(session, storage_from_settings(settings))
            return done[0] if done else None
    finally:
        await db.dispose()


@ledger_app.command("digest")
def digest_command(
    seq: Annotated[int | None, typer.Option(help="Digest at this seq (default: head)")] = None,
    to_storage: Annotated[
        bool, typer.Option(help="Also store it in the storage backend (ledger/digests/)")
    ] = False,
) -> None:
    """Print the journal's digest as JSON (redirect it to a file you keep elsewhere)."""
    settings = get_settings()
    try:
        data = asyncio.run(export_digest(settings.resolved_database_url, seq))
    except DomainError as exc:
        Console(stderr=True).print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(2) from exc
    if to_storage:
        key = asyncio.run(export_to_storage(settings))
        Console(stderr=True).print(f"stored as {key}" if key else "empty journal: nothing stored")
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


@ledger_app.command("verify")
def verify_command(
    against: Annotated[
        Path | None,
        typer.Option(help="A digest file exported earlier; the chain must still extend it"),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr")] = True,
) -> None:
    """Recompute the whole chain (streaming) and report the first broken seq, if any."""
    anchor = None
    if against is not None:
        try:
            anchor = Digest.from_json(json.loads(against.read_text()))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            Console(stderr=True).print(f"[red]not a journal digest file:[/red] {exc}")
            raise typer.Exit(2) from exc
    settings = get_settings()
    report = asyncio.run(verify(settings.resolved_database_url, anchor, show_progress=progress))
    out = {
        "verified": report.verified,
        "firstBrokenSeq": report.first_broken_seq,
        "reason": report.reason,
    }
    sys.stdout.write(json.dumps(out) + "\n")
    if not report.ok:
        raise typer.Exit(1)
