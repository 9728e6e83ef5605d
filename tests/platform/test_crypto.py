"""RELIABILITY 38 (field encryption) and 37 (crypto-shredding), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String, Uuid, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mindlinks.platform import crypto
from mindlinks.platform.crypto import (
    DataKey,
    DataKeyDestroyed,
    DecryptionFailed,
    KeyRing,
    destroy_subject_key,
    mask,
    rotate_all,
    seal,
    unseal,
)
from mindlinks.platform.db import Database
from mindlinks.settings import Settings
from tests.factories import run_with_database

IBAN = "DE89370400440532013000"
ACCOUNT = "000123456789"
TAX_ID = "123-45-6789"


class _TestBase(DeclarativeBase):
    """Tables of these tests only: kept off the application's metadata and migrations."""


class BankRow(_TestBase):
    __tablename__ = "test_crypto_bank_accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    iban_enc: Mapped[str | None] = mapped_column(String(400))
    account_number_enc: Mapped[str | None] = mapped_column(String(400))
    note_enc: Mapped[str | None] = mapped_column(String(400))  # encrypted with its own key


def _entry(kid: str) -> str:
    return f"{kid}:{base64.b64encode(os.urandom(32)).decode()}"


K1, K2 = _entry("k1"), _entry("k2")


@pytest.fixture
def keyring() -> Iterator[KeyRing]:
    ring = KeyRing.from_entries([K1])
    crypto.use_keyring(ring)
    yield ring
    crypto.use_keyring(None)


@pytest.fixture
async def db(database: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Database]:
    monkeypatch.setattr(crypto, "_registry", dict(crypto._registry))
    crypto.register_encrypted(BankRow, "iban_enc", "account_number_enc", "note_enc")
    async with database.engine.begin() as conn:
        await conn.run_sync(_TestBase.metadata.create_all)
    yield database
    async with database.engine.begin() as conn:
        await conn.run_sync(_TestBase.metadata.drop_all)


async def _add(db: Database, owner: uuid.UUID, iban: str = IBAN, note: str = "memo") -> uuid.UUID:
    async with db.session() as session:
        row = BankRow(owner_id=owner)
        await seal(session, row, "iban_enc", iban, subject_id=owner)
        await seal(session, row, "account_number_enc", ACCOUNT, subject_id=owner)
        await seal(session, row, "note_enc", note, subject_id=None)
        session.add(row)
    return row.id


async def _read(db: Database, row_id: uuid.UUID, attribute: str = "iban_enc") -> str | None:
    async with db.session() as session:
        row = await session.get(BankRow, row_id)
        assert row is not None
        return await unseal(session, row, attribute)


async def _raw(db: Database, row_id: uuid.UUID) -> dict[str, str]:
    async with db.engine.connect() as conn:
        result = await conn.execute(
            text("SELECT iban_enc, account_number_enc, note_enc FROM test_crypto_bank_accounts "
                 "WHERE id = :id"),
            {"id": row_id if db.engine.dialect.name == "postgresql" else row_id.hex},
        )
        return dict(result.mappings().one())


async def test_round_trip_and_no_plaintext_in_the_row(db: Database, keyring: KeyRing) -> None:
    owner = uuid.uuid4()
    row_id = await _add(db, owner)
    assert await _read(db, row_id) == IBAN
    assert await _read(db, row_id, "account_number_enc") == ACCOUNT
    assert await _read(db, row_id, "note_enc") == "memo"

    raw = await _raw(db, row_id)
    assert raw["iban_enc"].startswith("ml1.s.") and IBAN not in raw["iban_enc"]
    assert ACCOUNT not in raw["account_number_enc"]
    assert raw["note_enc"].startswith("ml1.v.k1.") and "memo" not in raw["note_enc"]
    # Random nonces: the same plaintext twice gives two ciphertexts.
    other = await _raw(db, await _add(db, owner))
    assert other["iban_enc"] != raw["iban_enc"]


async def test_whole_database_holds_no_plaintext(db: Database, keyring: KeyRing) -> None:
    for _ in range(3):
        await _add(db, uuid.uuid4(), note=TAX_ID)
    async with db.engine.connect() as conn:
        dump: list[str] = []
        for table in ("test_crypto_bank_accounts", "platform_data_keys"):
            rows = (await conn.execute(text(f"SELECT * FROM {table}"))).all()
            assert rows
            dump.extend(repr(tuple(r)) for r in rows)
    everything = "\n".join(dump)
    for secret in (IBAN, ACCOUNT, TAX_ID, "0532013000", "456789"):
        assert secret not in everything
    if db.engine.dialect.name == "sqlite":
        await db.dispose()
        path = Path(db.url.split("///", 1)[1])
        files = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert files and IBAN.encode() not in files and TAX_ID.encode() not in files


