"""`GET /api/auth/me` with a valid token through the whole stack (middleware, JWT RS256
verification, one database round trip for the live-session check) against the floor: a bare
FastAPI JSON endpoint served by the same server process in the same run. Goal: ratio >= 0.8.

Set MINDLINKS_BENCH_DATABASE_URL to measure on PostgreSQL (default: a fresh SQLite file).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.load import LoadResult, measure

SECONDS = float(os.environ.get("MINDLINKS_BENCH_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("MINDLINKS_BENCH_CONNECTIONS", "16"))


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
    for _ in range(300):
        if proc.poll() is not None:
            raise SystemExit("server exited early")
        try:
            urllib.request.urlopen(url, timeout=1)  # loopback only
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def _line(name: str, r: LoadResult) -> str:
    return (f"{name:<22} {r.rps:9.0f} req/s   p50 {r.p50_ms:7.2f} ms   p99 {r.p99_ms:7.2f} ms"
            f"   errors {r.errors}")


def main() -> None:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "MINDLINKS_DATA_DIR": str(Path(tmp) / "var"),
               "MINDLINKS_LOG_LEVEL": "WARNING", "MINDLINKS_DISPATCHER_IN_PROCESS": "false"}
        if os.environ.get("MINDLINKS_BENCH_DATABASE_URL"):
            env["MINDLINKS_DATABASE_URL"] = os.environ["MINDLINKS_BENCH_DATABASE_URL"]
        subprocess.run([sys.executable, "-m", "mindlinks.cli", "migrate"], env=env, check=True,
                       capture_output=True)
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.auth_me_server:create", "--factory",
             "--host", "127.0.0.1", "--port", str(port), "--no-access-log",
             "--log-level", "warning"],
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base + "/health", server)
            user = _post(base + "/api/auth/register", {
                "email": "bench@example.com", "password": "correct horse battery staple",
                "role": "contractor"})
            headers = {"Authorization": f"Bearer {user['accessToken']}"}
            measure("127.0.0.1", port, "/bare", seconds=1, connections=CONNECTIONS)  # warm-up
            measure("127.0.0.1", port, "/api/auth/me", headers, 1, CONNECTIONS)
            floor = measure("127.0.0.1", port, "/bare", seconds=SECONDS, connections=CONNECTIONS)
            full = measure("127.0.0.1", port, "/api/auth/me", headers, SECONDS, CONNECTIONS)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(_line("bare endpoint (floor)", floor))
    print(_line("GET /api/auth/me", full))
    print(f"ratio {full.rps / floor.rps:.2f} (goal >= 0.80)")
    if full.errors or floor.errors:
        raise SystemExit("errors during the run")


if __name__ == "__main__":
    main()
