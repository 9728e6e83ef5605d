"""The S3 backend against moto's S3 server on loopback (a real HTTP peer, not a mock object).

Moto stores and serves objects and honours presigned query parameters, but it does not check
presigned signatures or expiry, so those 403s are S3's own and are not asserted here; the local
backend's are (test_storage.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer

from mindlinks.platform.errors import ValidationFailed
from mindlinks.platform.storage import (
    S3Storage,
    download_url,
    storage_from_settings,
    store_upload,
)
from mindlinks.platform.uploads import AVATAR, DOCUMENT
from mindlinks.settings import Settings
from tests.platform import samples
from tests.platform.test_uploads import FakeUploadFile

BUCKET = "mindlinks-files-test"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    assert host == "127.0.0.1"
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3", region_name="us-east-1", endpoint_url=endpoint,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(s3={"addressing_style": "path"}),
    ).create_bucket(Bucket=BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture
def s3(moto_endpoint: str, tmp_path: Path) -> S3Storage:
    settings = Settings(
        _env_file=None,
        data_dir=tmp_path,
        storage_backend="s3",
        s3_bucket=BUCKET,
        s3_region="us-east-1",
        s3_endpoint_url=moto_endpoint,
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
        signed_url_ttl_seconds=900,
    )
    storage = storage_from_settings(settings)
    assert isinstance(storage, S3Storage)
    return storage


async def test_upload_then_presigned_download(s3: S3Storage) -> None:
    owner = uuid.uuid4()
    stored = await store_upload(
        s3, FakeUploadFile(samples.MINIMAL_PDF, "../w9\x00.pdf"), purpose=DOCUMENT,
        key_prefix=("contractors", owner, "tax"), filename="../w9\x00.pdf",
    )
    assert stored.key.startswith(f"contractors/{owner}/tax/") and stored.key.endswith(".pdf")
    assert stored.original_name == "w9.pdf"
    assert await s3.exists(stored.key)

    head = s3.client.head_object(Bucket=BUCKET, Key=stored.key)
    assert head["ContentType"] == "application/pdf"
    assert head["ContentDisposition"] == "attachment"

    url, expires_at = await download_url(s3, stored.key, filename=stored.original_name)
    assert abs((expires_at - datetime.now(UTC)).total_seconds() - 900) < 5
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["900"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "X-Amz-Signature" in query
    assert query["response-content-disposition"][0].startswith("attachment;")

    async with httpx.AsyncClient() as client:
        response = await client.get(url)
    assert response.status_code == 200
    assert response.content == samples.MINIMAL_PDF
    assert response.headers["content-disposition"].startswith("attachment;")
    assert 'filename="w9.pdf"' in response.headers["content-disposition"]
    assert response.headers["content-type"] == "application/pdf"


async def test_avatar_on_s3_is_the_reencoded_image(s3: S3Storage) -> None:
    original = samples.png(1024, 700)
    stored = await store_upload(
        s3, FakeUploadFile(original, "me.png"), purpose=AVATAR,
        key_prefix=("contractors", uuid.uuid4(), "avatar"), filename="me.png",
    )
    data = await s3.get(stored.key)
    assert data != original and data[8:12] == b"WEBP"
    assert stored.size == len(data)


async def test_refused_upload_writes_nothing_to_the_bucket(s3: S3Storage) -> None:
    prefix = f"contractors/{uuid.uuid4()}"
    with pytest.raises(ValidationFailed):
        await store_upload(
            s3, FakeUploadFile(samples.SVG_WITH_SCRIPT, "x.pdf"), purpose=DOCUMENT,
            key_prefix=(prefix,), filename="x.pdf",
        )
    listing = s3.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    assert listing.get("KeyCount", 0) == 0


async def test_delete(s3: S3Storage) -> None:
    stored = await store_upload(
        s3, FakeUploadFile(samples.MINIMAL_PDF, "a.pdf"), purpose=DOCUMENT,
        key_prefix=("t",), filename="a.pdf",
    )
    await s3.delete(stored.key)
    assert not await s3.exists(stored.key)


def test_s3_without_bucket_is_a_configuration_problem() -> None:
    from mindlinks.platform.storage import configuration_problems

    settings = Settings(_env_file=None, storage_backend="s3")
    assert any("S3_BUCKET" in p for p in configuration_problems(settings))
    assert configuration_problems(Settings(_env_file=None)) == []