@pytest.mark.parametrize("attribute", ["iban_enc", "note_enc"])
async def test_ciphertext_copied_to_another_row_does_not_decrypt(
    db: Database, keyring: KeyRing, attribute: str
) -> None:
    owner = uuid.uuid4()
    source, target = await _add(db, owner, iban=IBAN), await _add(db, owner, iban="GB00OTHER")
    async with db.session() as session:
        src = await session.get(BankRow, source)
        dst = await session.get(BankRow, target)
        assert src and dst
        setattr(dst, attribute, getattr(src, attribute))
    with pytest.raises(DecryptionFailed):
        await _read(db, target, attribute)
    # Nor into another column of the same row.
    async with db.session() as session:
        row = await session.get(BankRow, source)
        assert row
        row.account_number_enc = row.iban_enc
    with pytest.raises(DecryptionFailed):
        await _read(db, source, "account_number_enc")
    assert await _read(db, source, "iban_enc") == IBAN


async def test_tampered_ciphertext_does_not_decrypt(db: Database, keyring: KeyRing) -> None:
    row_id = await _add(db, uuid.uuid4())
    async with db.session() as session:
        row = await session.get(BankRow, row_id)
        assert row and row.iban_enc
        head, _, body = row.iban_enc.rpartition(".")
        blob = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        blob[-1] ^= 1
        row.iban_enc = f"{head}.{base64.urlsafe_b64encode(bytes(blob)).decode().rstrip('=')}"
    with pytest.raises(DecryptionFailed):
        await _read(db, row_id)


async def test_unregistered_column_is_refused(db: Database, keyring: KeyRing) -> None:
    crypto._registry.pop((BankRow.__tablename__, "note_enc"))
    async with db.session() as session:
        with pytest.raises(RuntimeError, match="not registered"):
            await seal(session, BankRow(owner_id=uuid.uuid4()), "note_enc", "x", subject_id=None)


async def test_rotation_rewraps_everything_and_old_key_can_go(db: Database) -> None:
    crypto.use_keyring(KeyRing.from_entries([K1]))
    owners = [uuid.uuid4() for _ in range(3)]
    rows = [await _add(db, owner, iban=f"{IBAN}{i}", note=f"n{i}") for i, owner in enumerate(owners)]

    # Before rotation, the new key alone opens nothing.
    crypto.use_keyring(KeyRing.from_entries([K2]))
    with pytest.raises(DecryptionFailed):
        await _read(db, rows[0])
    with pytest.raises(DecryptionFailed):
        await _read(db, rows[0], "note_enc")

    crypto.use_keyring(KeyRing.from_entries([K2, K1]))
    async with db.session() as session:
        report = await rotate_all(session)
    assert report.current_kid == "k2"
    assert report.data_keys_rewrapped == 3
    assert report.values_rewrapped == 3
    async with db.session() as session:
        again = await rotate_all(session)
    assert (again.data_keys_rewrapped, again.values_rewrapped) == (0, 0)  # idempotent

    crypto.use_keyring(KeyRing.from_entries([K2]))  # k1 retired
    try:
        for i, row_id in enumerate(rows):
            assert await _read(db, row_id) == f"{IBAN}{i}"
            assert await _read(db, row_id, "account_number_enc") == ACCOUNT
            assert await _read(db, row_id, "note_enc") == f"n{i}"
        async with db.session() as session:
            kids = set((await session.scalars(select(DataKey.kek_id))).all())
        assert kids == {"k2"}
    finally:
        crypto.use_keyring(None)


async def test_destroying_a_subject_key_shreds_only_that_subject(
    db: Database, keyring: KeyRing
) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    alice_row, bob_row = await _add(db, alice), await _add(db, bob)
    async with db.session() as session:
        assert await destroy_subject_key(session, alice) is True
        assert await destroy_subject_key(session, alice) is False
    with pytest.raises(DataKeyDestroyed):
        await _read(db, alice_row)
    with pytest.raises(DataKeyDestroyed):
        await _read(db, alice_row, "account_number_enc")
    assert await _read(db, bob_row) == IBAN
    # The row is kept as the record of the erasure, its key material gone.
    async with db.session() as session:
        key = await session.scalar(select(DataKey).where(DataKey.subject_id == alice))
        assert key and key.wrapped_key is None and key.destroyed_at is not None
        # No new data for an erased subject.
        with pytest.raises(DataKeyDestroyed):
            await seal(session, BankRow(owner_id=alice), "iban_enc", IBAN, subject_id=alice)
    # Rotation skips destroyed keys and still succeeds.
    crypto.use_keyring(KeyRing.from_entries([K2, K1]))
    async with db.session() as session:
        assert (await rotate_all(session)).data_keys_rewrapped == 1


async def test_shredding_in_the_same_session_forgets_the_cached_key(
    db: Database, keyring: KeyRing
) -> None:
    owner = uuid.uuid4()
    row_id = await _add(db, owner)
    async with db.session() as session:
        row = await session.get(BankRow, row_id)
        assert await unseal(session, row, "iban_enc") == IBAN
        await destroy_subject_key(session, owner)
        with pytest.raises(DataKeyDestroyed):
            await unseal(session, row, "iban_enc")


async def test_concurrent_first_use_of_a_subject_creates_one_key(
    db: Database, keyring: KeyRing
) -> None:
    owner = uuid.uuid4()
    ids = await asyncio.gather(*(_add(db, owner, iban=f"{IBAN}{i}") for i in range(4)))
    async with db.session() as session:
        count = len((await session.scalars(select(DataKey).where(DataKey.subject_id == owner))).all())
    assert count == 1
    for i, row_id in enumerate(ids):
        assert await _read(db, row_id) == f"{IBAN}{i}"


