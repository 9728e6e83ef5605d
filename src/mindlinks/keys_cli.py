"""`mindlinks keys rotate | generate`: master-key rotation for field encryption. It lives at
the top, beside `cli.py`, because rotating loads every domain's models (`platform` knows none).

Rotating in production: put a new key (`mindlinks keys generate`) first in
MINDLINKS_ENCRYPTION_KEYS, keep the old ones after it, deploy, run `mindlinks keys rotate`;
once it reports everything under the new kid, the old keys may be removed.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from mindlinks.settings import get_settings

keys_app = typer.Typer(help="Field-encryption master keys.", no_args_is_help=True)


@keys_app.command()
def generate() -> None:
    """Print a new `kid:base64key` entry for MINDLINKS_ENCRYPTION_KEYS."""
    from mindlinks.platform.crypto import generate_master_key

    typer.echo(generate_master_key())


@keys_app.command()
def rotate(
    new_dev_key: Annotated[
        bool,
        typer.Option(
            "--new-dev-key",
            help="Development only: first add a freshly generated key to the key file.",
        ),
    ] = False,
) -> None:
    """Re-wrap every data key and encrypted value under the newest master key."""
    from mindlinks.models import load_all
    from mindlinks.platform import crypto
    from mindlinks.platform.db import Database

    settings = get_settings()
    if new_dev_key:
        kid = crypto.add_dev_master_key(settings)
        typer.echo(f"added development key {kid}")
    load_all()  # every domain registers its encrypted columns on import
    keyring = crypto.KeyRing.from_settings(settings)

    async def _run() -> crypto.RotationReport:
        db = Database(settings.resolved_database_url)
        try:
            async with db.session() as session:
                return await crypto.rotate_all(session, keyring=keyring)
        finally:
            await db.dispose()

    report = asyncio.run(_run())
    typer.echo(
        f"current key {report.current_kid}: {report.data_keys_rewrapped} subject keys and "
        f"{report.values_rewrapped} values re-wrapped "
        f"({len(crypto.registered_columns())} encrypted columns)"
    )
