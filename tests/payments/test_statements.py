"""Monthly statements: opening + movements = closing, the journal seq on every line, the
formats (JSON, CSV, PDF), the month checks, and that the standalone verifier accepts the
genuine statement (and a tampered one is covered in tests/ledger/test_statement_verifier.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindlinks.ledger.verifier import verify_statement
from tests.factories import Account
from tests.payments.statement_helpers import (
    CLIENT,
    clock,
    contractor_id,
    digest,
    move,
    statement,
)


def at(day: int, month: int = 10, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
async def october(app: Any, contractor: Account, monkeypatch: pytest.MonkeyPatch) -> None:
    """September: +100.00, -30.00 (opening of October: 70.00). October: +50.00, -20.00,
    +5.00 (closing 105.00). November: +1.00 (not in October)."""
    owner = await contractor_id(app, contractor.id)
    for when, amount, credit in ((at(3, 9), 10000, True), (at(20, 9), 3000, False),
                                 (at(1, 10, 0), 5000, True), (at(15, 10), 2000, False),
                                 (at(31, 10, 23), 500, True), (at(1, 11, 0), 100, True)):
        with clock(monkeypatch, when):
            await move(app, owner, amount, credit=credit)


async def test_a_statement_has_opening_every_movement_and_closing(
        client: httpx.AsyncClient, contractor: Account, october: None) -> None:
    response = await statement(client, contractor, "2026-10")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()["statement"]
    assert body["type"] == "contractor_wallet" and body["currency"] == "USD"
    assert (body["openingBalanceMinor"], body["closingBalanceMinor"]) == (7000, 10500)
    assert (body["openingBalance"], body["closingBalance"]) == (70.0, 105.0)
    assert (body["totalCreditsMinor"], body["totalDebitsMinor"]) == (5500, 2000)
    assert body["complete"] is True and body["holder"] == "Ada Lovelace"
    lines = body["lines"]
    assert [(x["direction"], x["amountMinor"], x["balanceAfterMinor"]) for x in lines] == [
        ("credit", 5000, 12000), ("debit", 2000, 10000), ("credit", 500, 10500)]
    seqs = [x["seq"] for x in lines]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    journal = response.json()["journal"]
    assert [e["seq"] for e in journal["entries"]] == seqs
    assert [p["seq"] for p in journal["proofs"]] == seqs
    assert all(p["treeSize"] == journal["digest"]["seq"] for p in journal["proofs"])

    september = (await statement(client, contractor, "2026-09")).json()["statement"]
    assert (september["openingBalanceMinor"], september["closingBalanceMinor"]) == (0, 7000)
    november = (await statement(client, contractor, "2026-11")).json()["statement"]
    assert november["openingBalanceMinor"] == 10500  # chained: October's closing


async def test_the_verifier_accepts_the_genuine_statement(
        client: httpx.AsyncClient, contractor: Account, october: None, tmp_path: Path) -> None:
    kept = await digest(client, contractor)
    data = (await statement(client, contractor, "2026-10")).json()
    assert verify_statement(data, kept) == []
    (tmp_path / "statement.json").write_text(json.dumps(data))
    (tmp_path / "digest.json").write_text(json.dumps(kept))
    run = subprocess.run(
        [sys.executable, "-m", "mindlinks.ledger.verifier", str(tmp_path / "statement.json"),
         "--digest", str(tmp_path / "digest.json")],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("OK contractor_wallet 2026-10 USD: 3 line(s)")


async def test_a_statement_against_a_digest_the_user_kept_earlier(
        app: Any, client: httpx.AsyncClient, contractor: Account, october: None) -> None:
    kept = await digest(client, contractor)
    await move(app, await contractor_id(app, contractor.id), 700)  # the journal grows
    latest = (await statement(client, contractor, "2026-10")).json()
    assert latest["journal"]["digest"]["seq"] > kept["seq"]
    problems = verify_statement(latest, kept)
    assert problems and f"?digestSeq={kept['seq']}" in problems[0]
    again = (await statement(client, contractor, "2026-10", digestSeq=kept["seq"])).json()
    assert verify_statement(again, kept) == []


async def test_a_digest_older_than_the_last_line_cannot_prove_it(
        client: httpx.AsyncClient, contractor: Account, october: None) -> None:
    lines = (await statement(client, contractor, "2026-10")).json()["statement"]["lines"]
    response = await statement(client, contractor, "2026-10", digestSeq=lines[-1]["seq"] - 1)
    assert response.status_code == 422 and response.json()["code"] == "statement_digest_invalid"
    beyond = await statement(client, contractor, "2026-10", digestSeq=10**9)
    assert beyond.status_code == 422 and beyond.json()["code"] == "statement_digest_invalid"


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "26-10", "october", "2026-10-01",
                                   "1999-12", "2026-00", "\uff12\uff10\uff12\uff16-10"])
async def test_a_malformed_month_is_a_422(client: httpx.AsyncClient, contractor: Account,
                                          month: str) -> None:
    response = await statement(client, contractor, month)
    assert response.status_code == 422
    assert response.json()["code"] == "statement_month_invalid"


async def test_a_month_in_the_future_is_a_422(client: httpx.AsyncClient,
                                              contractor: Account) -> None:
    response = await statement(client, contractor, "2999-01")
    assert response.status_code == 422
    assert response.json()["code"] == "statement_month_in_future"
    missing = await client.get("/api/payments/contractor/me/statements",
                               headers=contractor.headers)
    assert missing.status_code == 422


async def test_the_current_month_is_partial(client: httpx.AsyncClient,
                                            contractor: Account) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")
    body = (await statement(client, contractor, month)).json()["statement"]
    assert body["complete"] is False and body["lines"] == []
    assert body["accountId"] is None and body["openingBalanceMinor"] == 0


async def test_another_contractor_sees_only_their_own_statement(
        client: httpx.AsyncClient, contractor: Account, other: Account, october: None) -> None:
    mine = (await statement(client, contractor, "2026-10")).json()["statement"]
    theirs = (await statement(client, other, "2026-10")).json()["statement"]
    assert theirs["lines"] == [] and theirs["ownerId"] != mine["ownerId"]


async def test_csv_statement(client: httpx.AsyncClient, contractor: Account,
                             october: None) -> None:
    response = await statement(client, contractor, "2026-10", format="csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:3] == ["row", "recordedAt", "journalSeq"]
    kinds = [r[0] for r in rows[1:]]
    assert kinds == ["opening_balance", "movement", "movement", "movement", "closing_balance",
                     "journal_digest"]
    assert rows[1][8] == "70.00" and rows[5][8] == "105.00"
    assert [r[6] or r[7] for r in rows[2:5]] == ["50.00", "20.00", "5.00"]
    assert all(r[2].isdigit() for r in rows[2:5])
    by_accept = await client.get("/api/payments/contractor/me/statements",
                                 params={"month": "2026-10"},
                                 headers={**contractor.headers, "Accept": "text/csv"})
    assert by_accept.text == response.text


async def test_pdf_statement(client: httpx.AsyncClient, contractor: Account,
                             october: None) -> None:
    response = await client.get("/api/payments/contractor/me/statements",
                                params={"month": "2026-10"},
                                headers={**contractor.headers, "Accept": "application/pdf"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.headers["cache-control"] == "no-store"
    explicit = await statement(client, contractor, "2026-10", format="json")
    assert explicit.headers["content-type"].startswith("application/json")


async def test_a_client_escrow_statement_verifies(client: httpx.AsyncClient, acme: Account,
                                                  pay: Any) -> None:
    for amount in ("250.00", "100.00"):
        deposit = await pay.deposited(acme, amount=amount)
        assert (await pay.webhook(pay.event(deposit))).status_code == 200
    month = datetime.now(UTC).strftime("%Y-%m")
    response = await statement(client, acme, month, path=CLIENT)
    assert response.status_code == 200, response.text
    data = response.json()
    body = data["statement"]
    assert body["type"] == "client_escrow" and body["holder"] == "Acme Widgets Ltd"
    assert [x["code"] for x in body["lines"]] == ["deposit", "deposit"]
    assert (body["openingBalanceMinor"], body["closingBalanceMinor"]) == (0, 35000)
    assert verify_statement(data, await digest(client, acme)) == []
    wrong_role = await statement(client, acme, month)
    assert wrong_role.status_code in (403, 404)


async def test_a_csv_cannot_carry_a_formula(client: httpx.AsyncClient, pay: Any) -> None:
    from tests.clients.conftest import VERIFIED_COMPANY
    from tests.factories import register

    owner = Account(await register(client, "client", name="Mallory"))
    name = "=HYPERLINK(\"http://evil.test\",\"Refund\") Ltd"
    created = await client.post("/api/clients/companies",
                                json={**VERIFIED_COMPANY, "legalName": name},
                                headers=owner.headers)
    assert created.status_code == 201, created.text
    deposit = await pay.deposited(owner, amount="10.00")
    assert (await pay.webhook(pay.event(deposit))).status_code == 200
    month = datetime.now(UTC).strftime("%Y-%m")
    response = await statement(client, owner, month, path=CLIENT, format="csv")
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.text)))
    holder = rows[1][5]
    assert holder == "'" + name
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


@pytest.mark.parametrize(("accept", "media"), [
    ("application/pdf", "application/pdf"), ("text/csv", "text/csv"),
    ("application/json, application/pdf;q=0.5", "application/json"),
    ("text/csv;q=0.9, application/pdf;q=0.8", "text/csv"),
    ("application/pdf;q=0, text/csv;q=0.1", "text/csv"),
    ("*/*", "application/json"), ("text/html", "application/json"), ("", "application/json"),
    ("application/pdf;q=abc, text/csv;q=0.5", "text/csv"),
])
async def test_accept_chooses_the_format(client: httpx.AsyncClient, contractor: Account,
                                         accept: str, media: str) -> None:
    response = await client.get("/api/payments/contractor/me/statements",
                                params={"month": "2026-10"},
                                headers={**contractor.headers, "Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media


async def test_withdrawals_appear_on_the_statement_and_it_verifies(
        app: Any, client: httpx.AsyncClient, contractor: Account) -> None:
    from tests.payments import withdrawal_helpers as wh

    w = await wh.ready(app, client, contractor, funds=20000)  # 200.00
    for amount, outcome in (("100.00", "complete"), ("50.00", "fail-after-paid")):
        row = await wh.requested(client, w, amount=amount)
        await wh.work(app)
        await wh.bank(app, row["id"], outcome)  # type: ignore[arg-type]
    month = datetime.now(UTC).strftime("%Y-%m")
    data = (await statement(client, contractor, month)).json()
    body = data["statement"]
    codes = [(x["code"], x["direction"]) for x in body["lines"]]
    # Funding; each withdrawal's hold posted out of the wallet; the failed-after-paid one
    # back: its net amount, then its fee (when the rule charges one).
    assert codes[:4] == [("test_funding", "credit"), ("withdrawal", "debit"),
                         ("withdrawal", "debit"), ("withdrawal_reversal", "credit")]
    assert codes[4:] in ([], [("withdrawal_fee_refund", "credit")])
    # 200.00 - 100.00 paid out; the 50.00 that failed after paid came back whole.
    assert body["closingBalanceMinor"] == await wh.available(app, w.contractor_id) == 10000
    assert verify_statement(data, await digest(client, contractor)) == []
