"""(Working in this tree? Read DEVELOPERS.md first.)

Test fixtures: every test gets a clean, migrated database, on SQLite and - when
MINDLINKS_TEST_DATABASE_URL is set - on PostgreSQL too (the `db_backend` parameter).

- SQLite: the migrations run once into a template file; each test gets a copy of it.
- PostgreSQL: the migrations run once per session into a fresh `public` schema; each test
  starts by emptying every table (with triggers off, so append-only tables can be emptied).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import text

from mindlinks.app import load_subscribers
from mindlinks.migrations import runner
from mindlinks.models import load_all
from mindlinks.platform import security
from mindlinks.platform.db import Database, create_engine
from mindlinks.settings import Settings
from tests.factories import Account, admin_tokens, free_port, register

PG_BASE_URL = os.environ.get("MINDLINKS_TEST_DATABASE_URL")

# httpx's ASGITransport asks, on every request, whether trio is running by importing sniffio;
# sniffio is not installed here, and a failed import is not cached: Python searches sys.path
# again each time, ~0.1-0.3 ms of every in-process request (10% of the access matrix's
# requests). None in sys.modules makes that import fail at once, the same answer.
if importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

# The event subscribers are registered process-wide (each domain's `events` module, imported
# by `create_app`); registered here, before any test, every test sees the production
# registry - not whichever subscribers an earlier test's app happened to import.
load_subscribers()

# Passwords: the production argon2id profile (64 MiB, t=3, p=4) costs 50-100 ms of CPU per
# hash and per login, 1-2 s on a loaded 2-core machine, and nearly every test registers and
# signs in a few accounts: it was most of the suite's time. Tests hash with the cheapest
# argon2id (same code path, same format); the production profile is tested through the
# `production_passwords` fixture (the upgrade of an old hash at login).
PRODUCTION_PASSWORD_HASHER = security.password_hasher
security.password_hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
# The hash an unknown e-mail is checked against, so both paths still cost the same.
security._DUMMY_HASH = security.password_hasher.hash("not anybody's password")


def _worker_database(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own database (`<name>_gw0`, ...), created on
    first use next to the configured one, so workers never empty each other's tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base, _, name = url.rpartition("/")
    return f"{base}/{name}_{worker}"


PG_URL = _worker_database(PG_BASE_URL)
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]

_sqlite_template: Path | None = None
_pg_migrated = False


# SQLite has one writer and one pooled connection: concurrent requests take turns, so a race
# test passes there whether or not the code locks. Such tests run on PostgreSQL only.
_NO_RACE_ON_SQLITE = pytest.mark.skip(
    reason="race: SQLite serialises writers, so this cannot fail there; runs on PostgreSQL")


# A Chromium journey drives pages that call the same services on both databases, and those
# services' database behaviour is tested on both by the domain and page tests: the journey
# tests the browser side (forms, scripts, links, axe), which does not depend on the database.
# So it runs once, on PostgreSQL when configured (production's database), else on SQLite.
_BROWSER_ON_ONE_DATABASE = pytest.mark.skip(
    reason="browser journey: runs once, on PostgreSQL (the pages' queries run on both "
           "databases in the page tests)")

# Tests that take tens of seconds each. Run last, one of them is a tail: under pytest-xdist
# the run ends when the slowest worker ends. They are moved to the front (stable order
# otherwise), so the short tests fill in behind them on both workers. Node-id prefixes;
# every Chromium journey (a test using the `chromium` fixture) counts too.
LONG_TESTS = (
    "tests/security/test_access_matrix.py",
    "tests/fuzz/test_schemathesis.py",
    "tests/payments/test_withdrawal_concurrency.py",
    "tests/payments/test_withdrawal_crash.py",
    "tests/invoices/test_numbering.py::test_concurrent_issues_number_one_to_fifty",
)


def _is_long(item: pytest.Item) -> bool:
    return item.nodeid.startswith(LONG_TESTS) or "chromium" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "db_backend" in getattr(item, "fixturenames", ()):
            callspec = getattr(item, "callspec", None)
            backend = callspec.params.get("db_backend") if callspec else None
            if backend:
                item.add_marker(getattr(pytest.mark, backend))
            if backend == "sqlite" and item.get_closest_marker("race"):
                item.add_marker(_NO_RACE_ON_SQLITE)
            if (backend == "sqlite" and len(BACKENDS) > 1
                    and "chromium" in getattr(item, "fixturenames", ())):
                item.add_marker(_BROWSER_ON_ONE_DATABASE)
    items.sort(key=lambda item: not _is_long(item))


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _sqlite_template_file(tmp_root: Path) -> Path:
    global _sqlite_template
    if _sqlite_template is None or not _sqlite_template.exists():
        path = tmp_root / "template.db"
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await runner.upgrade(engine, "heads")
        # Closing the last connection checkpoints the WAL into the file, so a copy is complete.
        await engine.dispose()
        _sqlite_template = path
    return _sqlite_template


# Rows the migrations insert (reference data: country rules, the achievements catalogue), taken
# once after migrating and put back after each emptying, so every PostgreSQL test starts from
# the same data as a freshly migrated SQLite copy.
_pg_seed: list[tuple[Any, list[dict[str, Any]]]] = []


async def _pg_create_database(url: str) -> None:
    assert PG_BASE_URL
    name = url.rpartition("/")[2]
    admin = create_engine(PG_BASE_URL, pool=False)
    async with admin.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        exists = await conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()


async def _pg_prepare(url: str) -> None:
    global _pg_migrated
    tables = load_all().metadata.sorted_tables
    if not _pg_migrated and url != PG_BASE_URL:
        await _pg_create_database(url)
    engine = create_engine(url, pool=False)
    if not _pg_migrated:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
            # A test database need not survive a crash: commits stop waiting for the WAL to
            # reach the disk (~2 ms each here, more on a cloud disk; a test commits dozens of
            # times). Applies to every later connection; locking and isolation are unchanged.
            name = url.rpartition("/")[2]
            await conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        await runner.upgrade(engine, "heads")
        async with engine.connect() as conn:
            for table in tables:
                rows = [dict(r) for r in (await conn.execute(table.select())).mappings()]
                if rows:
                    _pg_seed.append((table, rows))
        _pg_migrated = True
    else:
        async with engine.begin() as conn:
            # Triggers off for this connection only: append-only tables refuse DELETE, and
            # foreign keys are triggers too, so the order does not matter. DELETE, not
            # TRUNCATE: a test leaves a few rows, and TRUNCATE of ~60 tables replaces ~60
            # files every time (0.25 s a test, about 4 CPU-minutes of a run); no table uses
            # a sequence, so there is no identity to restart.
            await conn.execute(text("SET session_replication_role = replica"))
            raw = (await conn.get_raw_connection()).driver_connection
            await raw.execute(";".join(f'DELETE FROM "{t.name}"' for t in tables))
            for table, rows in _pg_seed:
                await conn.execute(table.insert(), rows)
    await engine.dispose()


@pytest.fixture
def production_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash passwords with the production argon2id profile for this test."""
    monkeypatch.setattr(security, "password_hasher", PRODUCTION_PASSWORD_HASHER)


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mindlinks")


