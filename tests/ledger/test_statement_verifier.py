"""The standalone verifier against downloaded statements: the genuine one passes; a line,
an amount, a seq, a proof, a journal entry, a balance or the digest edited - each fails, with
a message naming what is wrong. Statements are made by the real app (tests/payments helpers)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from mindlinks.ledger.verifier import main, verify_statement
from tests.factories import Account
from tests.payments.statement_helpers import clock, contractor_id, digest, move, statement


@pytest.fixture
async def genuine(app: Any, client: httpx.AsyncClient, contractor: Account,
                  monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, Any], dict[str, Any]]:
    """A September statement of four movements and the digest the contractor kept."""
    owner = await contractor_id(app, contractor.id)
    for day, amount, credit in ((2, 40000, True), (9, 1500, False), (16, 2500, True),
                                (23, 999, False)):
        with clock(monkeypatch, datetime(2026, 9, day, 10, tzinfo=UTC)):
            await move(app, owner, amount, credit=credit)
    kept = await digest(client, contractor)
    response = await statement(client, contractor, "2026-09")
    assert response.status_code == 200, response.text
    data = response.json()
    assert verify_statement(data, kept) == []
    return data, kept


def _rebalance(body: dict[str, Any]) -> None:
    """What a careful forger does after editing an amount: fix every running balance, the
    totals and the closing balance, so the arithmetic alone looks right."""
    running = body["openingBalanceMinor"]
    credits = debits = 0
    for line in body["lines"]:
        sign = 1 if line["direction"] == "credit" else -1
        running += sign * line["amountMinor"]
        credits += line["amountMinor"] if sign > 0 else 0
        debits += line["amountMinor"] if sign < 0 else 0
        line["balanceAfterMinor"] = running
        line["balanceAfter"] = running / 100
        line["amount"] = line["amountMinor"] / 100
    body["closingBalanceMinor"], body["closingBalance"] = running, running / 100
    body["totalCreditsMinor"], body["totalDebitsMinor"] = credits, debits


def _amount(data: dict[str, Any]) -> None:
    data["statement"]["lines"][1]["amountMinor"] = 15  # 15.00 withdrawn becomes 0.15
    _rebalance(data["statement"])


def _direction(data: dict[str, Any]) -> None:
    data["statement"]["lines"][1]["direction"] = "credit"
    _rebalance(data["statement"])


def _seq(data: dict[str, Any]) -> None:
    # The line now names another real entry (the next line's), whose proof it borrows.
    lines = data["statement"]["lines"]
    lines[0]["seq"] = lines[1]["seq"] - 1 if lines[1]["seq"] - 1 > lines[0]["seq"] else \
        lines[0]["seq"] + 1000


def _swap_seq(data: dict[str, Any]) -> None:
    lines = data["statement"]["lines"]
    lines[0]["seq"], lines[1]["seq"] = lines[1]["seq"], lines[0]["seq"]


def _proof(data: dict[str, Any]) -> None:
    path = data["journal"]["proofs"][2]["auditPath"]
    path[0] = ("0" if path[0][0] != "0" else "1") + path[0][1:]


def _proof_cut(data: dict[str, Any]) -> None:
    data["journal"]["proofs"][2]["auditPath"].pop()


def _entry_payload(data: dict[str, Any]) -> None:
    entry = data["journal"]["entries"][1]
    entry["payloadCanonical"] = entry["payloadCanonical"].replace('"amountMinor":1500',
                                                                  '"amountMinor":15')
    data["statement"]["lines"][1]["amountMinor"] = 15
    _rebalance(data["statement"])


def _closing(data: dict[str, Any]) -> None:
    data["statement"]["closingBalanceMinor"] += 100


def _opening(data: dict[str, Any]) -> None:
    data["statement"]["openingBalanceMinor"] += 100


def _shown(data: dict[str, Any]) -> None:
    data["statement"]["lines"][0]["amount"] = 4000.0  # the printed amount, not the minor one


def _line_dropped(data: dict[str, Any]) -> None:
    # Dropping a line without fixing the balances is caught by the arithmetic.
    del data["statement"]["lines"][1]


def _line_duplicated(data: dict[str, Any]) -> None:
    lines = data["statement"]["lines"]
    lines.insert(1, copy.deepcopy(lines[0]))
    _rebalance(data["statement"])


def _digest(data: dict[str, Any]) -> None:
    data["journal"]["digest"]["merkleRoot"] = "00" * 32


def _month(data: dict[str, Any]) -> None:
    data["statement"]["periodStart"] = "2026-10-01T00:00:00Z"
    data["statement"]["periodEnd"] = "2026-11-01T00:00:00Z"


def _other_account(data: dict[str, Any]) -> None:
    data["statement"]["accountId"] = "00000000-0000-4000-8000-000000000001"


TAMPERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "amount": _amount, "direction": _direction, "seq": _seq, "swapped seqs": _swap_seq,
    "proof": _proof, "proof cut short": _proof_cut, "entry payload": _entry_payload,
    "closing": _closing, "opening": _opening, "shown amount": _shown,
    "line dropped": _line_dropped, "line duplicated": _line_duplicated, "digest": _digest,
    "month": _month, "other account": _other_account,
}


@pytest.mark.parametrize("tamper", sorted(TAMPERS))
async def test_a_tampered_statement_is_rejected(
        genuine: tuple[dict[str, Any], dict[str, Any]], tamper: str) -> None:
    data, kept = genuine
    forged = copy.deepcopy(data)
    TAMPERS[tamper](forged)
    assert verify_statement(forged, kept) != [], tamper


async def test_a_proof_against_another_digest_is_rejected(
        genuine: tuple[dict[str, Any], dict[str, Any]]) -> None:
    data, kept = genuine
    older = {**kept, "seq": kept["seq"] - 1}
    assert verify_statement(data, older)


async def test_the_command_line(genuine: tuple[dict[str, Any], dict[str, Any]],
                                tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, kept = genuine
    statement_file, digest_file = tmp_path / "statement.json", tmp_path / "digest.json"
    digest_file.write_text(json.dumps(kept))
    statement_file.write_text(json.dumps(data))
    assert main([str(statement_file), "--digest", str(digest_file)]) == 0
    assert "OK contractor_wallet 2026-09 USD: 4 line(s)" in capsys.readouterr().out
    forged = copy.deepcopy(data)
    _proof(forged)
    statement_file.write_text(json.dumps(forged))
    assert main([str(statement_file), "--digest", str(digest_file)]) == 1
    assert "does not verify against your digest" in capsys.readouterr().out
    statement_file.write_text("not json")
    assert main([str(statement_file), "--digest", str(digest_file)]) == 2
    statement_file.write_text(json.dumps({"statement": {}}))
    assert main([str(statement_file), "--digest", str(digest_file)]) == 1


async def test_statements_chain_month_to_month(
        app: Any, client: httpx.AsyncClient, contractor: Account,
        genuine: tuple[dict[str, Any], dict[str, Any]], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from mindlinks.ledger.verifier import verify_statement_chain

    september, _ = genuine
    owner = await contractor_id(app, contractor.id)
    with clock(monkeypatch, datetime(2026, 10, 5, 9, tzinfo=UTC)):
        await move(app, owner, 1234)
    kept = await digest(client, contractor)
    october = (await statement(client, contractor, "2026-10")).json()
    assert verify_statement(october, kept) == []
    assert verify_statement_chain(september, october) == []
    lied = copy.deepcopy(september)
    lied["statement"]["closingBalanceMinor"] += 1
    assert any("opening balance" in p for p in verify_statement_chain(lied, october))
    august = (await statement(client, contractor, "2026-08")).json()
    assert any("does not follow" in p for p in verify_statement_chain(august, october))
    files = {name: tmp_path / f"{name}.json" for name in ("sep", "oct", "digest")}
    files["sep"].write_text(json.dumps(lied))
    files["oct"].write_text(json.dumps(october))
    files["digest"].write_text(json.dumps(kept))
    assert main([str(files["oct"]), "--digest", str(files["digest"]),
                 "--previous", str(files["sep"])]) == 1
    files["sep"].write_text(json.dumps(september))
    assert main([str(files["oct"]), "--digest", str(files["digest"]),
                 "--previous", str(files["sep"])]) == 0
