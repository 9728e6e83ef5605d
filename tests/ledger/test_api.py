"""The journal over HTTP: digest, entries, proofs checked by the standalone verifier, entity
history and its access hook, and the admin chain verification."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mindlinks.ledger import service, verifier
from mindlinks.platform.security import Actor
from tests.factories import Account

from .helpers import tamper


async def _fill(app: Any, n: int) -> None:
    async with app.state.db.session() as session:
        await service.append_many(
            session,
            [
                service.NewEntry(
                    "signature" if i % 3 == 0 else "payment_event",
                    "contract" if i % 3 == 0 else "payment",
                    "c-1" if i % 3 == 0 else f"p-{i}",
                    {"amountMinor": 100 * i, "i": i},
                )
                for i in range(n)
            ],
        )


async def test_digest_entries_and_inclusion_proofs_verify_offline(
    app: Any, client: httpx.AsyncClient, admin: Account
) -> None:
    await _fill(app, 13)
    r = await client.get("/api/ledger/digest", headers=admin.headers)
    assert r.status_code == 200, r.text
    head = r.json()
    assert set(head) == {"seq", "tipHash", "merkleRoot", "recordedAt"}
    assert head["seq"] == 13

    d7 = (await client.get("/api/ledger/digest?seq=7", headers=admin.headers)).json()
    for trusted in (head, d7):
        for seq in range(1, trusted["seq"] + 1):
            entry = (await client.get(f"/api/ledger/entries/{seq}", headers=admin.headers)).json()
            assert verifier.verify_entry(entry)
            proof = await client.get(
                f"/api/ledger/entries/{seq}/proof",
                params={"digestSeq": trusted["seq"]},
                headers=admin.headers,
            )
            assert proof.status_code == 200, proof.text
            p = proof.json()
            assert p["algorithm"] == "rfc6962-sha256" and p["treeSize"] == trusted["seq"]
            assert verifier.verify_inclusion_against(entry, p, trusted)
            # The same proof does not vouch for another entry, nor against another digest.
            other = head if trusted is d7 else d7
            assert not verifier.verify_inclusion_against(entry, p, other)
            if p["auditPath"]:
                forged = {**p, "auditPath": [p["auditPath"][0][::-1], *p["auditPath"][1:]]}
                assert not verifier.verify_inclusion_against(entry, forged, trusted)
                cut = {**p, "auditPath": p["auditPath"][:-1]}
                assert not verifier.verify_inclusion_against(entry, cut, trusted)

    entry5 = (await client.get("/api/ledger/entries/5", headers=admin.headers)).json()
    assert set(entry5) == {
        "seq",
        "entryType",
        "entityType",
        "entityId",
        "payload",
        "payloadCanonical",
        "payloadHash",
        "prevHash",
        "entryHash",
        "recordedAt",
    }
    assert entry5["payload"] == {"amountMinor": 400, "i": 4}
    edited = {**entry5, "payloadCanonical": entry5["payloadCanonical"].replace("400", "401")}
    assert not verifier.verify_entry(edited)
    proof5 = (await client.get("/api/ledger/entries/5/proof", headers=admin.headers)).json()
    assert not verifier.verify_inclusion_against(edited, proof5, head)
    assert proof5["digest"] == head  # default: the current head

    assert (await client.get("/api/ledger/entries/14", headers=admin.headers)).status_code == 404
    r = await client.get("/api/ledger/entries/9/proof?digestSeq=8", headers=admin.headers)
    assert r.status_code == 404
    r = await client.get("/api/ledger/entries/1/proof?digestSeq=99", headers=admin.headers)
    assert r.status_code == 404 and r.json()["code"] == "ledger_entry_not_found"


async def test_consistency_proofs_verify_offline(
    app: Any, client: httpx.AsyncClient, admin: Account
) -> None:
    await _fill(app, 11)
    digests = {
        s: (await client.get(f"/api/ledger/digest?seq={s}", headers=admin.headers)).json()
        for s in range(1, 12)
    }
    for first in range(1, 12):
        for second in range(first, 12):
            r = await client.get(
                "/api/ledger/consistency", params={"from": first, "to": second}, headers=admin.headers
            )
            assert r.status_code == 200, r.text
            proof = r.json()
            assert verifier.verify_consistency_against(digests[first], digests[second], proof)
            if first < second and proof["proof"]:
                bad = {**proof, "proof": list(reversed(proof["proof"]))}
                if bad["proof"] != proof["proof"]:
                    assert not verifier.verify_consistency_against(
                        digests[first], digests[second], bad
                    )
    r = await client.get("/api/ledger/consistency", params={"from": 5, "to": 3}, headers=admin.headers)
    assert r.status_code == 422 and r.json()["code"] == "ledger_range"
    assert (await client.get("/api/ledger/consistency", headers=admin.headers)).status_code == 422
    r = await client.get("/api/ledger/consistency", params={"from": 3}, headers=admin.headers)
    assert r.json()["toSeq"] == 11


async def test_entries_and_history_are_admin_only_unless_a_policy_admits(
    app: Any,
    client: httpx.AsyncClient,
    admin: Account,
    contractor: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _fill(app, 9)
    url = "/api/ledger/entities/contract/c-1/history"
    r = await client.get(url, params={"limit": 2}, headers=admin.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["meta"] == {"total": 3, "page": 1, "limit": 2, "totalPages": 2}
    assert [e["seq"] for e in body["data"]] == [1, 4]
    page2 = (await client.get(url, params={"limit": 2, "page": 2}, headers=admin.headers)).json()
    assert [e["seq"] for e in page2["data"]] == [7]

    them = contractor.headers
    assert (await client.get(url, headers=them)).status_code == 404
    assert (await client.get("/api/ledger/entries/1", headers=them)).status_code == 404
    # Hashes only: a signed-in user may fetch digests and proofs.
    assert (await client.get("/api/ledger/digest", headers=them)).status_code == 200
    assert (await client.get("/api/ledger/entries/1/proof", headers=them)).status_code == 200
    assert (await client.get("/api/ledger/digest")).status_code == 401

    monkeypatch.setattr(service, "_access_policies", {})
    seen: list[tuple[str, str]] = []

    async def parties_only(session: Any, actor: Actor, entity_id: str) -> bool:
        seen.append((actor.email, entity_id))
        return entity_id == "c-1"

    service.register_entity_access("contract", parties_only)
    assert (await client.get(url, headers=them)).status_code == 200
    assert (await client.get("/api/ledger/entries/4", headers=them)).status_code == 200
    assert (await client.get("/api/ledger/entries/2", headers=them)).status_code == 404
    other = "/api/ledger/entities/contract/c-2/history"
    assert (await client.get(other, headers=them)).status_code == 404
    assert ("c-1" in {e for _, e in seen}) and ("c-2" in {e for _, e in seen})


async def test_admin_verification_reports_the_first_broken_seq(
    app: Any, client: httpx.AsyncClient, admin: Account, contractor: Account
) -> None:
    await _fill(app, 40)
    r = await client.post("/api/admin/ledger/verify", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"verified": 40, "firstBrokenSeq": None, "reason": None}
    anchored = (await client.get("/api/ledger/digest", headers=admin.headers)).json()

    r = await client.post("/api/admin/ledger/verify", headers=contractor.headers)
    assert r.status_code == 403

    await tamper(app.state.db, "DELETE FROM ledger_entries WHERE seq > 35")
    r = await client.post("/api/admin/ledger/verify", headers=admin.headers, json={})
    assert r.json() == {"verified": 35, "firstBrokenSeq": None, "reason": None}
    r = await client.post("/api/admin/ledger/verify", headers=admin.headers, json={"against": anchored})
    assert r.json()["firstBrokenSeq"] == 36
    assert "truncated" in r.json()["reason"]

    await tamper(app.state.db, "DELETE FROM ledger_entries WHERE seq = 12")
    r = await client.post("/api/admin/ledger/verify", headers=admin.headers)
    assert r.json() == {
        "verified": 11,
        "firstBrokenSeq": 12,
        "reason": "entry 12 is missing (next entry is 13)",
    }
    bad = {**anchored, "merkleRoot": "xyz"}
    r = await client.post("/api/admin/ledger/verify", headers=admin.headers, json={"against": bad})
    assert r.status_code == 422


async def test_integers_past_64_bits_and_loose_types_are_422(
    app: Any, client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    await _fill(app, 3)
    for url in ("/api/ledger/entries/9223372036854775808",
                "/api/ledger/entries/9223372036854775808/proof",
                "/api/ledger/entries/1/proof?digestSeq=9223372036854775808",
                "/api/ledger/digest?seq=9223372036854775808",
                "/api/ledger/consistency?from=1&to=9223372036854775808"):
        response = await client.get(url, headers=admin.headers)
        assert response.status_code == 422, (url, response.text)
    largest = await client.get("/api/ledger/entries/9223372036854775807", headers=admin.headers)
    assert largest.status_code == 404
    digest = (await client.get("/api/ledger/digest", headers=admin.headers)).json()
    for seq in (False, "3", 3.0, 9223372036854775808):
        response = await client.post("/api/admin/ledger/verify", headers=admin.headers,
                                     json={"against": {**digest, "seq": seq}})
        assert response.status_code == 422, (seq, response.text)
    ok = await client.post("/api/admin/ledger/verify", headers=admin.headers, json={"against": digest})
    assert ok.status_code == 200
    assert ok.json()["firstBrokenSeq"] is None
