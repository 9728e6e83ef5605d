"""The contractor home page (`GET /contractor`, seed 000's four widgets, active contracts,
recent activity, onboarding checklist) against its floor, with 10k contractors in the
database (issue 15 §4).

- Data: `bench/web_seed.py` - the schema made by `mindlinks migrate`, then bulk INSERTs: 10k
  contractors with contracts, payment schedules, notifications, wallet accounts, work credits
  and invoice holds (the measured one has more of each), 200 client companies.
- Target: the platform started with `mindlinks serve` (default log level, access log on,
  dispatcher in process), as shipped; the page is fetched with the browser session cookies
  of the measured contractor, who signs in through the web login form before each run.
- Floor: `bench/web_floor.py`, a bare FastAPI app under its own `uvicorn.run` with the same
  options (`cli.uvicorn_options`): the page in one raw SQL statement (aiosqlite / asyncpg), as the
  platform reads it in one, the same template files
  rendered by an identically configured Jinja2 environment; no auth, ORM or middleware.
  Before measuring, the bench checks that floor and target answer the same HTML.
- Floor and target alternate, RUNS times each; medians of req/s, p99 and the server's CPU
  time per request (user + system from /proc). Goals: ratio >= 0.6, p99 <= 25 ms at 64
  connections on PostgreSQL.
- Load client: wrk when installed (Debian package `wrk`), the Python client of
  `bench/load.py` otherwise; the output names it.

Environment:
  MINDLINKS_BENCH_DATABASE_URL     a PostgreSQL URL (its `public` schema is DROPPED and
                                   recreated); default: a temporary SQLite file
  MINDLINKS_BENCH_CONTRACTORS      contractors in the database (default 10000)
  MINDLINKS_BENCH_SECONDS          seconds per run (default 5)
  MINDLINKS_BENCH_RUNS             runs per side (default 3)
  MINDLINKS_BENCH_WEB_CONNECTIONS  concurrent connections (default 64)
  MINDLINKS_BENCH_WEB_QUIET        connections of the closing latency run (default 1)

Reading p99 at 64 connections: the load is closed-loop (each connection sends its next request
when the last one is answered), so a request waits for the ~63 ahead of it and the mean
latency is connections / throughput (Little's law). p99 <= 25 ms at 64 connections therefore
needs >= 2,560 req/s, i.e. <= 0.39 ms of server CPU per page on a free core; the output
prints that bound next to the measured p99, and a last run per side at QUIET connections
gives the latency of a page that does not queue.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.http_bench import Sample, _cpu_seconds, _free_port, _median, _reset_postgres, _wait
from bench.load import client_name, measure
from bench.web_seed import MEASURED_EMAIL, PASSWORD, seed, seeded_counts

CONTRACTORS = int(os.environ.get("MINDLINKS_BENCH_CONTRACTORS", "10000"))
SECONDS = float(os.environ.get("MINDLINKS_BENCH_SECONDS", "5"))
RUNS = int(os.environ.get("MINDLINKS_BENCH_RUNS", "3"))
CONNECTIONS = int(os.environ.get("MINDLINKS_BENCH_WEB_CONNECTIONS", "64"))
QUIET = int(os.environ.get("MINDLINKS_BENCH_WEB_QUIET", "1"))
GOAL_RATIO = 0.6
GOAL_P99_MS = 25.0
TARGET_PATH = "/contractor"
FLOOR_PATH = "/floor/contractor"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_login(base: str) -> dict[str, str]:
    """Sign in through the login form as a browser does; the session cookies it got."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=30).read().decode()  # loopback only
    token = CSRF_FIELD.search(page)
    assert token, "the login page has no CSRF field"
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "email": MEASURED_EMAIL,
                                   "password": PASSWORD}).encode()
    opener.open(base + "/login", data=form, timeout=30).read()  # loopback only
    cookies = {c.name: c.value for c in jar}
    assert "ml_access" in cookies, "the login did not set the session cookie"
    return cookies


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def _get(url: str, headers: dict[str, str]) -> str:
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as resp:  # loopback only
        assert resp.status == 200, resp.status
        return str(resp.read().decode())


def _run(pid: int, port: int, path: str, headers: dict[str, str],
         connections: int = CONNECTIONS) -> Sample:
    before = _cpu_seconds(pid)
    load = measure("127.0.0.1", port, path, headers, SECONDS, connections)
    cpu = _cpu_seconds(pid) - before
    if load.errors:
        raise SystemExit(f"{load.errors} errors on {path}")
    return Sample(load, cpu / max(load.requests, 1) * 1e6)


