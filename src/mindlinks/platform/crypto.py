"""Field encryption: AES-256-GCM envelope encryption with key ids, rotation and crypto-shredding.

Keys
- Master keys (KEKs) come from `MINDLINKS_ENCRYPTION_KEYS` (`kid:base64(32 bytes)`, newest
  first) or, in development, from `<data_dir>/keys/encryption.keys` (generated, mode 0600);
  see `crypto_keys.py`. The newest wraps everything new; older ones only unwrap until
  `rotate_all` has run.
- Data keys (DEKs) are per subject (a contractor, a company, a user) in `platform_data_keys`,
  wrapped by a KEK whose kid is stored with them. Destroying a subject's DEK
  (`destroy_subject_key`) makes every field encrypted for that subject unreadable for good,
  while the rows (and the ledger's amounts and hashes) stay (RELIABILITY 37).
- A value without a subject gets its own DEK, wrapped inline in its ciphertext.

Ciphertexts are text, safe for any VARCHAR/TEXT column:
  `ml1.s.<dek id>.<b64 nonce|ciphertext|tag>`              (subject key)
  `ml1.v.<kid>.<b64 wrapped dek>.<b64 nonce|ciphertext|tag>` (own key)
Each is bound by AAD to `table|column|row id`, so a ciphertext copied into another row or
column fails to decrypt.

Columns holding ciphertexts are registered (`register_encrypted`); `seal`/`unseal` refuse an
unregistered column, so `rotate_all` (`mindlinks keys rotate`) reaches every sensitive field.
Encryption is explicit (`await seal(session, row, "iban_enc", value, subject_id=...)`) rather
than a TypeDecorator: the AAD needs the row id and a subject key needs a database read, neither
of which a type's bind hook can do under async SQLAlchemy.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary, String, Table, event, select, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column

from mindlinks.platform.crypto_keys import (
    NONCE_BYTES,
    DataKeyDestroyed,
    DecryptionFailed,
    KeyRing,
    add_dev_master_key,
    b64url,
    configure,
    current_keyring,
    dev_key_file,
    generate_master_key,
    parse_master_key,
    production_problems,
    unb64url,
    use_keyring,
)
from mindlinks.platform.db import Base, IdMixin, TimestampMixin, utcnow

__all__ = [
    "DataKey", "DataKeyDestroyed", "DecryptionFailed", "EncryptedColumn", "KeyRing",
    "RotationReport", "add_dev_master_key", "configure", "current_keyring", "decrypt_value",
    "destroy_subject_key", "dev_key_file", "encrypt_value", "generate_master_key", "mask",
    "parse_master_key", "production_problems", "register_encrypted", "registered_columns",
    "rotate_all", "seal", "unseal", "use_keyring",
]

PREFIX = "ml1"
_NONCE = NONCE_BYTES
_CACHE = "mindlinks.crypto.deks"


class DataKey(IdMixin, TimestampMixin, Base):
    __tablename__ = "platform_data_keys"

    subject_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    kek_id: Mapped[str] = mapped_column(String(32))
    # NULL once destroyed; the row stays as the record of the erasure.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    destroyed_at: Mapped[datetime | None]


# --- registry of encrypted columns ------------------------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    table: Table
    column: str
    id_column: str = "id"


_registry: dict[tuple[str, str], EncryptedColumn] = {}


def register_encrypted(model: type[Any], *attributes: str) -> None:
    """Declare that `model`'s `attributes` hold ciphertexts (call next to the model)."""
    mapper = sa_inspect(model)
    table = mapper.local_table
    assert isinstance(table, Table)
    id_column = mapper.primary_key[0].name
    for attribute in attributes:
        column = mapper.columns[attribute].name
        _registry[(table.name, column)] = EncryptedColumn(table, column, id_column)


def registered_columns() -> list[EncryptedColumn]:
    return list(_registry.values())


def _aad(table: str, column: str, row_id: object, key_ref: str) -> bytes:
    return f"mindlinks/field/v1|{table}|{column}|{row_id}|{key_ref}".encode()


def _dek_aad(dek_id: uuid.UUID, subject_id: uuid.UUID) -> bytes:
    return f"mindlinks/dek/v1|{dek_id}|{subject_id}".encode()


# --- subject data keys ------------------------------------------------------------------


@dataclass
class _DekCache:
    by_id: dict[uuid.UUID, bytes] = field(default_factory=dict)
    by_subject: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)


def _cache(session: AsyncSession) -> _DekCache:
    cache = session.info.get(_CACHE)
    if cache is None:
        cache = session.info[_CACHE] = _DekCache()
    return cache


@event.listens_for(Session, "after_soft_rollback")
def _forget_keys_on_rollback(session: Session, _previous: Any) -> None:
    # A data key created in a rolled-back transaction (or savepoint) no longer exists: using
    # the cached copy would encrypt data nobody could ever decrypt.
    session.info.pop(_CACHE, None)


