"""The expiry and retention jobs, and `mindlinks kyc replay <payloadId>`."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from mindlinks.auth.models import User
from mindlinks.cli import app as cli_app
from mindlinks.contractors.models import ContractorProfile
from mindlinks.kyc import jobs
from mindlinks.kyc.models import KycDocument, KycSession, VerificationPayload
from mindlinks.platform.db import Database, utcnow
from mindlinks.platform.storage import get_storage
from mindlinks.scheduler import collect_jobs
from mindlinks.settings import Settings
from tests.factories import run_with_database
from tests.kyc.conftest import (
    Account,
    profile_kyc,
    sandbox_decide,
    session_row,
    start,
    status_of,
)
from tests.platform.samples import MINIMAL_PDF


def test_jobs_are_registered() -> None:
    assert {"kyc.expire-sessions", "kyc.purge-documents"} <= set(collect_jobs())


async def test_sessions_expire_after_seven_days_without_a_decision(
    app: Any, client: httpx.AsyncClient, contractor: Account, other: Account
) -> None:
    open_one = await start(client, contractor)
    decided = await start(client, other)
    await sandbox_decide(client, decided, "approved")
    async with app.state.db.session() as session:
        assert await jobs.expire_sessions_in(session, utcnow() + timedelta(days=6)) == 0
    async with app.state.db.session() as session:
        assert await jobs.expire_sessions_in(session, utcnow() + timedelta(days=7, hours=1)) == 1
    async with app.state.db.session() as session:  # idempotent
        assert await jobs.expire_sessions_in(session, utcnow() + timedelta(days=8)) == 0
    assert (await session_row(app, open_one["sessionId"])).status == "expired"
    assert (await session_row(app, decided["sessionId"])).status == "verified"
    assert (await status_of(client, contractor))["status"] == "not_started"
    assert await profile_kyc(client, contractor) == "not_started"
    # A late decision on the expired session changes nothing.
    late = await sandbox_decide(client, open_one, "approved")
    assert late.status_code == 200 and late.json()["status"] == "expired"
    # The contractor can start again.
    again = await start(client, contractor)
    assert again["sessionId"] != open_one["sessionId"]


async def test_retention_deletes_files_and_keeps_hashes(
    app: Any, client: httpx.AsyncClient, contractor: Account, other: Account,
    admin: Account,
) -> None:
    done = await start(client, contractor)
    still_open = await start(client, other)
    for who in (contractor, other):
        response = await client.post("/api/kyc/contractor/me/documents", headers=who.headers,
                                     data={"documentType": "proof_of_address"},
                                     files={"file": ("bill.pdf", MINIMAL_PDF,
                                                     "application/pdf")})
        assert response.status_code == 201
    await sandbox_decide(client, done, "approved")
    storage = get_storage(app.state)
    async with app.state.db.session() as session:
        docs = {d.session_id: d for d in await session.scalars(select(KycDocument))}
    decided_doc = docs[uuid.UUID(done["sessionId"])]
    open_doc = docs[uuid.UUID(still_open["sessionId"])]
    assert await storage.exists(decided_doc.s3_key)

    async def purge(days_later: int) -> int:
        async with app.state.db.session() as session:
            return await jobs.purge_documents_in(session, storage, retention_days=90,
                                                 now=utcnow() + timedelta(days=days_later))

    assert await purge(89) == 0
    assert await storage.exists(decided_doc.s3_key)
    assert await purge(91) == 1
    assert await purge(120) == 0  # idempotent
    assert not await storage.exists(decided_doc.s3_key)
    assert await storage.exists(open_doc.s3_key)  # not decided: kept
    async with app.state.db.session() as session:
        kept = await session.get(KycDocument, decided_doc.id)
        assert kept is not None
        assert kept.file_deleted_at is not None
        assert kept.sha256 == decided_doc.sha256 and kept.size == len(MINIMAL_PDF)
    detail = (await client.get(f"/api/admin/kyc/sessions/{done['sessionId']}",
                               headers=admin.headers)).json()
    assert detail["documents"][0]["downloadUrl"] is None
    assert detail["documents"][0]["fileDeletedAt"] is not None
    assert detail["documents"][0]["sha256"] == decided_doc.sha256


def test_cli_replay(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    url = settings.resolved_database_url
    monkeypatch.setenv("MINDLINKS_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MINDLINKS_DATABASE_URL", url)

    def body(ref: str, status: str) -> str:
        return json.dumps({"status": "success",
                           "verification": {"id": ref, "status": status}})

    async def seed(database: Database) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
        async with database.session() as session:
            user = User(id=uuid.uuid4(), email=f"{uuid.uuid4().hex}@example.com",
                        password_hash="x", role="contractor")
            session.add(user)
            await session.flush()
            profile = ContractorProfile(id=uuid.uuid4(), user_id=user.id, email=user.email,
                                        kyc_status="pending")
            session.add(profile)
            await session.flush()
            kyc = KycSession(id=uuid.uuid4(), contractor_id=profile.id, user_id=user.id,
                             provider="sandbox", provider_session_id="ref-1",
                             status="pending", expires_at=utcnow() + timedelta(days=7))
            session.add(kyc)
            # Parked earlier (say the session row was restored from a backup since).
            parked = VerificationPayload(id=uuid.uuid4(), domain="kyc", kind="decision",
                                         provider="sandbox", event_id="e1",
                                         raw_body=body("ref-1", "approved"), status="parked")
            orphan = VerificationPayload(id=uuid.uuid4(), domain="kyc", kind="decision",
                                         provider="sandbox", event_id="e2",
                                         raw_body=body("ref-unknown", "approved"),
                                         status="parked")
            session.add_all([parked, orphan])
        return kyc.id, parked.id, orphan.id

    async def status(database: Database, kyc_id: uuid.UUID) -> str:
        async with database.session() as session:
            return str(await session.scalar(select(KycSession.status)
                                            .where(KycSession.id == kyc_id)))

    kyc_id, parked_id, orphan_id = run_with_database(url, seed)
    runner = CliRunner()
    first = runner.invoke(cli_app, ["kyc", "replay", str(parked_id)])
    assert first.exit_code == 0, first.output
    assert "handled" in first.output
    assert run_with_database(url, lambda db: status(db, kyc_id)) == "verified"
    second = runner.invoke(cli_app, ["kyc", "replay", str(parked_id)])
    assert second.exit_code == 0 and "ignored" in second.output
    still = runner.invoke(cli_app, ["kyc", "replay", str(orphan_id)])
    assert still.exit_code == 1 and "parked" in still.output
    missing = runner.invoke(cli_app, ["kyc", "replay", str(uuid.uuid4())])
    assert missing.exit_code == 2
