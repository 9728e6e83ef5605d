"""The worker killed (SIGKILL) between the payout provider's answer and its commit, then
restarted: the payout is neither lost nor sent twice (issue 14 §4, RELIABILITY 10).

A real `mindlinks worker --once` process delivers `withdrawal.requested`; with
MINDLINKS_TEST_PAYOUT_PAUSE_FILE set it stops right after the sandbox provider answered and
writes that file; the test kills it there. The sandbox keeps its payouts outside our database
(files), as Stripe would, so the killed transaction cannot take the payout back with it. The
restarted worker - once the dead one's lease has run out - calls the provider again with the
same idempotency key and gets the first payout back. Once paid, nothing is left pending (no
orphan hold) and the day reconciles with the provider's records: one payout on each side."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from mindlinks.payments import reconciliation
from mindlinks.payments.models import Account as BookAccount
from mindlinks.payments.models import Transfer, TransferKind
from mindlinks.platform.db import utcnow
from mindlinks.platform.events import DeliveryStatus, EventDelivery
from mindlinks.settings import Settings
from tests.factories import Account
from tests.payments.withdrawal_helpers import available, get, ready, requested, row, sandbox

pytestmark = pytest.mark.usefixtures("db_backend")
SRC = Path(__file__).resolve().parents[2] / "src"


def _cli(settings: Settings, *args: str, **extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "MINDLINKS_ENV": "test",
           "MINDLINKS_DATA_DIR": str(settings.data_dir),
           "MINDLINKS_DATABASE_URL": settings.resolved_database_url,
           "MINDLINKS_DISPATCHER_IN_PROCESS": "false", **extra}
    return subprocess.Popen([sys.executable, "-m", "mindlinks.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _worker(settings: Settings, **extra: str) -> subprocess.Popen[bytes]:
    return _cli(settings, "worker", "--once", **extra)


async def _wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    # Not a timed assertion: the bound only stops a broken run from hanging CI.
    for _ in range(1200):
        if path.exists():
            return
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        await asyncio.sleep(0.05)
    raise AssertionError("the worker never reached the provider call")


async def test_a_worker_killed_after_the_provider_call_neither_loses_nor_repeats_the_payout(
        app: Any, client: httpx.AsyncClient, contractor: Account, settings: Settings,
        tmp_path: Path) -> None:
    w = await ready(app, client, contractor)
    body = await requested(client, w, amount="1000.00")
    marker = tmp_path / "paused"
    proc = _worker(settings, MINDLINKS_TEST_PAYOUT_PAUSE_FILE=str(marker))
    try:
        await _wait_for(marker, proc)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # Sent once, but our record of it died with the worker: `processing` (committed before the
    # call, so the contractor could not cancel meanwhile), no provider reference.
    [payout] = sandbox(app).all()
    assert payout.requests == 1
    crashed = await row(app, body["id"])
    assert crashed.status == "processing" and crashed.provider_payout_ref is None

    # The dead worker's lease runs out (simulated: no waiting in tests); a new worker retries.
    async with app.state.db.session() as s:
        await s.execute(update(EventDelivery).where(
            EventDelivery.status == DeliveryStatus.PROCESSING).values(
            lease_until=utcnow() - timedelta(seconds=1)))
    again = _worker(settings)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err.decode()[-2000:]

    [same] = sandbox(app).all()  # still one payout: the retry carried the same key
    assert (same.payout_ref, same.requests) == (payout.payout_ref, 2)
    recorded = await row(app, body["id"])
    assert recorded.provider_payout_ref == payout.payout_ref
    # The sandbox bank's side, through its CLI: the signed `payout.paid` is delivered.
    done = _cli(settings, "payouts", "sandbox", body["id"], "complete")
    out, err = done.communicate(timeout=300)
    assert (done.returncode, out.decode().strip()) == (0, "payout.paid: handled"), err.decode()
    assert (await get(client, w, body["id"]))["status"] == "completed"
    assert await available(app, w.contractor_id) == 1_000_000 - 100_000
    # No orphan hold: the one hold is posted, nothing is pending on the wallet or in flight.
    async with app.state.db.session() as s:
        holds = (await s.scalars(select(Transfer.status).where(
            Transfer.kind == TransferKind.PENDING))).all()
        pending = (await s.scalars(select(BookAccount.debits_pending).where(
            BookAccount.owner_id == w.contractor_id))).all()
        # Reconciled with the provider's side: one payout each, no difference.
        report = await reconciliation.reconcile(s, reconciliation.SandboxRecords(),
                                                utcnow().date())
    assert holds == ["posted"] and set(pending) == {0}
    assert (report.book_movements, report.provider_movements) == (1, 1)
    assert report.differences == []