def _open_dek(row: DataKey, keyring: KeyRing) -> bytes:
    if row.wrapped_key is None:
        raise DataKeyDestroyed("the subject's data key was destroyed")
    return keyring.unwrap(row.kek_id, row.wrapped_key, _dek_aad(row.id, row.subject_id))


async def _subject_dek(
    session: AsyncSession, subject_id: uuid.UUID, keyring: KeyRing
) -> tuple[uuid.UUID, bytes]:
    cache = _cache(session)
    if (dek_id := cache.by_subject.get(subject_id)) is not None:
        return dek_id, cache.by_id[dek_id]
    row = await session.scalar(select(DataKey).where(DataKey.subject_id == subject_id))
    if row is None:
        dek = AESGCM.generate_key(bit_length=256)
        new_id = uuid.uuid4()
        kid, wrapped = keyring.wrap(dek, _dek_aad(new_id, subject_id))
        now = utcnow()
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        # Two transactions may create the first key of a subject at once: one insert wins and
        # both use the winner's key.
        await session.execute(
            insert(DataKey)
            .values(id=new_id, subject_id=subject_id, kek_id=kid, wrapped_key=wrapped,
                    created_at=now, updated_at=now)
            .on_conflict_do_nothing(index_elements=["subject_id"])
        )
        row = await session.scalar(
            select(DataKey).where(DataKey.subject_id == subject_id)
            .execution_options(populate_existing=True)
        )
        assert row is not None
    dek = _open_dek(row, keyring)
    cache.by_id[row.id] = dek
    cache.by_subject[subject_id] = row.id
    return row.id, dek


async def _dek_by_id(session: AsyncSession, dek_id: uuid.UUID, keyring: KeyRing) -> bytes:
    cache = _cache(session)
    if (dek := cache.by_id.get(dek_id)) is not None:
        return dek
    row = await session.get(DataKey, dek_id, populate_existing=True)
    if row is None:
        raise DataKeyDestroyed("the data key no longer exists")
    dek = _open_dek(row, keyring)
    cache.by_id[dek_id] = dek
    cache.by_subject[row.subject_id] = dek_id
    return dek


