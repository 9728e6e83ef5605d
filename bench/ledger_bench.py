"""Journal benchmark: append (single, batch of 1,000) and full-chain verification.

Each scenario prints its figure and its ratio to a floor measured in the same run with the
same driver the app uses (aiosqlite or asyncpg), without SQLAlchemy or the service:

- append floor: read the tail hash, compute the chained SHA-256 hashes, INSERT the rows
  (executemany) into an identical table without triggers, COMMIT;
- verification floor: scan every row with a driver cursor and recompute SHA-256 of the payload
  and of the chained entry.

Goals (issue 5): batch append >= 0.5 of its floor; verification >= 0.5 of its floor with
peak RSS < 200 MB. Verification and its floor run in child processes, so each peak RSS is
its own and not the filling phase's.

Environment:
  MINDLINKS_BENCH_LEDGER_N         entries to verify (default 1,000,000)
  MINDLINKS_BENCH_LEDGER_SINGLE    single-entry transactions to time (default 1,000)
  MINDLINKS_BENCH_DATABASE_URL     a PostgreSQL URL to run on (its `public` schema is DROPPED
                                   and recreated); default: a temporary SQLite file
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

BATCH = 1000
FLOOR_TABLE = "ledger_floor"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(dt: datetime) -> int:
    d = dt - (_EPOCH if dt.tzinfo else _EPOCH.replace(tzinfo=None))
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def _entry_hash(prev: bytes, seq: int, etype: str, ph: bytes, micros: int) -> bytes:
    e = etype.encode()
    return hashlib.sha256(
        prev + seq.to_bytes(8, "big") + len(e).to_bytes(2, "big") + e + ph
        + micros.to_bytes(8, "big", signed=True)
    ).digest()


def _payload(i: int) -> dict[str, Any]:
    return {"amountMinor": 1000 + i, "currency": "USD", "paymentId": f"pay-{i:09d}", "n": i}


def _rss_mb() -> float:
    """Peak RSS of this process image. VmHWM, not ru_maxrss: Linux carries ru_maxrss over
    from the parent across fork+exec, so a child would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- raw-driver floors --------------------------------------------------------------------


