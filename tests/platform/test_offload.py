"""CPU-heavy requests do not stall the others: the PDF render of a contract being sent and the
decode/re-encode of a 16-megapixel avatar run off the event loop, so `/health` is answered
while each is in progress.

No timing is asserted (a loaded CI machine would make any bound flaky). Instead the two heavy
functions are wrapped so that each, once entered, waits until the test lets it go: `/health`
is asked while each is held. Were either done on the event loop, the loop itself would be the
thread waiting, `/health` could not be answered, and the held call would give up after
`HOLD_LIMIT` and fail the test (never hang it). The wrappers also record their thread."""

from __future__ import annotations

import asyncio
import functools
import io
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image

from mindlinks.contracts import documents
from mindlinks.platform import uploads
from mindlinks.platform.offload import run_cpu
from tests.contracts.conftest import Party, fixed_template, flow, make_party, party  # noqa: F401

# 15 terms of 2000 characters (the longest term `ContractCreate` accepts): seconds to render.
LONG_TERMS = [(f"Clause {i:02d}. " + "The contractor shall deliver the work. " * 60)[:2000]
              for i in range(15)]
HOLD_LIMIT = 30.0  # seconds a held call waits before it gives up (only if the test is broken)


class Held:
    """Wraps `fn`: records the calling thread, signals it was entered, waits for `release`."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.entered = threading.Event()
        self.release = threading.Event()
        self.threads: list[int] = []
        self.released_in_time = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.threads.append(threading.get_ident())
        self.entered.set()
        self.released_in_time = self.release.wait(HOLD_LIMIT)
        return self.fn(*args, **kwargs)


def _big_png() -> bytes:
    """4000 x 4000 (the avatar limit) of one colour: tens of kilobytes to send, 16 million
    pixels to decode."""
    out = io.BytesIO()
    Image.new("RGB", (4000, 4000), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def _entered(held: Held) -> None:
    while not held.entered.is_set():
        await asyncio.sleep(0.01)


async def test_health_answers_while_a_pdf_renders_and_an_image_decodes(
    client: httpx.AsyncClient, party: Party, fixed_template: dict[str, Any], flow: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract = await flow.create(party, fixed_template["id"], terms=LONG_TERMS)
    png = await asyncio.to_thread(_big_png)
    render = Held(documents.render_for_signature)
    reencode = Held(uploads._reencode_image)
    monkeypatch.setattr(documents, "render_for_signature", render)
    monkeypatch.setattr(uploads, "_reencode_image", reencode)
    send = functools.partial(client.post, f"/api/contracts/{contract['id']}/send",
                             headers=party.client.headers)
    upload = functools.partial(client.post, "/api/contractors/me/avatar",
                               headers=party.contractor.headers,
                               files={"file": ("me.png", png, "image/png")})
    # One at a time: on SQLite both requests want the single writer, so the second would wait
    # for the first (held here) before reaching its heavy call.
    for request, held in ((send, render), (upload, reencode)):
        task = asyncio.create_task(request())
        try:
            await asyncio.wait_for(_entered(held), HOLD_LIMIT)
            # The heavy call is in progress and may not finish yet: the loop must still serve.
            health = await client.get("/health")
            assert health.status_code == 200
            assert not task.done()
        finally:
            held.release.set()
        response = await task
        assert response.status_code == 200, response.text
        assert held.released_in_time
        assert threading.get_ident() not in held.threads


async def test_run_cpu_returns_results_and_raises_errors_as_called() -> None:
    assert await run_cpu(sum, [1, 2, 3]) == 6
    assert await run_cpu(int, "ff", base=16) == 255
    try:
        await run_cpu(int, "not a number")
    except ValueError:
        pass
    else:
        raise AssertionError("the worker's exception must reach the caller")