def main() -> None:
    pg_url = os.environ.get("MINDLINKS_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("MINDLINKS_") or k.startswith("MINDLINKS_BENCH")}
        env["MINDLINKS_DATA_DIR"] = str(Path(tmp) / "var")
        env["MINDLINKS_DATABASE_URL"] = url = pg_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        if pg_url:
            asyncio.run(_reset_postgres(pg_url))
        subprocess.run([sys.executable, "-m", "mindlinks.cli", "migrate"], env=env, check=True,
                       capture_output=True)
        started = time.perf_counter()
        seeded = asyncio.run(seed(url, CONTRACTORS))
        print(f"seeded {seeded_counts(CONTRACTORS)} in {time.perf_counter() - started:.0f} s",
              flush=True)
        port, floor_port = _free_port(), _free_port()
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below
        server = subprocess.Popen(
            [sys.executable, "-m", "mindlinks.cli", "serve", "--port", str(port)],
            env=env, stdout=log, stderr=log)
        floor = None
        try:
            base = f"http://127.0.0.1:{port}"
            _wait(base + "/health", server)
            cookies = web_login(base)
            floor = subprocess.Popen(
                [sys.executable, "-m", "bench.web_floor"], stdout=log, stderr=log,
                env={**env, "MINDLINKS_BENCH_FLOOR_PORT": str(floor_port),
                     "MINDLINKS_BENCH_FLOOR_DB": url,
                     "MINDLINKS_BENCH_FLOOR_USER": str(seeded.user_id),
                     "MINDLINKS_BENCH_FLOOR_CONTRACTOR": str(seeded.contractor_id),
                     "MINDLINKS_BENCH_FLOOR_CSRF": cookies.get("ml_csrf", "")})
            floor_base = f"http://127.0.0.1:{floor_port}"
            _wait(floor_base + "/bare", floor)
            # Same page on both sides, or the ratio means nothing.
            target_html = _get(base + TARGET_PATH, _cookie_header(cookies))
            floor_html = _get(floor_base + FLOOR_PATH, {})
            assert all(t in target_html for t in seeded.contract_titles[:6]), "not the home"
            if target_html != floor_html:
                raise SystemExit("the floor's page differs from the platform's")
            print(f"load client: {client_name()}, {CONNECTIONS} connections, {SECONDS:g} s "
                  f"x {RUNS} runs per side, alternated; database: "
                  f"{'postgresql' if pg_url else 'sqlite'}; page {TARGET_PATH} "
                  f"({len(target_html)} bytes)", flush=True)
            measure("127.0.0.1", floor_port, FLOOR_PATH, {}, 1, CONNECTIONS)  # warm-up
            measure("127.0.0.1", port, TARGET_PATH, _cookie_header(cookies), 1, CONNECTIONS)
            floors: list[Sample] = []
            targets: list[Sample] = []
            for _ in range(RUNS):
                floors.append(_run(floor.pid, floor_port, FLOOR_PATH, {}))
                # A fresh sign-in per run: the 15-minute access token never expires mid-run.
                cookies = web_login(base)
                targets.append(_run(server.pid, port, TARGET_PATH, _cookie_header(cookies)))
            f_rps, f_p99, f_cpu = _median(floors)
            t_rps, t_p99, t_cpu = _median(targets)
            print(f"{'side':<8} {'req/s':>7} {'p50':>10} {'p99':>10} {'cpu µs/req':>11}   "
                  "runs (req/s)")
            for name, rps, p99, cpu, samples in (("floor", f_rps, f_p99, f_cpu, floors),
                                                 ("target", t_rps, t_p99, t_cpu, targets)):
                each = ", ".join(f"{s.load.rps:.0f}" for s in samples)
                p50 = statistics.median(s.load.p50_ms for s in samples)
                print(f"{name:<8} {rps:7.0f} {p50:8.2f}ms {p99:8.2f}ms {cpu:11.0f}   {each}")
            print(f"ratio {t_rps / f_rps:.2f} (goal >= {GOAL_RATIO}); target p99 {t_p99:.2f} ms "
                  f"(goal <= {GOAL_P99_MS:g} ms on PostgreSQL; at {t_rps:.0f} req/s the mean "
                  f"wait of {CONNECTIONS} closed-loop connections alone is "
                  f"{CONNECTIONS / t_rps * 1000:.0f} ms)", flush=True)
            quiet = [("floor", _run(floor.pid, floor_port, FLOOR_PATH, {}, QUIET)),
                     ("target", _run(server.pid, port, TARGET_PATH,
                                     _cookie_header(web_login(base)), QUIET))]
            print(f"at {QUIET} connection(s): " + "; ".join(
                f"{name} p50 {s.load.p50_ms:.2f} ms, p99 {s.load.p99_ms:.2f} ms, "
                f"{s.cpu_us:.0f} cpu µs/req" for name, s in quiet), flush=True)
        finally:
            for proc in (server, floor):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    main()