class RawDriver:
    """The same driver as the app, used directly: the floor every scenario is compared with."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pg = url.startswith("postgresql")
        self.conn: Any = None

    async def open(self) -> None:
        if self.pg:
            import asyncpg

            self.conn = await asyncpg.connect(self.url.replace("postgresql+asyncpg", "postgresql"))
        else:
            import aiosqlite

            self.conn = await aiosqlite.connect(self.url.split("///", 1)[1], isolation_level=None)
            await self.conn.execute("PRAGMA journal_mode=WAL")
            await self.conn.execute("PRAGMA synchronous=NORMAL")

    async def close(self) -> None:
        await self.conn.close()

    async def create_floor_table(self) -> None:
        seq_type = "BIGINT" if self.pg else "INTEGER"
        blob = "BYTEA" if self.pg else "BLOB"
        ts = "TIMESTAMPTZ" if self.pg else "DATETIME"
        await self.conn.execute(f"DROP TABLE IF EXISTS {FLOOR_TABLE}")
        await self.conn.execute(
            f"CREATE TABLE {FLOOR_TABLE} (seq {seq_type} PRIMARY KEY, entry_type VARCHAR(64) "
            f"NOT NULL, entity_type VARCHAR(64) NOT NULL, entity_id VARCHAR(128) NOT NULL, "
            f"payload TEXT NOT NULL, payload_hash {blob} NOT NULL, prev_hash {blob} NOT NULL, "
            f"entry_hash {blob} NOT NULL, recorded_at {ts} NOT NULL)"
        )
        await self.conn.execute(
            f"CREATE INDEX ix_{FLOOR_TABLE}_entity ON {FLOOR_TABLE} (entity_type, entity_id, seq)"
        )

    async def append(self, first: int, count: int) -> None:
        """One transaction: tail, chained hashes, INSERT `count` rows."""
        now = datetime.now(UTC)
        micros = _micros(now)
        if self.pg:
            tx = self.conn.transaction()
            await tx.start()
            row = await self.conn.fetchrow(
                f"SELECT seq, entry_hash FROM {FLOOR_TABLE} ORDER BY seq DESC LIMIT 1"
            )
        else:
            await self.conn.execute("BEGIN IMMEDIATE")
            cur = await self.conn.execute(
                f"SELECT seq, entry_hash FROM {FLOOR_TABLE} ORDER BY seq DESC LIMIT 1"
            )
            row = await cur.fetchone()
        seq, prev = (row[0], bytes(row[1])) if row else (0, bytes(32))
        stamp: Any = now if self.pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")
        rows = []
        for i in range(count):
            seq += 1
            data = orjson.dumps(_payload(first + i), option=orjson.OPT_SORT_KEYS)
            ph = hashlib.sha256(data).digest()
            eh = _entry_hash(prev, seq, "payment_event", ph, micros)
            rows.append((seq, "payment_event", "payment", f"p{seq % 97}", data.decode(), ph, prev,
                         eh, stamp))
            prev = eh
        sql = f"INSERT INTO {FLOOR_TABLE} VALUES " + (
            "($1,$2,$3,$4,$5,$6,$7,$8,$9)" if self.pg else "(?,?,?,?,?,?,?,?,?)"
        )
        await self.conn.executemany(sql, rows)
        if self.pg:
            await tx.commit()
        else:
            await self.conn.execute("COMMIT")

    async def scan_verify(self, table: str) -> int:
        """Raw scan + SHA-256 of payload and chained entry hash; returns rows checked."""
        sha, n, prev = hashlib.sha256, 0, bytes(32)
        sql = (f"SELECT seq, entry_type, payload, payload_hash, prev_hash, entry_hash, "
               f"recorded_at FROM {table} ORDER BY seq")
        if self.pg:
            async with self.conn.transaction():
                async for r in self.conn.cursor(sql, prefetch=10_000):
                    n += self._check(r, prev, sha)
                    prev = r[5]
        else:
            cur = await self.conn.execute(sql)
            cur.arraysize = 10_000
            while chunk := await cur.fetchmany(10_000):
                for r in chunk:
                    n += self._check(r, prev, sha)
                    prev = r[5]
        return n

    @staticmethod
    def _check(r: Any, prev: bytes, sha: Any) -> int:
        ts = r[6] if isinstance(r[6], datetime) else datetime.fromisoformat(r[6])
        ok = (
            sha(r[2].encode()).digest() == r[3]
            and r[4] == prev
            and _entry_hash(r[4], r[0], r[1], r[3], _micros(ts)) == r[5]
        )
        if not ok:
            raise SystemExit(f"floor verification failed at {r[0]}")
        return 1


# --- the service --------------------------------------------------------------------------


async def _service_append(db: Any, first: int, count: int) -> None:
    from mindlinks.ledger import service

    async with db.session() as session:
        await service.append_many(
            session,
            [service.NewEntry("payment_event", "payment", f"p{(first + i) % 97}",
                              _payload(first + i)) for i in range(count)],
        )


async def _child_verify(url: str, mode: str) -> None:
    """Runs in a child process: one verification, prints JSON with time and peak RSS."""
    if mode == "service":
        from mindlinks.ledger import service
        from mindlinks.platform.db import Database

        start = time.perf_counter()  # after the imports: time the work, not the start-up
        db = Database(url)
        async with db.sessionmaker() as session:
            report = await service.verify_chain(session)
        await db.dispose()
        if not report.ok:
            raise SystemExit(f"verification failed: {report}")
        n = report.verified
    else:
        start = time.perf_counter()
        raw = RawDriver(url)
        await raw.open()
        n = await raw.scan_verify(mode)
        await raw.close()
    print(json.dumps({"n": n, "seconds": time.perf_counter() - start, "rss_mb": _rss_mb()}))


def _spawn_verify(url: str, mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child-verify", url, mode],
        check=True, capture_output=True, text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _line(name: str, figure: float, unit: str, floor: float, extra: str = "") -> None:
    ratio = figure / floor if floor else float("nan")
    print(f"{name:<34} {figure:>12,.0f} {unit:<10} floor {floor:>12,.0f}  ratio {ratio:5.2f}"
          f"{extra}", flush=True)


async def _prepare(url: str) -> Any:
    from mindlinks.migrations import runner
    from mindlinks.platform.db import Database, create_engine

    if url.startswith("postgresql"):
        from sqlalchemy import text

        engine = create_engine(url, pool=False)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    db = Database(url)
    await runner.upgrade(db.engine, "heads")
    return db


async def run(url: str, n: int, singles: int) -> None:
    db = await _prepare(url)
    raw = RawDriver(url)
    await raw.open()
    await raw.create_floor_table()
    print(f"ledger benchmark on {'PostgreSQL' if raw.pg else 'SQLite'}: N={n:,}", flush=True)

    # Single-entry transactions, interleaved in rounds so drift hits both sides alike.
    t_floor = t_svc = 0.0
    for r in range(0, singles, 100):
        t = time.perf_counter()
        for i in range(r, min(r + 100, singles)):
            await raw.append(i, 1)
        t_floor += time.perf_counter() - t
        t = time.perf_counter()
        for i in range(r, min(r + 100, singles)):
            await _service_append(db, i, 1)
        t_svc += time.perf_counter() - t
    _line("append single (tx/s)", singles / t_svc, "tx/s", singles / t_floor)

    # Batches of 1,000 up to N entries in the journal (the floor table grows alike).
    done, t_floor, t_svc = singles, 0.0, 0.0
    while done < n:
        count = min(BATCH, n - done)
        t = time.perf_counter()
        await raw.append(done, count)
        t_floor += time.perf_counter() - t
        t = time.perf_counter()
        await _service_append(db, done, count)
        t_svc += time.perf_counter() - t
        done += count
    batched = n - singles
    _line(f"append batch {BATCH} (entries/s)", batched / t_svc, "entries/s", batched / t_floor)
    await raw.close()
    await db.dispose()

    floor = _spawn_verify(url, FLOOR_TABLE)
    svc = _spawn_verify(url, "service")
    assert svc["n"] == n == floor["n"], (svc, floor)
    _line(f"verify {n:,} (entries/s)", n / svc["seconds"], "entries/s", n / floor["seconds"],
          f"  peak RSS {svc['rss_mb']:.0f} MB (floor {floor['rss_mb']:.0f} MB)")
    await _digest_costs(url, n)


async def _digest_costs(url: str, n: int) -> None:
    """Digest and proof at the head from stored tiles, against streaming every entry hash."""
    from mindlinks.ledger import repository, service
    from mindlinks.ledger.merkle import TreeHasher
    from mindlinks.platform.db import Database

    db = Database(url)
    async with db.sessionmaker() as session:
        t = time.perf_counter()
        digest = await service.digest(session)
        t_tiles = time.perf_counter() - t
        t = time.perf_counter()
        await service.inclusion_proof(session, n // 3 + 1)
        t_proof = time.perf_counter() - t
        t = time.perf_counter()
        tree = TreeHasher()
        async for chunk in repository.stream_entry_hashes(session, 1, n):
            tree.extend(bytes(h) for (h,) in chunk)
        t_stream = time.perf_counter() - t
    await db.dispose()
    assert tree.root() == digest.merkle_root
    print(f"{'digest at ' + format(n, ',') + ' (ms)':<34} {t_tiles * 1000:>12,.1f} ms from tiles; "
          f"{t_stream * 1000:,.0f} ms streaming all entries ({t_stream / t_tiles:,.0f}x); "
          f"inclusion proof {t_proof * 1000:,.1f} ms", flush=True)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child-verify":
        asyncio.run(_child_verify(sys.argv[2], sys.argv[3]))
        return
    n = int(os.environ.get("MINDLINKS_BENCH_LEDGER_N", "1000000"))
    singles = int(os.environ.get("MINDLINKS_BENCH_LEDGER_SINGLE", "1000"))
    url = os.environ.get("MINDLINKS_BENCH_DATABASE_URL")
    if url:
        asyncio.run(run(url, n, min(singles, n)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(f"sqlite+aiosqlite:///{Path(tmp) / 'ledger.db'}", n, min(singles, n)))


if __name__ == "__main__":
    main()