@pytest.fixture
async def database_url(db_backend: str, tmp_path: Path, tmp_root: Path) -> str:
    if db_backend == "sqlite":
        template = await _sqlite_template_file(tmp_root)
        target = tmp_path / "test.db"
        shutil.copyfile(template, target)
        return f"sqlite+aiosqlite:///{target}"
    assert PG_URL
    await _pg_prepare(PG_URL)
    return PG_URL


@functools.cache
def _jwt_private_key() -> str:
    """One RSA signing key for the tests' apps: generating one per app cost ~0.1-0.3 s a test
    (the generation itself is tested with its own settings, `test_generated_keys_are_private`)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@functools.cache
def _settings_template() -> Settings:
    """Validated once per worker: building Settings reads and validates ~100 fields from the
    environment (~11 ms, every test); each test takes a deep copy with its own paths. Never
    used by an app itself, so no cached property (`resolved_database_url`) is ever stale."""
    return Settings(
        env="test",
        data_dir=Path("unused"),
        database_url="sqlite+aiosqlite:///unused",
        redis_url=None,
        dispatcher_in_process=False,
        jwt_private_key=_jwt_private_key(),
        freeze_startup_objects=False,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings of a test app: its own data dir, the test database, inline dispatching, and
    no start-up freeze (one app per test: see `freeze_startup_objects`)."""
    return _settings_template().model_copy(
        update={"data_dir": tmp_path / "var", "database_url": database_url}, deep=True)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.resolved_database_url)
    yield db
    await db.dispose()


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    from mindlinks.app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis to test shared backends against. CI sets MINDLINKS_TEST_REDIS_URL and a
    missing server fails there; on a newcomer's machine without Redis these tests skip."""
    import redis

    url = os.environ.get("MINDLINKS_TEST_REDIS_URL")
    try:
        redis.Redis.from_url(url or "redis://127.0.0.1:6379/0", socket_timeout=1).ping()
    except redis.RedisError:
        if url:
            raise
        pytest.skip("no Redis on 127.0.0.1:6379 (set MINDLINKS_TEST_REDIS_URL to require it)")
    return url or "redis://127.0.0.1:6379/0"


@pytest.fixture
async def admin(app: Any, client: httpx.AsyncClient) -> Account:
    """An administrator signed in with password and TOTP (`.secret` is the TOTP secret)."""
    return Account(await admin_tokens(app, client))


@pytest.fixture
async def contractor(client: httpx.AsyncClient) -> Account:
    """A contractor registered through the API (with their profile), signed in."""
    return Account(await register(client, "contractor", name="Ada Lovelace"))


@pytest.fixture
async def other(client: httpx.AsyncClient) -> Account:
    """A second, unrelated contractor."""
    return Account(await register(client, "contractor", name="Grace Hopper"))


class SmtpInbox:
    """What a real SMTP server on loopback (aiosmtpd) received: raw messages, in order."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Any, SmtpInbox]]:
    """A real SMTP server on a free loopback port: (controller, inbox)."""
    from aiosmtpd.controller import Controller

    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()
