"""RELIABILITY 34: signed download URLs of the local backend, through the real app."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import Conflict
from mindlinks.platform.storage import (
    LocalStorage,
    StoredFile,
    download_url,
    get_storage,
    new_key,
    store_upload,
    validate_key,
)
from mindlinks.platform.uploads import DOCUMENT
from tests.platform import samples
from tests.platform.test_uploads import FakeUploadFile


class ProbeConflict(Conflict):
    code = "probe_conflict"


def _local(app: Any) -> LocalStorage:
    storage = get_storage(app.state)
    assert isinstance(storage, LocalStorage)
    return storage


async def _stored_pdf(app: Any, name: str = "W-9 form.pdf") -> StoredFile:
    return await store_upload(
        _local(app), FakeUploadFile(samples.MINIMAL_PDF, name), purpose=DOCUMENT,
        key_prefix=("contractors", uuid.uuid4(), "tax"), filename=name,
    )


def _path(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.path}?{urlencode(query)}"


def _assert_denied(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_url_signature"


async def test_valid_url_downloads_as_attachment_with_nosniff(
    app: Any, client: httpx.AsyncClient
) -> None:
    stored = await _stored_pdf(app)
    storage = _local(app)
    issued = 1_900_000_000
    storage.signer.clock = lambda: issued
    url, expires_at = await download_url(storage, stored.key, filename=stored.original_name)
    assert url.startswith(app.state.settings.resolved_public_url + "/files/contractors/")
    # Default lifetime: one hour, and the URL works until then only.
    assert expires_at == datetime.fromtimestamp(issued + 3600, UTC)
    storage.signer.clock = lambda: issued + 3600
    _assert_denied(await client.get(_path(url)))
    storage.signer.clock = lambda: issued + 3599

    response = await client.get(_path(url))
    assert response.status_code == 200
    assert response.content == samples.MINIMAL_PDF
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert 'filename="W-9 form.pdf"' in response.headers["content-disposition"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, no-store"


async def test_expired_url_is_403(app: Any, client: httpx.AsyncClient) -> None:
    stored = await _stored_pdf(app)
    storage = _local(app)
    past = int(time.time()) - 1
    expired = storage.sign_url(stored.key, filename=None, exp=past)
    _assert_denied(await client.get(_path(expired)))
    # The same key with a live expiry works: it is the expiry that failed.
    live = storage.sign_url(stored.key, filename=None, exp=int(time.time()) + 60)
    assert (await client.get(_path(live))).status_code == 200


async def test_short_ttl_url_expires(app: Any, client: httpx.AsyncClient) -> None:
    stored = await _stored_pdf(app)
    storage = _local(app)
    url, expires_at = await download_url(storage, stored.key, ttl_seconds=30)
    assert (await client.get(_path(url))).status_code == 200
    storage.signer.clock = lambda: expires_at.timestamp() + 1
    _assert_denied(await client.get(_path(url)))


async def test_tampered_signature_is_403(app: Any, client: httpx.AsyncClient) -> None:
    stored = await _stored_pdf(app)
    url, _ = await download_url(_local(app), stored.key)
    sig = parse_qs(urlsplit(url).query)["sig"][0]
    flipped = ("A" if sig[0] != "A" else "B") + sig[1:]
    _assert_denied(await client.get(_with(url, sig=flipped)))
    _assert_denied(await client.get(_with(url, sig="")))
    _assert_denied(await client.get(urlsplit(url).path))  # no query at all


async def test_tampered_expiry_or_name_is_403(app: Any, client: httpx.AsyncClient) -> None:
    stored = await _stored_pdf(app)
    url, _ = await download_url(_local(app), stored.key, filename="w9.pdf")
    exp = parse_qs(urlsplit(url).query)["exp"][0]
    _assert_denied(await client.get(_with(url, exp=str(int(exp) + 3600))))
    _assert_denied(await client.get(_with(url, name="w9.html")))


async def test_signature_for_one_key_does_not_open_another(
    app: Any, client: httpx.AsyncClient
) -> None:
    mine = await _stored_pdf(app)
    theirs = await _stored_pdf(app)
    url, _ = await download_url(_local(app), mine.key)
    query = urlsplit(url).query
    _assert_denied(await client.get(f"/files/{theirs.key}?{query}"))
    assert (await client.get(_path(url))).status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "HEAD"])
async def test_signed_get_url_used_with_another_method_is_403(
    app: Any, client: httpx.AsyncClient, method: str
) -> None:
    stored = await _stored_pdf(app)
    url, _ = await download_url(_local(app), stored.key)
    response = await client.request(method, _path(url))
    assert response.status_code == 403
    # And the file is still there.
    assert await _local(app).exists(stored.key)


async def test_valid_signature_for_a_missing_file_is_404(
    app: Any, client: httpx.AsyncClient
) -> None:
    key = new_key("contractors", uuid.uuid4(), "tax", extension=".pdf")
    url, _ = await download_url(_local(app), key)
    response = await client.get(_path(url))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "key", ["../../etc/passwd", "a/../../etc/passwd", "a//b", "./a", "a/.", "a\\b", "a b"]
)
def test_traversal_keys_are_invalid(key: str) -> None:
    with pytest.raises(ValueError):
        validate_key(key)


async def test_traversal_in_the_url_is_refused(app: Any, client: httpx.AsyncClient) -> None:
    storage = _local(app)
    secret = storage.root.parent / "secret.txt"
    secret.write_text("do not serve")
    exp = int(time.time()) + 60
    sig = storage.signer.signature("GET", "../secret.txt", exp, "")
    for path in ("/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/..%2fsecret.txt"):
        response = await client.get(path, params={"exp": exp, "sig": sig})
        assert response.status_code in (403, 404)
        assert b"do not serve" not in response.content


_LOGGING_SCRIPT = """
import asyncio, sys, uuid
import httpx
from mindlinks.app import create_app
from mindlinks.platform.storage import download_url, get_storage, store_upload
from mindlinks.platform.uploads import DOCUMENT
from tests.platform import samples
from tests.platform.test_uploads import FakeUploadFile

