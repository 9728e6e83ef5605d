"""The request path against its floors, measured as shipped (issue 11).

- Target: the platform started with `mindlinks serve` (default log level, dispatcher on).
- Floor: a bare FastAPI app served by its own `uvicorn.run` with the same options
  (`bench/floor_server.py`), in its own process.
- Each pair alternates floor / target, RUNS times each; medians are reported, with the ratio of
  throughputs and the server's CPU time per request (user + system, from /proc).
- Load client: wrk when installed (Debian package `wrk`), the Python client of `bench/load.py`
  otherwise; the output names it.

Pairs: `/health` and `GET /api/auth/me` against the bare endpoint (goals 0.8 and 0.4);
`/api/auth/me`, `/api/contracts/contractor/me` and `/api/notifications/me` against the same
reads in raw SQL + orjson (goal 0.5 for the lists).

Environment:
  MINDLINKS_BENCH_DATABASE_URL   a PostgreSQL URL (its `public` schema is DROPPED and
                                 recreated); default: a temporary SQLite file
  MINDLINKS_BENCH_SECONDS        seconds per run (default 5)
  MINDLINKS_BENCH_RUNS           runs per side (default 3)
  MINDLINKS_BENCH_CONNECTIONS    concurrent connections (default 16)
  MINDLINKS_BENCH_ONLY           comma-separated substrings of pair names to run
  MINDLINKS_BENCH_TARGET_ENV     space-separated NAME=VALUE settings for the platform only,
                                 to measure a variant (`MINDLINKS_ACCESS_LOG_SAMPLE_RATE=0`)
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.load import LoadResult, client_name, measure

SECONDS = float(os.environ.get("MINDLINKS_BENCH_SECONDS", "5"))
RUNS = int(os.environ.get("MINDLINKS_BENCH_RUNS", "3"))
CONNECTIONS = int(os.environ.get("MINDLINKS_BENCH_CONNECTIONS", "16"))
ONLY = [s for s in os.environ.get("MINDLINKS_BENCH_ONLY", "").split(",") if s]

# (name, floor path, platform path, goal)
PAIRS = [
    ("health", "/bare", "/health", 0.8),
    ("me/bare", "/bare", "/api/auth/me", 0.4),
    ("me/raw-sql", "/floor/me", "/api/auth/me", None),
    ("contracts/raw-sql", "/floor/contracts", "/api/contracts/contractor/me", 0.5),
    ("notifications/raw-sql", "/floor/notifications", "/api/notifications/me", 0.5),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:  # loopback only
        return json.loads(resp.read())


def _wait(url: str, proc: subprocess.Popen) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise SystemExit(f"server exited early ({url})")
        try:
            urllib.request.urlopen(url, timeout=1)  # loopback only
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    load: LoadResult
    cpu_us: float  # server CPU per request


def _run(pid: int, port: int, path: str, headers: dict[str, str]) -> Sample:
    before = _cpu_seconds(pid)
    load = measure("127.0.0.1", port, path, headers, SECONDS, CONNECTIONS)
    cpu = _cpu_seconds(pid) - before
    if load.errors:
        raise SystemExit(f"{load.errors} errors on {path}")
    return Sample(load, cpu / max(load.requests, 1) * 1e6)


def _median(samples: list[Sample]) -> tuple[float, float, float]:
    return (statistics.median(s.load.rps for s in samples),
            statistics.median(s.load.p99_ms for s in samples),
            statistics.median(s.cpu_us for s in samples))


async def _reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


def _claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def main() -> None:
    pg_url = os.environ.get("MINDLINKS_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("MINDLINKS_") or k.startswith("MINDLINKS_BENCH")}
        env["MINDLINKS_DATA_DIR"] = str(Path(tmp) / "var")
        env["MINDLINKS_DATABASE_URL"] = pg_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        variant = dict(item.split("=", 1) for item in
                       os.environ.get("MINDLINKS_BENCH_TARGET_ENV", "").split())
        if pg_url:
            asyncio.run(_reset_postgres(pg_url))
        subprocess.run([sys.executable, "-m", "mindlinks.cli", "migrate"], env=env, check=True,
                       capture_output=True)
        port, floor_port = _free_port(), _free_port()
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-m", "mindlinks.cli", "serve", "--port", str(port)],
            env={**env, **variant}, stdout=log, stderr=log,
        )
        floor = None
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base + "/health", server)
            user = _post(base + "/api/auth/register", {
                "email": "bench@example.com", "password": "correct horse battery staple",
                "role": "contractor", "name": "Bench"})
            claims = _claims(user["accessToken"])
            headers = {"Authorization": f"Bearer {user['accessToken']}"}
            floor_env = {**env, "MINDLINKS_BENCH_FLOOR_PORT": str(floor_port),
                         "MINDLINKS_BENCH_FLOOR_DB": env["MINDLINKS_DATABASE_URL"],
                         "MINDLINKS_BENCH_FLOOR_USER": claims["sub"],
                         "MINDLINKS_BENCH_FLOOR_CONTRACTOR": claims["contractorId"]}
            floor = subprocess.Popen([sys.executable, "-m", "bench.floor_server"],
                                     env=floor_env, stdout=log, stderr=log)
            _wait(f"http://127.0.0.1:{floor_port}/bare", floor)
            settings = " ".join(f"{k}={v}" for k, v in variant.items())
            print(f"load client: {client_name()}, {CONNECTIONS} connections, {SECONDS:g} s "
                  f"x {RUNS} runs per side, alternated; database: "
                  f"{'postgresql' if pg_url else 'sqlite'}"
                  f"{'; platform variant: ' + settings if variant else ''}", flush=True)
            print(f"{'pair':<22} {'floor req/s':>11} {'target req/s':>12} {'ratio':>6} "
                  f"{'goal':>5} {'p99 floor':>9} {'p99 target':>10} {'cpu µs floor':>12} "
                  f"{'cpu µs target':>13}", flush=True)
            for name, floor_path, target_path, goal in PAIRS:
                if ONLY and not any(o in name for o in ONLY):
                    continue
                # Warm-up: first-use costs (imports, statement caches, pool) stay out.
                measure("127.0.0.1", floor_port, floor_path, {}, 1, CONNECTIONS)
                measure("127.0.0.1", port, target_path, headers, 1, CONNECTIONS)
                floors: list[Sample] = []
                targets: list[Sample] = []
                for _ in range(RUNS):
                    floors.append(_run(floor.pid, floor_port, floor_path, {}))
                    targets.append(_run(server.pid, port, target_path, headers))
                f_rps, f_p99, f_cpu = _median(floors)
                t_rps, t_p99, t_cpu = _median(targets)
                print(f"{name:<22} {f_rps:11.0f} {t_rps:12.0f} {t_rps / f_rps:6.2f} "
                      f"{goal if goal else '':>5} {f_p99:7.2f}ms {t_p99:8.2f}ms "
                      f"{f_cpu:12.0f} {t_cpu:13.0f}", flush=True)
        finally:
            for proc in (server, floor):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    main()