# --- keys, configuration, masking ----------------------------------------------------


def test_development_key_is_generated_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)
    first = KeyRing.from_settings(settings)
    path = tmp_path / "keys" / "encryption.keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.generated and len(first.keys[first.current]) == 32
    assert KeyRing.from_settings(settings).keys == first.keys
    assert crypto.production_problems(settings)

    kid = crypto.add_dev_master_key(settings)
    rotated = KeyRing.from_settings(settings)
    assert rotated.current == kid != first.current
    assert set(rotated.keys) == {kid, first.current}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_keys_from_settings_and_production_check(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, encryption_keys=[K2, K1])
    ring = KeyRing.from_settings(settings)
    assert ring.current == "k2" and not ring.generated
    assert not (tmp_path / "keys").exists()
    assert crypto.production_problems(settings) == []
    urlsafe = "k3:" + base64.urlsafe_b64encode(b"\xfb" * 32).decode()
    assert KeyRing.from_entries([urlsafe]).keys["k3"] == b"\xfb" * 32


@pytest.mark.parametrize(
    "entry",
    ["nokid", "k1:" + base64.b64encode(b"short").decode(), "bad kid!:" + K1.split(":")[1],
     "k1:not base64!!"],
    # Stable ids: K1 is random, and pytest-xdist workers must collect the same test names.
    ids=["no-kid", "short-key", "bad-kid", "not-base64"],
)
def test_malformed_keys_are_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        KeyRing.from_entries([entry])
    settings = Settings(_env_file=None, encryption_keys=[entry])
    assert crypto.production_problems(settings)


def test_duplicate_kid_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        KeyRing.from_entries([K1, K1])


@pytest.mark.parametrize(
    ("value", "masked"),
    [("000123456789", "****6789"), ("DE89 3704 0044 0532 0130 00", "****3000"),
     ("123-45-6789", "****6789"), ("1234", "****"), ("", "****"), (None, None)],
)
def test_mask(value: str | None, masked: str | None) -> None:
    assert mask(value) == masked


def test_keys_rotate_command(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mindlinks keys rotate` after a new development key: all rows move to it and still read."""
    from typer.testing import CliRunner

    from mindlinks.keys_cli import keys_app

    monkeypatch.setattr(crypto, "_registry", dict(crypto._registry))
    crypto.register_encrypted(BankRow, "iban_enc", "account_number_enc", "note_enc")
    url = settings.resolved_database_url

    def run(work: Any) -> Any:
        # The command runs its own event loop, so this test drives the database from its own.
        return run_with_database(url, work)

    async def create(database: Database) -> None:
        async with database.engine.begin() as conn:
            await conn.run_sync(_TestBase.metadata.create_all)

    async def drop(database: Database) -> None:
        async with database.engine.begin() as conn:
            await conn.run_sync(_TestBase.metadata.drop_all)

    monkeypatch.setenv("MINDLINKS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MINDLINKS_DATABASE_URL", url)
    monkeypatch.delenv("MINDLINKS_ENCRYPTION_KEYS", raising=False)
    old = crypto.configure(Settings(_env_file=None, data_dir=settings.data_dir))
    assert old.generated
    run(create)
    try:
        row_id = run(lambda database: _add(database, uuid.uuid4()))

        cli = CliRunner()
        result = cli.invoke(keys_app, ["rotate", "--new-dev-key"])
        assert result.exit_code == 0, result.output
        assert "1 subject keys and 1 values re-wrapped" in result.output

        new = KeyRing.from_settings(Settings(_env_file=None, data_dir=settings.data_dir))
        assert new.current != old.current
        crypto.use_keyring(KeyRing(keys={new.current: new.keys[new.current]}, current=new.current))
        assert run(lambda database: _read(database, row_id)) == IBAN
        assert run(lambda database: _read(database, row_id, "note_enc")) == "memo"
        assert "0 subject keys and 0 values" in cli.invoke(keys_app, ["rotate"]).output
    finally:
        crypto.use_keyring(None)
        run(drop)


def test_keys_generate_command() -> None:
    from typer.testing import CliRunner

    from mindlinks.keys_cli import keys_app

    result = CliRunner().invoke(keys_app, ["generate"])
    assert result.exit_code == 0
    kid, key = KeyRing.from_entries([result.output.strip()]).keys.popitem()
    assert len(key) == 32 and kid.startswith("k")


async def test_key_of_a_rolled_back_savepoint_is_not_reused(
    db: Database, keyring: KeyRing
) -> None:
    owner = uuid.uuid4()
    async with db.session() as session:
        nested = await session.begin_nested()
        await seal(session, BankRow(owner_id=owner), "iban_enc", IBAN, subject_id=owner)
        await nested.rollback()
        row = BankRow(owner_id=owner)
        await seal(session, row, "iban_enc", IBAN, subject_id=owner)
        session.add(row)
    assert await _read(db, row.id) == IBAN
