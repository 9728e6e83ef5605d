"""File storage behind one interface: a local directory (default) or S3.

- Keys are made by the caller from the file's purpose (`new_key("contractors", id, "tax")` ->
  `contractors/<id>/tax/<uuid>.pdf`); a user's file name never becomes part of a key.
- Downloads are expiring signed URLs and nothing else: the local backend signs
  `GET /files/{key}?exp=...&sig=...` with HMAC-SHA256 over method, key, expiry and download
  name (served by `platform/files_router.py`); S3 returns a presigned GET URL.
- `store_upload` is the one way user bytes get in: `platform/uploads.validate_upload` first.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import re
import secrets
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple, Protocol, runtime_checkable
from urllib.parse import quote, urlencode

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.platform.api import ResponseModel
from mindlinks.platform.db import on_rollback
from mindlinks.platform.uploads import (
    MIME_BY_EXTENSION,
    AsyncReadable,
    UploadPurpose,
    validate_upload,
)
from mindlinks.settings import Settings

_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")


class InvalidKey(ValueError):
    pass


def validate_key(key: str) -> str:
    """Refuse anything but `segment/segment/...` of `[A-Za-z0-9._-]` (no `..`, no empty parts)."""
    parts = key.split("/")
    if len(key) > 512 or not all(_KEY_SEGMENT.match(p) and p not in (".", "..") for p in parts):
        raise InvalidKey("invalid storage key")
    return key


def new_key(*parts: str | uuid.UUID, extension: str = "") -> str:
    """`new_key("contractors", cid, "tax", extension=".pdf")` -> `contractors/<cid>/tax/<uuid>.pdf`.

    The parts name the purpose; the last part is always a fresh UUID.
    """
    return validate_key("/".join([*map(str, parts), uuid.uuid4().hex + extension]))


@dataclass(frozen=True)
class StoredFile:
    key: str
    sha256: str
    size: int
    mime: str
    original_name: str


class DownloadLink(NamedTuple):
    download_url: str
    expires_at: datetime


class DownloadLinkOut(ResponseModel):
    """The `{downloadUrl, expiresAt}` pair of the seed's download responses."""

    download_url: str
    expires_at: datetime


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the RFC 5987 UTF-8 name."""
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@runtime_checkable
class StorageBackend(Protocol):
    async def put(self, key: str, content: IO[bytes], *, mime: str) -> None: ...

    async def get(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...

    async def keys_older_than(self, cutoff: datetime) -> list[str]:
        """Every stored key last written before `cutoff` (for the orphan sweep)."""
        ...

    async def download_link(
        self, key: str, *, filename: str | None = None, ttl_seconds: int | None = None
    ) -> DownloadLink: ...


# --- local directory --------------------------------------------------------------------


class UrlSigner:
    """HMAC-SHA256 signatures for `/files/{key}` URLs, bound to method, key, expiry and name."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        # The clock URLs are issued and checked by (seconds since the epoch); settable so
        # tests move time instead of sleeping.
        self.clock: Callable[[], float] = time.time

    def signature(self, method: str, key: str, exp: int, name: str) -> str:
        message = "\n".join([method.upper(), key, str(exp), name]).encode()
        mac = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def verify(
        self, method: str, key: str, exp: str | None, name: str, sig: str | None, *,
        now: float | None = None,
    ) -> bool:
        """True only for an unexpired URL whose signature matches all of its parts."""
        if not exp or not sig or not exp.isdigit() or len(exp) > 12:
            return False
        expected = self.signature(method, key, int(exp), name)
        if not hmac.compare_digest(expected.encode(), sig.encode()):
            return False
        return int(exp) > (self.clock() if now is None else now)


def files_signing_key(settings: Settings) -> bytes:
    """A key used only for file URLs: derived from MINDLINKS_SECRET_KEY, else generated once."""
    if settings.secret_key:
        return hmac.new(settings.secret_key.encode(), b"mindlinks/files-url/v1", "sha256").digest()
    path = settings.keys_dir / "files-url.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_hex(32).encode())
    return path.read_bytes().strip()


