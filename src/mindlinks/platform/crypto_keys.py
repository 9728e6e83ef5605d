"""Master keys (KEKs) of field encryption: where they come from, wrapping and unwrapping.

`MINDLINKS_ENCRYPTION_KEYS` holds `kid:base64(32 bytes)` entries, newest first; without it a key
is generated into `<data_dir>/keys/encryption.keys` (mode 0600), which production refuses
(`production_problems`). The process's key ring is set once at start-up (`configure`).
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mindlinks.platform.db import utcnow
from mindlinks.settings import Settings

_KID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """A ciphertext that does not open: tampered, moved to another row, or an unknown key."""


class DataKeyDestroyed(DecryptionFailed):
    """The subject's data key was destroyed (erasure): the value is gone for good."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse_master_key(entry: str) -> tuple[str, bytes]:
    kid, sep, encoded = entry.strip().partition(":")
    if not sep or not _KID.match(kid):
        raise ValueError("an encryption key is 'kid:base64key' with kid of [A-Za-z0-9_-]{1,32}")
    try:
        standard = encoded.replace("-", "+").replace("_", "/")
        key = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except ValueError as exc:
        raise ValueError(f"encryption key {kid!r} is not valid base64") from exc
    if len(key) != 32:
        raise ValueError(f"encryption key {kid!r} must be 32 bytes (AES-256), not {len(key)}")
    return kid, key


def generate_master_key() -> str:
    """A new `kid:base64key` entry, for MINDLINKS_ENCRYPTION_KEYS or the development key file."""
    kid = f"k{utcnow():%Y%m%d}{secrets.token_hex(3)}"
    return f"{kid}:{base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()}"


@dataclass
class KeyRing:
    """Master keys by kid; `current` (the first) wraps everything new."""

    keys: dict[str, bytes]
    current: str
    generated: bool = False
    source: Path | None = None

    @classmethod
    def from_entries(cls, entries: list[str], *, generated: bool = False,
                     source: Path | None = None) -> KeyRing:
        if not entries:
            raise ValueError("no encryption keys")
        keys: dict[str, bytes] = {}
        for entry in entries:
            kid, key = parse_master_key(entry)
            if kid in keys:
                raise ValueError(f"encryption key id {kid!r} appears twice")
            keys[kid] = key
        return cls(keys, next(iter(keys)), generated=generated, source=source)

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        if settings.encryption_keys:
            return cls.from_entries(settings.encryption_keys)
        path = dev_key_file(settings)
        if not path.exists():
            _write_private(path, generate_master_key() + "\n")
        entries = [line for line in path.read_text().splitlines() if line.strip()]
        return cls.from_entries(entries, generated=True, source=path)

    def wrap(self, dek: bytes, aad: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        return self.current, nonce + AESGCM(self.keys[self.current]).encrypt(nonce, dek, aad)

    def unwrap(self, kid: str, wrapped: bytes, aad: bytes) -> bytes:
        key = self.keys.get(kid)
        if key is None:
            raise DecryptionFailed(f"master key {kid!r} is not configured")
        try:
            return AESGCM(key).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except InvalidTag as exc:
            raise DecryptionFailed("data key does not unwrap") from exc


def dev_key_file(settings: Settings) -> Path:
    return settings.keys_dir / "encryption.keys"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def add_dev_master_key(settings: Settings) -> str:
    """Put a new generated key first in the development key file; returns its kid."""
    if settings.encryption_keys:
        raise RuntimeError("keys come from MINDLINKS_ENCRYPTION_KEYS; add the new one there")
    path = dev_key_file(settings)
    existing = path.read_text() if path.exists() else ""
    entry = generate_master_key()
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    _write_private(tmp, entry + "\n" + existing)
    os.replace(tmp, path)
    return entry.partition(":")[0]


def production_problems(settings: Settings) -> list[str]:
    """What makes the encryption configuration unfit for production (empty when fit)."""
    if not settings.encryption_keys:
        return ["MINDLINKS_ENCRYPTION_KEYS is not set (a generated development key would be used)"]
    try:
        KeyRing.from_entries(settings.encryption_keys)
    except ValueError as exc:
        return [f"MINDLINKS_ENCRYPTION_KEYS: {exc}"]
    return []


_keyring: KeyRing | None = None


def configure(settings: Settings) -> KeyRing:
    """Load the master keys for this process (the app's start-up and the CLI call this)."""
    global _keyring
    _keyring = KeyRing.from_settings(settings)
    return _keyring


def use_keyring(keyring: KeyRing | None) -> None:
    global _keyring
    _keyring = keyring


def current_keyring() -> KeyRing:
    if _keyring is None:
        raise RuntimeError("field encryption is not configured: call crypto.configure(settings)")
    return _keyring
