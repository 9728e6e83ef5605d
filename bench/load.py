"""A small HTTP/1.1 keep-alive load generator on raw asyncio streams (wrk is used instead
when it is installed: Debian package `wrk`). Bounded in time; loopback only."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


async def _connection(host: str, port: int, request: bytes, deadline: float,
                      latencies: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            match = re.search(rb"(?i)content-length: *(\d+)", head)
            if match:
                await reader.readexactly(int(match.group(1)))
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


async def _run(host: str, port: int, path: str, headers: dict[str, str], seconds: float,
               connections: int) -> LoadResult:
    lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []
    errors: list[int] = []
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(
        _connection(host, port, request, deadline, latencies, errors) for _ in range(connections)
    ))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        requests=len(latencies), seconds=elapsed,
        p50_ms=statistics.median(latencies) * 1000,
        p99_ms=latencies[int(len(latencies) * 0.99) - 1] * 1000,
        errors=len(errors),
    )


def _wrk(host: str, port: int, path: str, headers: dict[str, str], seconds: float,
         connections: int) -> LoadResult:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency"]
    for k, v in headers.items():
        args += ["-H", f"{k}: {v}"]
    out = subprocess.run([*args, f"http://{host}:{port}{path}"], capture_output=True, text=True,
                         check=True, timeout=seconds + 30).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return LoadResult(total, seconds, ms("50%"), ms("99%"), int(non2xx.group(1)) if non2xx else 0)


def client_name() -> str:
    """The load client `measure` uses: wrk when installed (and not overridden with
    MINDLINKS_BENCH_CLIENT=python), the Python client otherwise."""
    if os.environ.get("MINDLINKS_BENCH_CLIENT") != "python" and shutil.which("wrk"):
        return "wrk (1 thread)"
    return "python asyncio client (bench/load.py)"


def measure(host: str, port: int, path: str, headers: dict[str, str] | None = None,
            seconds: float = 5.0, connections: int = 16) -> LoadResult:
    headers = headers or {}
    if client_name().startswith("wrk"):
        return _wrk(host, port, path, headers, seconds, connections)
    return asyncio.run(_run(host, port, path, headers, seconds, connections))