class LocalStorage:
    """Files under one directory; downloads through signed `/files/...` URLs of this app."""

    def __init__(
        self, root: Path, signer: UrlSigner, *, base_url: str, default_ttl: int = 3600
    ) -> None:
        self.root = root.resolve()
        self.signer = signer
        self.base_url = base_url.rstrip("/")
        self.default_ttl = default_ttl

    def path_of(self, key: str) -> Path:
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise InvalidKey("invalid storage key")
        return path

    async def put(self, key: str, content: IO[bytes], *, mime: str) -> None:
        path = self.path_of(key)

        def _write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
            # Never executable, readable by the service only.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    shutil.copyfileobj(content, fh)
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise

        await asyncio.to_thread(_write)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self.path_of(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path_of(key).unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_of(key).is_file)

    async def keys_older_than(self, cutoff: datetime) -> list[str]:
        def _walk() -> list[str]:
            keys, before = [], cutoff.timestamp()
            for path in self.root.rglob("*"):
                if not path.is_file() or path.stat().st_mtime >= before:
                    continue
                if path.name.endswith(".part"):  # a write that a crash interrupted
                    path.unlink(missing_ok=True)
                    continue
                keys.append(path.relative_to(self.root).as_posix())
            return keys

        return await asyncio.to_thread(_walk)

    def sign_url(self, key: str, *, filename: str | None, exp: int, method: str = "GET") -> str:
        name = filename or ""
        params = {"exp": str(exp), "sig": self.signer.signature(method, key, exp, name)}
        if name:
            params = {"exp": str(exp), "name": name, "sig": params["sig"]}
        return f"{self.base_url}/files/{quote(validate_key(key))}?{urlencode(params)}"

    async def download_link(
        self, key: str, *, filename: str | None = None, ttl_seconds: int | None = None
    ) -> DownloadLink:
        exp = int(self.signer.clock()) + (ttl_seconds or self.default_ttl)
        url = self.sign_url(key, filename=filename, exp=exp)
        return DownloadLink(url, datetime.fromtimestamp(exp, UTC))


# --- S3 ---------------------------------------------------------------------------------


