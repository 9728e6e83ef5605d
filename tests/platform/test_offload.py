"""CPU-heavy requests do not stall the others: while a contract with the longest terms the API
accepts is rendered to PDF and a 16-megapixel avatar is decoded and re-encoded, `/health`
keeps answering within half a second.

This is the one timed assertion of the suite, on purpose: what it guards is latency. It is
meaningful because the two requests each take seconds of CPU - were either done on the event
loop, it would stall for all of it. Each measure spans a short pause and then a `/health`
request, so a stall anywhere in that span (one that starts while no request is in flight)
counts too; the pause keeps the checker from hogging the interpreter it shares."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import httpx
from PIL import Image

from mindlinks.platform.offload import run_cpu
from tests.contracts.conftest import Party, fixed_template, flow, make_party, party  # noqa: F401

# 15 terms of 2000 characters (the longest term `ContractCreate` accepts): seconds to render.
LONG_TERMS = [(f"Clause {i:02d}. " + "The contractor shall deliver the work. " * 60)[:2000]
              for i in range(15)]
PAUSE = 0.05


def _big_png() -> bytes:
    """4000 x 4000 (the avatar limit) of one colour: tens of kilobytes to send, 16 million
    pixels to decode."""
    out = io.BytesIO()
    Image.new("RGB", (4000, 4000), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


async def test_health_answers_while_a_pdf_renders_and_an_image_decodes(
    client: httpx.AsyncClient, party: Party, fixed_template: dict[str, Any], flow: Any,  # noqa: F811
) -> None:
    contract = await flow.create(party, fixed_template["id"], terms=LONG_TERMS)
    png = _big_png()
    heavy = [
        asyncio.create_task(client.post(f"/api/contracts/{contract['id']}/send",
                                        headers=party.client.headers)),
        asyncio.create_task(client.post("/api/contractors/me/avatar",
                                        headers=party.contractor.headers,
                                        files={"file": ("me.png", png, "image/png")})),
    ]
    latencies: list[float] = []
    while not all(task.done() for task in heavy):
        started = time.perf_counter()
        await asyncio.sleep(PAUSE)
        response = await client.get("/health")
        latencies.append(time.perf_counter() - started - PAUSE)
        assert response.status_code == 200
    sent, avatar = [await task for task in heavy]
    assert sent.status_code == 200, sent.text
    assert avatar.status_code == 200, avatar.text
    assert max(latencies) < 0.5, sorted(latencies)[-5:]
    assert len(latencies) >= 5, latencies  # /health was asked throughout the work


async def test_run_cpu_returns_results_and_raises_errors_as_called() -> None:
    assert await run_cpu(sum, [1, 2, 3]) == 6
    assert await run_cpu(int, "ff", base=16) == 255
    try:
        await run_cpu(int, "not a number")
    except ValueError:
        pass
    else:
        raise AssertionError("the worker's exception must reach the caller")