async def main():
    app = create_app()
    storage = get_storage(app.state)
    stored = await store_upload(storage, FakeUploadFile(samples.MINIMAL_PDF, "w9.pdf"),
                                purpose=DOCUMENT, key_prefix=("c", uuid.uuid4()), filename="w9.pdf")
    url, _ = await download_url(storage, stored.key, filename="w9.pdf")
    path = url.split("://", 1)[1].split("/", 1)[1]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://t") as client:
        ok = await client.get("/" + path)
        denied = await client.get("/" + path.replace("exp=", "exp=1"))
    print("SIG=" + path.split("sig=")[1], file=sys.__stdout__)
    print("STATUS", ok.status_code, denied.status_code, file=sys.__stdout__)

asyncio.run(main())
"""


def test_signature_never_reaches_the_logs(tmp_path: Path) -> None:
    # A process of its own, so that everything the app logs goes to a stream we read whole.
    env = {
        **os.environ,
        "MINDLINKS_DATA_DIR": str(tmp_path),
        "MINDLINKS_LOG_JSON": "true",
        "MINDLINKS_LOG_LEVEL": "DEBUG",
        "MINDLINKS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", _LOGGING_SCRIPT], env=env, capture_output=True, text=True,
        timeout=120, cwd=Path(__file__).parents[2], check=True,
    )
    lines = done.stdout.splitlines()
    sig = next(line for line in lines if line.startswith("SIG="))[4:]
    assert "STATUS 200 403" in lines
    other = [line for line in lines if not line.startswith(("SIG=", "STATUS"))]
    logs = done.stderr + "\n".join(other)
    assert logs.count("/files/{key}") >= 2  # the access log ran, for both requests
    assert '"/files/c/' not in logs  # by route template: not even the key is logged
    assert "access_denied" in logs
    assert len(sig) >= 40 and sig not in logs
    assert "sig=" not in logs


async def test_links_use_the_configured_ttl(app: Any) -> None:
    storage = _local(app)
    storage.default_ttl = 120
    storage.signer.clock = lambda: 1_900_000_000
    stored = await _stored_pdf(app)
    _, expires_at = await download_url(storage, stored.key)
    assert expires_at == datetime.fromtimestamp(1_900_000_000 + 120, UTC)


async def test_files_route_serves_nothing_when_storage_is_s3(
    app: Any, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = _local(app)
    stored = await _stored_pdf(app)
    url, _ = await download_url(local, stored.key)
    monkeypatch.setattr(app.state, "storage", object())  # any non-local backend
    assert (await client.get(_path(url))).status_code == 404


async def test_a_file_stored_in_a_transaction_that_rolls_back_is_deleted(app: Any) -> None:
    from mindlinks.platform.db import commit, rollback

    storage = _local(app)

    async def store(session: Any) -> StoredFile:
        return await store_upload(storage, FakeUploadFile(samples.MINIMAL_PDF, "a.pdf"),
                                  purpose=DOCUMENT, key_prefix=("t", uuid.uuid4()),
                                  filename="a.pdf", session=session)

    async with app.state.db.sessionmaker() as session:
        kept = await store(session)
        await commit(session)
    async with app.state.db.sessionmaker() as session:
        lost = await store(session)
        assert await storage.exists(lost.key)  # written at once, taken back on rollback
        await rollback(session)
    assert await storage.exists(kept.key)
    assert not await storage.exists(lost.key)


async def test_a_request_that_fails_after_storing_leaves_no_file(app: Any,
                                                                 client: httpx.AsyncClient) -> None:
    """Through the request transaction: the endpoint stores a file, then fails."""
    storage = _local(app)
    keys: list[str] = []
    probe = domain_router()

    @probe.post("/_probe/store-then-fail")
    async def store_then_fail(session: SessionDep) -> dict[str, str]:
        stored = await store_upload(storage, FakeUploadFile(samples.MINIMAL_PDF, "a.pdf"),
                                    purpose=DOCUMENT, key_prefix=("t", uuid.uuid4()),
                                    filename="a.pdf", session=session)
        keys.append(stored.key)
        raise ProbeConflict("the write after the upload failed")

    app.include_router(probe)
    response = await client.post("/_probe/store-then-fail")
    assert response.status_code == 409 and keys
    assert not await storage.exists(keys[0])