async def destroy_subject_key(session: AsyncSession, subject_id: uuid.UUID) -> bool:
    """Crypto-shred: every field encrypted for `subject_id` becomes unreadable, irreversibly.

    The row is kept (wrapped key NULL, `destroyed_at` set) as the record of the erasure; new
    values for the subject are refused afterwards. Returns False if the subject had no key.
    """
    result = await session.execute(
        update(DataKey)
        .where(DataKey.subject_id == subject_id, DataKey.wrapped_key.is_not(None))
        .values(wrapped_key=None, destroyed_at=utcnow(), updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    cache = _cache(session)
    if (dek_id := cache.by_subject.pop(subject_id, None)) is not None:
        cache.by_id.pop(dek_id, None)
    return bool(getattr(result, "rowcount", 0))


# --- encrypt / decrypt ------------------------------------------------------------------


def _check_registered(table: str, column: str) -> None:
    if (table, column) not in _registry:
        raise RuntimeError(
            f"{table}.{column} is not registered for encryption (crypto.register_encrypted)"
        )


async def encrypt_value(
    session: AsyncSession, plaintext: str, *, table: str, column: str, row_id: object,
    subject_id: uuid.UUID | None, keyring: KeyRing | None = None,
) -> str:
    """The ciphertext of `plaintext` for that table, column and row (and subject's key)."""
    _check_registered(table, column)
    keyring = keyring or current_keyring()
    nonce = os.urandom(_NONCE)
    if subject_id is not None:
        dek_id, dek = await _subject_dek(session, subject_id, keyring)
        ref = f"s.{dek_id}"
        body = AESGCM(dek).encrypt(nonce, plaintext.encode(), _aad(table, column, row_id, ref))
        return f"{PREFIX}.{ref}.{b64url(nonce + body)}"
    dek = AESGCM.generate_key(bit_length=256)
    kid, wrapped = keyring.wrap(dek, _aad(table, column, row_id, "dek"))
    body = AESGCM(dek).encrypt(nonce, plaintext.encode(), _aad(table, column, row_id, "v"))
    return f"{PREFIX}.v.{kid}.{b64url(wrapped)}.{b64url(nonce + body)}"


async def decrypt_value(
    session: AsyncSession, token: str, *, table: str, column: str, row_id: object,
    keyring: KeyRing | None = None,
) -> str:
    """The plaintext, or `DecryptionFailed` / `DataKeyDestroyed`; never a wrong value."""
    _check_registered(table, column)
    keyring = keyring or current_keyring()
    parts = token.split(".")
    try:
        if parts[:2] == [PREFIX, "s"] and len(parts) == 4:
            dek_id = uuid.UUID(parts[2])
            dek = await _dek_by_id(session, dek_id, keyring)
            aad = _aad(table, column, row_id, f"s.{dek_id}")
            blob = unb64url(parts[3])
        elif parts[:2] == [PREFIX, "v"] and len(parts) == 5:
            dek = keyring.unwrap(parts[2], unb64url(parts[3]), _aad(table, column, row_id, "dek"))
            aad = _aad(table, column, row_id, "v")
            blob = unb64url(parts[4])
        else:
            raise DecryptionFailed("not a ciphertext of this service")
        return AESGCM(dek).decrypt(blob[:_NONCE], blob[_NONCE:], aad).decode()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed("ciphertext does not decrypt for this row") from exc


def _locate(row: Any, attribute: str) -> tuple[str, str, object]:
    mapper = sa_inspect(type(row))
    id_attr = mapper.get_property_by_column(mapper.primary_key[0]).key
    if getattr(row, id_attr) is None:
        # The AAD needs the id before the INSERT: assign it now (IdMixin would, at flush).
        setattr(row, id_attr, uuid.uuid4())
    return mapper.local_table.name, mapper.columns[attribute].name, getattr(row, id_attr)


async def seal(
    session: AsyncSession, row: Any, attribute: str, plaintext: str | None, *,
    subject_id: uuid.UUID | None,
) -> None:
    """Encrypt `plaintext` into `row.<attribute>` (None clears it)."""
    if plaintext is None:
        setattr(row, attribute, None)
        return
    table, column, row_id = _locate(row, attribute)
    token = await encrypt_value(
        session, plaintext, table=table, column=column, row_id=row_id, subject_id=subject_id
    )
    setattr(row, attribute, token)


async def unseal(session: AsyncSession, row: Any, attribute: str) -> str | None:
    """The plaintext of `row.<attribute>`; raises `DataKeyDestroyed` after erasure."""
    token = getattr(row, attribute)
    if token is None:
        return None
    table, column, row_id = _locate(row, attribute)
    return await decrypt_value(session, token, table=table, column=column, row_id=row_id)


def mask(value: str | None) -> str | None:
    """`****1234`: the last four letters or digits at most, and only of a longer value."""
    if value is None:
        return None
    visible = "".join(ch for ch in value if ch.isalnum())
    return "****" + (visible[-4:] if len(visible) > 4 else "")


# --- rotation ---------------------------------------------------------------------------


@dataclass
class RotationReport:
    current_kid: str
    data_keys_rewrapped: int = 0
    values_rewrapped: int = 0
    values_checked: int = 0


async def rotate_all(
    session: AsyncSession, *, keyring: KeyRing | None = None, batch_size: int = 500
) -> RotationReport:
    """Put everything under the newest master key: afterwards older keys can be retired.

    Subject data keys wrapped by an older key are re-wrapped; values with their own data key
    (`ml1.v.<kid>...`) in every registered column are re-wrapped the same way. The value
    ciphertexts themselves stay valid, so readers never see a half-rotated field. Idempotent;
    run in one transaction (or again after an interruption).
    """
    keyring = keyring or current_keyring()
    report = RotationReport(keyring.current)
    last: uuid.UUID | None = None
    while True:
        stmt = select(DataKey).where(
            DataKey.kek_id != keyring.current, DataKey.wrapped_key.is_not(None)
        ).order_by(DataKey.id).limit(batch_size)
        if last is not None:
            stmt = stmt.where(DataKey.id > last)
        rows = (await session.scalars(stmt)).all()
        if not rows:
            break
        for row in rows:
            aad = _dek_aad(row.id, row.subject_id)
            assert row.wrapped_key is not None
            dek = keyring.unwrap(row.kek_id, row.wrapped_key, aad)
            row.kek_id, row.wrapped_key = keyring.wrap(dek, aad)
            report.data_keys_rewrapped += 1
        last = rows[-1].id
        await session.flush()

    for entry in registered_columns():
        id_col, col = entry.table.c[entry.id_column], entry.table.c[entry.column]
        # Filtered in Python: a kid may hold `_`, a LIKE wildcard.
        result = await session.execute(select(id_col, col).where(col.like(f"{PREFIX}.v.%")))
        for item in result.all():
            row_id, token = item[0], item[1]
            report.values_checked += 1
            parts: list[str] = str(token).split(".")
            if len(parts) != 5 or parts[2] == keyring.current:
                continue
            aad = _aad(entry.table.name, entry.column, row_id, "dek")
            dek = keyring.unwrap(parts[2], unb64url(parts[3]), aad)
            new_kid, rewrapped = keyring.wrap(dek, aad)
            await session.execute(
                update(entry.table).where(id_col == row_id, col == token)
                .values({entry.column: f"{PREFIX}.v.{new_kid}.{b64url(rewrapped)}.{parts[4]}"})
            )
            report.values_rewrapped += 1
    return report
