"""`mindlinks jobs run`: the daily expiry job from the command line, idempotent."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mindlinks.auth.models import User
from mindlinks.cli import app as cli_app
from mindlinks.contractors.models import ContractorProfile, License
from mindlinks.platform.db import Database
from mindlinks.settings import Settings
from tests.factories import run_with_database


def test_jobs_run_expires_licences_once(settings: Settings, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    url = settings.resolved_database_url
    monkeypatch.setenv("MINDLINKS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MINDLINKS_DATABASE_URL", url)
    # In this process, not a fresh one: no start-up freeze of the test run's objects.
    monkeypatch.setenv("MINDLINKS_FREEZE_STARTUP_OBJECTS", "false")
    async def seed(database: Database) -> uuid.UUID:
        async with database.session() as session:
            user = User(id=uuid.uuid4(), email=f"{uuid.uuid4().hex}@example.com",
                        password_hash="x", role="contractor")
            session.add(user)
            await session.flush()
            profile = ContractorProfile(id=uuid.uuid4(), user_id=user.id, email=user.email)
            session.add(profile)
            await session.flush()
            lic = License(id=uuid.uuid4(), contractor_id=profile.id, state="CA",
                          license_number="1", expiration_date=date.today() - timedelta(days=1))
            session.add(lic)
        return lic.id

    async def status(database: Database, license_id: uuid.UUID) -> str:
        async with database.session() as session:
            return str(await session.scalar(select(License.status)
                                            .where(License.id == license_id)))

    license_id = run_with_database(url, seed)
    runner = CliRunner()
    listed = runner.invoke(cli_app, ["jobs", "list"])
    assert listed.exit_code == 0 and "contractors.expire-credentials" in listed.output
    first = runner.invoke(cli_app, ["jobs", "run", "contractors.expire-credentials"])
    assert first.exit_code == 0, first.output
    assert "licenses=1" in first.output
    assert run_with_database(url, lambda db: status(db, license_id)) == "expired"
    second = runner.invoke(cli_app, ["jobs", "run"])
    assert second.exit_code == 0, second.output
    assert "licenses=0" in second.output
    unknown = runner.invoke(cli_app, ["jobs", "run", "no-such-job"])
    assert unknown.exit_code == 2
