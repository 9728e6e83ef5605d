"""Production refusal, and the CLI a newcomer uses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mindlinks.app import ProductionConfigError, create_app
from mindlinks.settings import Settings


def test_production_refuses_development_defaults(tmp_path):
    settings = Settings(env="production", data_dir=tmp_path, _env_file=None)
    problems = settings.production_problems()
    assert any("SECRET_KEY" in p for p in problems)
    assert any("JWT_PRIVATE_KEY" in p for p in problems)
    assert any("SQLite" in p for p in problems)
    with pytest.raises(ProductionConfigError) as err:
        create_app(settings)
    assert "MINDLINKS_ENCRYPTION_KEYS" in str(err.value)  # field encryption keys too
    assert "MINDLINKS_BUSINESS_REGISTRY" in str(err.value)  # and each domain's sandbox providers


def test_production_accepts_a_complete_configuration(tmp_path):
    settings = Settings(
        env="production", data_dir=tmp_path, secret_key="s" * 40,
        jwt_private_key="-----BEGIN PRIVATE KEY-----...", public_url="https://app.example",
        database_url="postgresql+asyncpg://u@db/mindlinks", _env_file=None,
    )
    assert settings.production_problems() == []


def test_generated_keys_are_private(tmp_path):
    from mindlinks.platform.runtime import Runtime

    Runtime.build(Settings(data_dir=tmp_path, _env_file=None))
    for name in ("jwt-private.pem", "secret.key"):
        assert (tmp_path / "keys" / name).stat().st_mode & 0o777 == 0o600


def _cli(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mindlinks.cli", *args], input=stdin, capture_output=True,
        text=True, env={**os.environ, **env}, timeout=120, check=False,
    )


def test_cli_version_migrate_and_create_admin(tmp_path: Path):
    env = {"MINDLINKS_DATA_DIR": str(tmp_path / "var")}
    env.pop("MINDLINKS_DATABASE_URL", None)
    version = _cli("--version", env=env)
    assert version.returncode == 0 and version.stdout.startswith("mindlinks ")
    migrate = _cli("migrate", env=env)
    assert migrate.returncode == 0, migrate.stderr
    assert (tmp_path / "var" / "mindlinks.db").exists()
    admin = _cli("create-admin", "--email", "root@example.com", "--password-stdin",
                 env=env, stdin="correct horse battery staple\n")
    assert admin.returncode == 0, admin.stderr
    assert "otpauth://totp/Mind-Links:root%40example.com?secret=" in admin.stdout
    again = _cli("create-admin", "--email", "root@example.com", "--password-stdin",
                 env=env, stdin="correct horse battery staple\n")
    assert again.returncode == 1 and "already exists" in again.stderr
    weak = _cli("create-admin", "--email", "weak@example.com", "--password-stdin",
                env=env, stdin="password\n")
    assert weak.returncode == 1


def test_cli_outside_the_data_dir_says_so_in_one_line(tmp_path: Path):
    """A command run where no migrated database is: one line naming the fix, exit 1."""
    commands = [(("ledger", "verify"), None), (("jobs", "run"), None),
                (("create-admin", "--email", "root@example.com", "--password-stdin"),
                 "correct horse battery staple\n")]
    for n, (args, stdin) in enumerate(commands):
        # A directory that does not exist yet, like a fresh checkout's.
        env = {"MINDLINKS_DATA_DIR": str(tmp_path / f"nowhere{n}"), "MINDLINKS_DATABASE_URL": ""}
        result = _cli(*args, env=env, stdin=stdin)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "mindlinks migrate" in lines[0] and "MINDLINKS_DATA_DIR" in lines[0]


def test_cli_names_the_password_rule_it_applies(tmp_path: Path):
    env = {"MINDLINKS_DATA_DIR": str(tmp_path / "var"), "MINDLINKS_DATABASE_URL": ""}
    assert _cli("migrate", env=env).returncode == 0
    weak = _cli("create-admin", "--email", "rootadmin@example.com", "--password-stdin",
                env=env, stdin="rootadmin and a long tail\n")
    assert weak.returncode == 1
    assert "must not contain the part of your email address before the @" in weak.stderr


def test_every_cli_command_has_the_event_subscribers(tmp_path: Path):
    """`mindlinks jobs run` pays payrolls and sends reminders: the events it emits must get
    their delivery rows, so the CLI registers the domains' subscribers as `serve` does. In a
    fresh process (this test process registered them already, tests/conftest.py)."""
    script = (
        "from mindlinks.cli import app\n"
        "from mindlinks.platform.events import subscribers_of\n"
        "app(['jobs', 'list'], standalone_mode=False)\n"
        "print(sorted(subscribers_of('payment.received')))\n"
    )
    env = {**os.environ, "MINDLINKS_DATA_DIR": str(tmp_path / "var")}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] != "[]", done.stdout
