"""The company logo on the pages: uploaded on the company page through `clients.set_logo` (the
API's function: sniffed JPEG/PNG/WebP, 5 MiB, 16 megapixels, re-encoded off the event loop into
a 512 px WebP fitted uncropped), served from this origin to its own client only, shown on the
company page and in the client's home header. A refused image changes nothing; the form needs
the CSRF token; the re-encoding runs off the loop (held there, `/health` still answers)."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from mindlinks.clients.models import ClientCompany
from mindlinks.platform import uploads
from tests.clients.conftest import verified_company
from tests.platform.samples import MINIMAL_PDF, png, png_header_only
from tests.platform.test_offload import HOLD_LIMIT, Held, _entered
from tests.web.conftest import csrf_of
from tests.web.money import signed_in

pytestmark = pytest.mark.usefixtures("db_backend")
PAGE, LOGO = "/account/company", "/account/company/logo"


async def _logo_key(app: Any) -> str | None:
    async with app.state.db.session() as session:
        return await session.scalar(select(ClientCompany.logo_key))


async def _upload(c: httpx.AsyncClient, content: bytes, name: str = "logo.png",
                  token: str | None = None) -> httpx.Response:
    if token is None:
        token = csrf_of(await c.get(PAGE))
    return await c.post(LOGO, data={"csrf_token": token},
                        files={"logo": (name, content, "image/png")})


async def test_upload_show_and_replace_the_logo(app: Any, make_client: Any):
    account, _ = await make_client(verified_company())
    async with signed_in(app, account.email) as c:
        page = await c.get(PAGE)
        assert "No logo yet." in page.text and 'enctype="multipart/form-data"' in page.text
        assert (await c.get(LOGO)).status_code == 404  # nothing uploaded yet
        wide = png(1200, 300)  # a wordmark: kept whole, fitted into the square
        done = await _upload(c, wide)
        assert done.status_code == 303 and done.headers["location"] == f"{PAGE}?done=logo"
        first = await _logo_key(app)
        assert first is not None and first.endswith(".webp")
        version = first.rpartition("/")[2].partition(".")[0]

        shown = await c.get(done.headers["location"])
        assert f'src="{LOGO}?v={version}"' in shown.text and "Logo saved." in shown.text
        home = await c.get("/")
        assert f'src="{LOGO}?v={version}"' in home.text and "company-header" in home.text
        served = await c.get(f"{LOGO}?v={version}")
        assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
        assert served.headers["cache-control"].startswith("private")
        image = Image.open(io.BytesIO(served.content))
        assert image.format == "WEBP" and image.size == (512, 512)
        # Not cropped: the wordmark's ends are there and the bands above and below are clear.
        rgba = image.convert("RGBA")
        assert rgba.getpixel((2, 256))[3] == 255 and rgba.getpixel((256, 10))[3] == 0

        replaced = await _upload(c, png(64, 64))
        assert replaced.status_code == 303
        second = await _logo_key(app)
        assert second != first
    # The previous file is deleted once the new key is committed.
    from mindlinks.platform.storage import get_storage

    storage = get_storage(app.state)
    assert not await storage.exists(first) and await storage.exists(second)  # type: ignore[arg-type]


async def test_a_refused_image_changes_nothing(app: Any, make_client: Any):
    account, _ = await make_client(verified_company())
    async with signed_in(app, account.email) as c:
        assert (await _upload(c, png())).status_code == 303
        before = await _logo_key(app)
        for content, status, text in (
                (MINIMAL_PDF, 422, "must be one of"),  # a document, not an image
                (png_header_only(5000, 5000), 422, "pixels"),
                (b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024), 413, "larger than")):
            refused = await _upload(c, content)
            assert refused.status_code == status, refused.text[:300]
            assert "alert error" in refused.text and text in refused.text
        no_file = await c.post(LOGO, data={"csrf_token": csrf_of(await c.get(PAGE))})
        assert no_file.status_code == 422
    assert await _logo_key(app) == before


async def test_the_logo_form_needs_the_csrf_token_and_the_logo_is_the_clients_own(
    app: Any, make_client: Any, contractor: Any,
):
    account, _ = await make_client(verified_company())
    other, _ = await make_client(name="Ada Byron")
    async with signed_in(app, account.email) as c:
        for token in (None, "a.b"):
            data = {} if token is None else {"csrf_token": token}
            refused = await c.post(LOGO, data=data, files={"logo": ("l.png", png(), "image/png")})
            assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        assert await _logo_key(app) is None
        assert (await _upload(c, png())).status_code == 303
    # Another client (without a company) and a contractor never get this company's logo.
    async with signed_in(app, other.email) as c:
        assert (await c.get(LOGO)).status_code == 404
        assert "company-header" not in (await c.get("/")).text
    async with signed_in(app, contractor.email) as c:
        assert (await c.get(LOGO)).status_code == 404


async def held_off_the_loop(client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch,
                            send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """As tests/platform/test_offload.py: the re-encoding is held once entered; `/health`
    must still be answered, which it could not be if the loop itself were held. Returns the
    upload's answer (the avatar's test uses it too)."""
    held = Held(uploads._reencode_image)
    monkeypatch.setattr(uploads, "_reencode_image", held)
    task = asyncio.create_task(send())
    try:
        await asyncio.wait_for(_entered(held), HOLD_LIMIT)
        assert (await client.get("/health")).status_code == 200
        assert not task.done()
    finally:
        held.release.set()
    response = await task
    assert held.released_in_time and threading.get_ident() not in held.threads
    return response


async def test_the_logo_is_re_encoded_off_the_event_loop(
    app: Any, client: httpx.AsyncClient, make_client: Any, monkeypatch: pytest.MonkeyPatch,
):
    account, _ = await make_client(verified_company())
    async with signed_in(app, account.email) as c:
        token = csrf_of(await c.get(PAGE))
        response = await held_off_the_loop(
            client, monkeypatch, lambda: _upload(c, png(2000, 2000), token=token))
    assert response.status_code == 303, response.text[:300]
