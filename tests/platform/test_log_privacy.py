"""No log line carries SQL parameters, tokens or personal data.

A whole journey runs with every log captured - register, login, company, invitation (its
token is in a path), onboarding with an IBAN, KYC through the sandbox (page token), a
contract created and signed by both sides, and a forced 500 whose failing INSERT carries an
e-mail and an argon2 hash - and the captured text is searched for every secret and personal
value the journey used."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text

from mindlinks.auth.models import User
from tests.clients.conftest import verified_company
from tests.contracts.conftest import signature_png
from tests.factories import bearer
from tests.kyc.conftest import page_token

pytestmark = pytest.mark.usefixtures("db_backend")

IBAN = "DE89370400440532013000"


def _secret(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


async def _mailed_token(app: Any, email: str) -> str:
    import re
    from email import policy
    from email.parser import BytesParser

    await app.state.runtime.mailer.drain()
    base = re.escape(app.state.settings.resolved_public_url)
    for path in app.state.settings.mail_dir.glob("*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        if str(message["To"]).lower() == email.lower():
            body = message.get_body(preferencelist=("plain",)).get_content()
            if found := re.findall(base + r"/invitations/([A-Za-z0-9_-]+)", body):
                return str(found[-1])
    raise AssertionError("no invitation mail")


async def _block_user_inserts(app: Any) -> None:
    """Make the next user INSERT fail inside the database, the way a constraint would - on
    PostgreSQL with the row's e-mail in the error text, as a unique violation's DETAIL has."""
    async with app.state.db.engine.begin() as conn:
        if app.state.db.is_sqlite:
            await conn.execute(text(
                "CREATE TRIGGER log_privacy_block BEFORE INSERT ON auth_users "
                "BEGIN SELECT RAISE(ABORT, 'blocked'); END"))
        else:
            await conn.execute(text(
                "CREATE OR REPLACE FUNCTION log_privacy_block() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'blocked %', NEW.email; END $$ LANGUAGE plpgsql"))
            await conn.execute(text(
                "CREATE TRIGGER log_privacy_block BEFORE INSERT ON auth_users "
                "FOR EACH ROW EXECUTE FUNCTION log_privacy_block()"))


async def _unblock(app: Any) -> None:
    async with app.state.db.engine.begin() as conn:
        if app.state.db.is_sqlite:
            await conn.execute(text("DROP TRIGGER IF EXISTS log_privacy_block"))
        else:
            await conn.execute(text("DROP TRIGGER IF EXISTS log_privacy_block ON auth_users"))
            await conn.execute(text("DROP FUNCTION IF EXISTS log_privacy_block()"))


async def test_a_whole_journey_logs_no_secret_and_no_personal_data(
    app: Any, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client_email = f"grace.hopper.{uuid.uuid4().hex[:6]}@example.com"
    worker_email = f"linus.torvalds.{uuid.uuid4().hex[:6]}@example.com"
    victim_email = f"mallory.private.{uuid.uuid4().hex[:6]}@example.com"
    client_password, worker_password, victim_password = (
        _secret("Client-Pass"), _secret("Worker-Pass"), _secret("Victim-Pass"))
    tax_id = "GB" + uuid.uuid4().hex[:9].upper()
    phone = "+14155550123"
    secrets: list[str] = [client_email, worker_email, victim_email, client_password,
                          worker_password, victim_password, tax_id, IBAN, IBAN[-8:], phone,
                          "Grace Hopper", "Linus Torvalds", "Mallory Private"]

    # Register and sign in (client).
    registered = await _ok(await client.post("/api/auth/register", json={
        "email": client_email, "password": client_password, "role": "client",
        "name": "Grace Hopper"}), 201)
    login = await _ok(await client.post("/api/auth/login", json={
        "email": client_email, "password": client_password}))
    owner = bearer(login["accessToken"])
    secrets += [registered["accessToken"], registered["refreshToken"], login["accessToken"],
                login["refreshToken"]]
    await _ok(await client.post("/api/clients/companies", json=verified_company(taxId=tax_id),
                                headers=owner), 201)

    # Invite a contractor; the token travels in paths.
    await _ok(await client.post("/api/clients/me/invitations", json={
        "email": worker_email, "name": "Linus Torvalds"}, headers=owner), 201)
    invitation = await _mailed_token(app, worker_email)
    secrets.append(invitation)
    await _ok(await client.get(f"/api/invitations/{invitation}"))
    accepted = await _ok(await client.post(f"/api/invitations/{invitation}/accept", json={
        "password": worker_password, "name": "Linus Torvalds"}), 201)
    worker = bearer(accepted["accessToken"])
    secrets += [accepted["accessToken"], accepted["refreshToken"]]

    # Onboarding: profile and a bank account.
    await _ok(await client.put("/api/contractors/me", headers=worker, json={
        "phone": phone, "country": "DE", "timezone": "Europe/Berlin",
        "legalName": "Linus Torvalds",
        "address": {"line1": "1 Hauptstrasse", "city": "Berlin", "postalCode": "10115",
                    "country": "DE"}}))
    await _ok(await client.post("/api/contractors/me/bank-accounts", headers=worker, json={
        "accountHolderName": "Linus Torvalds", "bankName": "Commerzbank", "currency": "EUR",
        "country": "DE", "iban": IBAN, "swiftCode": "COBADEFFXXX"}), 201)

    # KYC through the sandbox page's token (query string) and the decision endpoint.
    started = await _ok(await client.post("/api/kyc/contractor/me/start", headers=worker))
    kyc_token = page_token(started)
    secrets.append(kyc_token)
    page = await client.get(f"/kyc/sandbox/{started['sessionId']}?token={kyc_token}")
    assert page.status_code == 200, page.text
    await _ok(await client.post(f"/api/kyc/sandbox/sessions/{started['sessionId']}/decision",
                                json={"decision": "approved", "token": kyc_token}))
    await app.state.dispatcher.drain()

    # A contract, sent and signed by both.
    templates = await _ok(await client.get("/api/contract-templates", headers=owner,
                                           params={"type": "fixed", "model": "direct"}))
    contract = await _ok(await client.post("/api/contracts", headers=owner, json={
        "contractorId": accepted["contractorId"], "templateId": templates["data"][0]["id"],
        "title": "Kernel work", "type": "fixed", "rate": 5000, "currency": "USD",
        "frequency": "monthly", "startDate": "2026-01-01", "endDate": "2026-06-30",
        "terms": ["Deliverables: a scheduler"]}), 201)
    await _ok(await client.post(f"/api/contracts/{contract['id']}/send", headers=owner))
    for who in (owner, worker):
        await _ok(await client.post(f"/api/contracts/{contract['id']}/sign", headers=who,
                                    json={"signature": signature_png()}))

    # A forced 500 on an INSERT whose parameters are an e-mail and an argon2 hash.
    await _block_user_inserts(app)
    try:
        failed = await client.post("/api/auth/register", json={
            "email": victim_email, "password": victim_password, "role": "client",
            "name": "Mallory Private"})
    finally:
        await _unblock(app)
    assert failed.status_code == 500, failed.text
    await app.state.dispatcher.drain()

    async with app.state.db.session() as session:
        hashes = (await session.execute(select(User.password_hash))).scalars().all()
    secrets += list(hashes)
    # Everything the app logged (structlog writes to stderr; stdlib loggers to caplog), not
    # the test's own HTTP client.
    app_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logged = capsys.readouterr().err + "\n" + "\n".join(
        logging.Formatter("%(name)s %(message)s").format(r) for r in app_records)

    # The capture is real: requests were logged, by route template, and the 500's traceback.
    assert logged.count("request") > 20
    assert "/api/invitations/{token}" in logged
    assert "unhandled_error" in logged and "Traceback" in logged
    leaked = {s for s in secrets if s.lower() in logged.lower()}
    leaked |= {local for s in (client_email, worker_email, victim_email)
               if (local := s.split("@")[0]) in logged}
    assert not leaked, f"logged: {sorted(leaked)}"
    assert "$argon2" not in logged
    assert "[parameters:" not in logged  # SQLAlchemy's rendering of bound values

    # RELIABILITY 38: a dump of every table the journey wrote holds neither the IBAN nor the
    # tax id in clear (both are encrypted fields); on SQLite, neither do the database's files.
    from mindlinks.models import load_all

    dump: list[str] = []
    async with app.state.db.engine.connect() as conn:
        for table in load_all().metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in (await conn.execute(table.select())).all()]
    everything = "\n".join(dump)
    assert "Linus Torvalds" in everything  # the dump is real (names are not encrypted fields)
    for value in (IBAN, tax_id):
        assert value not in everything, f"{value} in clear in the database"
    if app.state.db.engine.dialect.name == "sqlite":
        await app.state.db.engine.dispose()
        path = Path(app.state.settings.resolved_database_url.split("///", 1)[1])
        files = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert files and IBAN.encode() not in files and tax_id.encode() not in files