class S3Storage:
    """An S3 bucket (or anything speaking its API); downloads are presigned GET URLs."""

    def __init__(self, client: Any, bucket: str, *, default_ttl: int = 3600) -> None:
        self.client = client
        self.bucket = bucket
        self.default_ttl = default_ttl

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        import boto3
        from botocore.config import Config

        if not settings.s3_bucket:
            raise RuntimeError("MINDLINKS_S3_BUCKET is required for the S3 storage backend")
        client = boto3.client(
            "s3",
            region_name=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"},
                retries={"max_attempts": 3, "mode": "standard"},
            ),
        )
        return cls(client, settings.s3_bucket, default_ttl=settings.signed_url_ttl_seconds)

    async def put(self, key: str, content: IO[bytes], *, mime: str) -> None:
        await asyncio.to_thread(
            self.client.put_object,
            Bucket=self.bucket,
            Key=validate_key(key),
            Body=content.read(),
            ContentType=mime,
            ContentDisposition="attachment",
            ServerSideEncryption="AES256",
        )

    async def get(self, key: str) -> bytes:
        response = await asyncio.to_thread(
            self.client.get_object, Bucket=self.bucket, Key=validate_key(key)
        )
        return await asyncio.to_thread(response["Body"].read)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(
            self.client.delete_object, Bucket=self.bucket, Key=validate_key(key)
        )

    async def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            await asyncio.to_thread(
                self.client.head_object, Bucket=self.bucket, Key=validate_key(key)
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def keys_older_than(self, cutoff: datetime) -> list[str]:
        def _list() -> list[str]:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            return [item["Key"] for page in pages for item in page.get("Contents", [])
                    if item["LastModified"] < cutoff]

        return await asyncio.to_thread(_list)

    async def download_link(
        self, key: str, *, filename: str | None = None, ttl_seconds: int | None = None
    ) -> DownloadLink:
        ttl = ttl_seconds or self.default_ttl
        params = {
            "Bucket": self.bucket,
            "Key": validate_key(key),
            "ResponseContentDisposition": content_disposition(filename or key.rsplit("/")[-1]),
            "ResponseContentType": MIME_BY_EXTENSION.get(
                os.path.splitext(key)[1], "application/octet-stream"
            ),
        }
        # Signing is local computation (no request), but boto3 may load credentials lazily.
        url = await asyncio.to_thread(
            self.client.generate_presigned_url,
            "get_object", Params=params, ExpiresIn=ttl, HttpMethod="GET",
        )
        return DownloadLink(url, datetime.fromtimestamp(int(time.time()) + ttl, UTC))


# --- wiring -----------------------------------------------------------------------------


def storage_from_settings(settings: Settings) -> StorageBackend:
    if settings.storage_backend == "s3":
        return S3Storage.from_settings(settings)
    return LocalStorage(
        settings.files_dir or settings.data_dir / "files",
        UrlSigner(files_signing_key(settings)),
        base_url=settings.resolved_public_url,
        default_ttl=settings.signed_url_ttl_seconds,
    )


def get_storage(app_state: Any) -> StorageBackend:
    """The application's backend (`app.state.storage`), built from its settings on first use."""
    storage: StorageBackend | None = getattr(app_state, "storage", None)
    if storage is None:
        storage = storage_from_settings(app_state.settings)
        app_state.storage = storage
    return storage


def configuration_problems(settings: Settings) -> list[str]:
    """Storage settings that cannot work (in any environment); empty when fine."""
    problems = []
    if settings.storage_backend == "s3" and not settings.s3_bucket:
        problems.append("MINDLINKS_STORAGE_BACKEND=s3 needs MINDLINKS_S3_BUCKET")
    if settings.signed_url_ttl_seconds < 1 or settings.signed_url_ttl_seconds > 7 * 24 * 3600:
        problems.append("MINDLINKS_SIGNED_URL_TTL_SECONDS must be between 1 s and 7 days")
    return problems


async def stored_image(storage: StorageBackend, key: str) -> tuple[bytes, str]:
    """A stored picture's bytes and type (by the extension `store_upload` gave its key), for
    a page to serve from its own origin (an avatar, a company logo)."""
    extension = "." + key.rpartition(".")[2]
    return await storage.get(key), MIME_BY_EXTENSION.get(extension, "application/octet-stream")


async def store_upload(
    storage: StorageBackend,
    source: AsyncReadable | Any,
    *,
    purpose: UploadPurpose,
    key_prefix: tuple[str | uuid.UUID, ...],
    filename: str | None,
    session: AsyncSession | None = None,
) -> StoredFile:
    """Validate `source` for `purpose` and store it under a new key below `key_prefix`.

    Raises what `validate_upload` raises; nothing is written unless the file passed. The key's
    extension is the detected type's, never the uploaded name's. With `session`, the file is
    deleted again if that transaction rolls back, so no file outlives its failed write.
    """
    upload = await validate_upload(source, purpose, filename=filename)
    try:
        key = new_key(*key_prefix, extension=upload.extension)
        await put_in_transaction(storage, key, upload.content, mime=upload.mime, session=session)
    finally:
        upload.content.close()
    return StoredFile(key, upload.sha256, upload.size, upload.mime, upload.original_name)


async def put_in_transaction(
    storage: StorageBackend, key: str, content: IO[bytes], *, mime: str,
    session: AsyncSession | None,
) -> None:
    """`storage.put`, taken back (deleted) if `session`'s transaction rolls back."""
    await storage.put(key, content, mime=mime)
    if session is not None:

        async def _delete() -> None:
            await storage.delete(key)

        on_rollback(session, _delete)


async def download_url(
    storage: StorageBackend, key: str, *, filename: str | None = None,
    ttl_seconds: int | None = None,
) -> tuple[str, datetime]:
    """`(downloadUrl, expiresAt)` for `key`: a signed URL that stops working at `expiresAt`."""
    link = await storage.download_link(key, filename=filename, ttl_seconds=ttl_seconds)
    return link.download_url, link.expires_at
