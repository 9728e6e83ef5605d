"""Signing end to end (seed 004): both orders, what the journal records, activation, the
payment schedule, KYC, signature validation, the signed PDF and its verification."""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
from typing import Any

import httpx
import orjson
import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import select

from mindlinks.contracts import certificates
from mindlinks.contracts.models import ContractPayment
from mindlinks.ledger import verifier
from mindlinks.platform.events import OutboxEvent
from tests.contracts.conftest import signature_png

pytestmark = pytest.mark.usefixtures("db_backend")


async def _history(client: httpx.AsyncClient, account: Any, cid: str) -> list[dict[str, Any]]:
    response = await client.get(f"/api/ledger/entities/contract/{cid}/history",
                                params={"limit": 100}, headers=account.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("first", ["client", "contractor"])
async def test_seed_flow_in_either_order(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any,
    first: str,
):
    contract = await flow.sent(party, fixed_template["id"])
    cid = contract["id"]
    order = [party.client, party.contractor]
    if first == "contractor":
        order.reverse()
    one = await flow.sign(order[0], cid, signedAt="1999-01-01T00:00:00Z",
                          ipAddress="192.168.1.1", userAgent="Spoofed/1.0")
    assert one.status_code == 200, one.text
    body = one.json()
    assert set(body) >= {"id", "status", "signedByContractor", "signedByContractorAt", "message"}
    assert body["status"] == f"{first}_signed"
    assert body["message"] == "Contract signed successfully"
    stamp = body["signedByClientAt" if first == "client" else "signedByContractorAt"]
    assert stamp is not None and not stamp.startswith("1999")  # the server's clock

    again = await flow.sign(order[0], cid)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"

    two = await flow.sign(order[1], cid)
    assert two.status_code == 200, two.text
    assert two.json()["status"] == "active"
    assert two.json()["signedByContractor"] is True and two.json()["signedByClient"] is True

    detail = (await client.get(f"/api/contracts/{cid}", headers=party.contractor.headers)).json()
    assert detail["status"] == "active"
    assert detail["signedByClientAt"] and detail["signedByContractorAt"]
    assert detail["nextPaymentDate"] is not None or detail["endDate"] < "2026-11-23"

    # The journal: signature, signature, fully_signed, contract_activation - ids and hashes.
    entries = await _history(client, party.client, cid)
    kinds = [e["entryType"] for e in entries]
    assert sorted(kinds) == sorted(["signature", "signature", "fully_signed",
                                    "contract_activation"])
    signatures = sorted((e for e in entries if e["entryType"] == "signature"),
                        key=lambda e: e["seq"])
    payloads = [orjson.loads(e["payload"]) if isinstance(e["payload"], str) else e["payload"]
                for e in signatures]
    assert [p["signerRole"] for p in payloads] == [first, "client" if first == "contractor"
                                                   else "contractor"]
    for p in payloads:
        assert p["documentHash"] == contract["documentHash"]
        assert len(p["signatureImageHash"]) == 64 and len(p["ipHash"]) == 64
        assert p["userAgentHash"] and "pytest" not in p["userAgentHash"]
    text = orjson.dumps(entries).decode()
    for secret in ("203.0.113.7", "192.168.1.1", "pytest-browser", "Ada Lovelace",
                   "Grace Hopper", party.client.email, party.contractor.email):
        assert secret not in text

    async with app.state.db.session() as session:
        due = (await session.execute(select(ContractPayment.due_date, ContractPayment.amount_minor)
                                     .where(ContractPayment.contract_id == uuid.UUID(cid))
                                     .order_by(ContractPayment.due_date))).all()
        events = (await session.execute(select(OutboxEvent.name, OutboxEvent.payload)
                                        .where(OutboxEvent.name.in_(
                                            ["contract.signed", "contract.activated"]))
                                        .order_by(OutboxEvent.occurred_at))).all()
    assert [d.isoformat() for d, _ in due] == ["2026-02-01", "2026-03-01", "2026-04-01",
                                               "2026-05-01", "2026-06-01", "2026-06-30"]
    assert {a for _, a in due} == {500000}
    assert [n for n, _ in events].count("contract.signed") == 2
    assert [n for n, _ in events].count("contract.activated") == 1
    signed = [p for n, p in events if n == "contract.signed"]
    assert [p["signedBy"] for p in signed] == [first, "client" if first == "contractor"
                                               else "contractor"]
    assert all(p["userId"] == party.contractor.user_id and p["clientUserId"] ==
               party.client.user_id for p in signed)


async def test_the_other_party_is_notified_of_a_signature(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    contract = await flow.sent(party, fixed_template["id"])
    assert (await flow.sign(party.contractor, contract["id"])).status_code == 200
    await app.state.dispatcher.drain()
    inbox = await client.get("/api/notifications/me", headers=party.client.headers)
    assert [n["type"] for n in inbox.json()["data"]].count("contract_signed") == 1


async def test_an_unverified_contractor_cannot_sign(
    client: httpx.AsyncClient, make_party: Any, flow: Any
):
    party = await make_party(kyc=None)
    tpl = (await client.get("/api/contract-templates", params={"type": "fixed"},
                            headers=party.client.headers)).json()["data"][0]
    contract = await flow.sent(party, tpl["id"])
    response = await flow.sign(party.contractor, contract["id"])
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "kyc_required"
    detail = await client.get(f"/api/contracts/{contract['id']}", headers=party.client.headers)
    assert detail.json()["status"] == "pending"
    assert await _history(client, party.client, contract["id"]) == []
    # The client may sign; the contractor still cannot.
    assert (await flow.sign(party.client, contract["id"])).status_code == 200
    assert (await flow.sign(party.contractor, contract["id"])).status_code == 403


def _png_bytes() -> bytes:
    return base64.b64decode(signature_png())


@pytest.mark.parametrize(
    ("signature", "status", "code"),
    [
        ("not base64!!", 422, "invalid_signature_image"),
        (base64.b64encode(b"GIF89a" + b"\0" * 40).decode(), 422, "unsupported_file_type"),
        (base64.b64encode(_png_bytes()[:60]).decode(), 422, "corrupt_file"),
        ("data:image/jpeg;base64," + signature_png(), 422, "invalid_signature_image"),
        (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 300_000).decode(), 422,
         "signature_too_large"),
    ],
)
async def test_bad_signature_images_are_refused(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any,
    signature: str, status: int, code: str,
):
    contract = await flow.sent(party, fixed_template["id"])
    response = await client.post(f"/api/contracts/{contract['id']}/sign",
                                 json={"signature": signature}, headers=party.client.headers)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    ok = await client.post(f"/api/contracts/{contract['id']}/sign",
                           json={"signature": "data:image/png;base64," + signature_png()},
                           headers=party.client.headers)
    assert ok.status_code == 200, ok.text


async def test_missing_signature_is_422(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    contract = await flow.sent(party, fixed_template["id"])
    response = await client.post(f"/api/contracts/{contract['id']}/sign", json={},
                                 headers=party.client.headers)
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


async def test_signed_pdf_download_and_verification(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    contract = await flow.active(party, fixed_template["id"])
    cid = contract["id"]
    link = await client.get(f"/api/contracts/{cid}/download", headers=party.contractor.headers)
    assert link.status_code == 200, link.text
    assert set(link.json()) == {"downloadUrl", "expiresAt"}
    pdf = (await client.get(link.json()["downloadUrl"])).content
    assert pdf.startswith(b"%PDF")

    # pyHanko's own validator, with the platform CA as the only trust root.
    trust = certificates.platform_signer(app.state.settings).trust_roots
    reader = PdfFileReader(io.BytesIO(pdf))
    assert len(reader.embedded_signatures) == 1
    status = await async_validate_pdf_signature(
        reader.embedded_signatures[0],
        ValidationContext(trust_roots=list(trust), allow_fetching=False))
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"

    # One changed byte inside the signed range breaks it.
    tampered = bytearray(pdf)
    position = pdf.index(b"/ByteRange") // 2  # inside the original document, before the sig
    tampered[position] ^= 0x01
    assert await certificates.pdf_signature_valid(app.state.settings, pdf) is True
    assert await certificates.pdf_signature_valid(app.state.settings, bytes(tampered)) is False
    # An unsigned PDF (the document as sent) is not a signed contract.
    sent_pdf = (await client.get(contract["pdfUrl"])).content
    assert await certificates.pdf_signature_valid(app.state.settings, sent_pdf) is False

    # The signed PDF is the sent file byte for byte, then the signature page and the seal:
    # cutting it at the sent length gives back the hash both signatures name.
    assert pdf[:len(sent_pdf)] == sent_pdf
    assert hashlib.sha256(pdf[:len(sent_pdf)]).hexdigest() == contract["documentHash"]
    assert len(_page_texts(pdf)) == len(_page_texts(sent_pdf)) + 1

    report = await client.get(f"/api/contracts/{cid}/verify", headers=party.client.headers)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["documentHash"] == contract["documentHash"]
    assert body["signedDocumentHash"] == hashlib.sha256(pdf).hexdigest()
    assert body["pdfSignatureValid"] is True
    assert [s["role"] for s in body["signatures"]] == ["client", "contractor"]

    # Each proof checks out with the standalone verifier against the digest, using the entry
    # as the journal serves it - and a proof for the other signature's entry does not.
    entries = []
    for sig in body["signatures"]:
        entry = await client.get(f"/api/ledger/entries/{sig['journalSeq']}",
                                 headers=party.client.headers)
        assert entry.status_code == 200, entry.text
        assert entry.json()["entryHash"] == sig["entryHash"]
        entries.append(entry.json())
        assert verifier.verify_inclusion_against(entry.json(), sig["inclusionProof"],
                                                 body["digest"])
    swapped = body["signatures"][1]["inclusionProof"]
    assert not verifier.verify_inclusion_against(entries[0], swapped, body["digest"])
    forged = {**body["signatures"][0]["inclusionProof"]}
    forged["auditPath"] = ["00" * 32, *forged["auditPath"][1:]] if forged["auditPath"] else \
        ["00" * 32]
    assert not verifier.verify_inclusion_against(entries[0], forged, body["digest"])


async def test_verify_before_activation_reports_no_valid_pdf(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    contract = await flow.sent(party, fixed_template["id"])
    await flow.sign(party.contractor, contract["id"])
    report = (await client.get(f"/api/contracts/{contract['id']}/verify",
                               headers=party.contractor.headers)).json()
    assert report["pdfSignatureValid"] is False and report["signedDocumentHash"] is None
    assert [s["role"] for s in report["signatures"]] == ["contractor"]


async def test_download_of_a_draft_is_409(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    contract = await flow.create(party, fixed_template["id"])
    response = await client.get(f"/api/contracts/{contract['id']}/download",
                                headers=party.client.headers)
    assert response.status_code == 409 and response.json()["code"] == "document_not_ready"


async def test_only_the_contractors_signature_completes_their_onboarding_step(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    async def first_contract_step() -> str:
        await app.state.dispatcher.drain()
        body = (await client.get("/api/contractors/me/onboarding",
                                 headers=party.contractor.headers)).json()
        return next(s["status"] for s in body["steps"] if s["key"] == "first_contract")

    contract = await flow.sent(party, fixed_template["id"])
    assert (await flow.sign(party.client, contract["id"])).status_code == 200
    assert await first_contract_step() != "completed"
    assert (await flow.sign(party.contractor, contract["id"])).status_code == 200
    assert await first_contract_step() == "completed"


def _page_texts(pdf: bytes) -> list[str]:
    reader = PdfFileReader(io.BytesIO(pdf))
    pages = reader.root["/Pages"]["/Kids"]
    out = []
    for page in pages:
        contents = page.get_object()["/Contents"]
        streams = contents if isinstance(contents, list) else [contents]
        data = b"".join(s.get_object().data for s in streams)
        # Pages appended to a sent document draw it as a form XObject: read those too.
        resources = page.get_object()["/Resources"]
        # pyHanko dereferences on [] but not on .get()
        xobjects = resources["/XObject"] if "/XObject" in resources else {}  # noqa: SIM401
        forms = [xobjects[name] for name in xobjects if xobjects[name]["/Subtype"] == "/Form"]
        data += b"".join(form.data for form in forms)
        out.append(data.decode("latin-1"))
    return out


async def test_the_pdfs_show_parties_terms_schedule_and_signatures(
    client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    contract = await flow.active(party, fixed_template["id"],
                                 title="Shop <script>alert(1)</script> rebuild")
    sent = "".join(_page_texts((await client.get(contract["pdfUrl"])).content))
    for text in ("Acme Widgets Ltd", "Ada Lovelace", "5,000.00", "USD", "monthly",
                 "2026-01-01", "2026-06-30", "Deliverables: a web shop", "<script>"):
        assert text in sent, text
    link = (await client.get(f"/api/contracts/{contract['id']}/download",
                             headers=party.client.headers)).json()
    pages = _page_texts((await client.get(link["downloadUrl"])).content)
    last = pages[-1]
    assert "Signatures" in last and contract["documentHash"] in last
    assert "Client: Acme Widgets Ltd" in last and "Contractor: Ada Lovelace" in last
    assert last.count("Entry hash") == 2


async def test_a_changed_sent_document_is_not_sealed(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    """The last signature seals the stored sent file; if that file no longer hashes to what
    both parties signed, activation is refused and nothing changes."""
    from mindlinks.contracts.models import Contract
    from mindlinks.platform.storage import get_storage

    sent = await flow.sent(party, fixed_template["id"])
    assert (await flow.sign(party.client, sent["id"])).status_code == 200
    async with app.state.db.sessionmaker() as session:
        contract = await session.get(Contract, uuid.UUID(sent["id"]))
        key = contract.document_key
    storage = get_storage(app.state)
    original = await storage.get(key)
    await storage.put(key, io.BytesIO(original + b"\n% appended"), mime="application/pdf")

    response = await flow.sign(party.contractor, sent["id"])
    assert response.status_code == 409 and response.json()["code"] == "document_mismatch"
    detail = (await client.get(f"/api/contracts/{sent['id']}",
                               headers=party.contractor.headers)).json()
    assert detail["status"] == "client_signed" and detail["signedByContractor"] is False


async def test_verify_refuses_a_contract_whose_journal_entries_were_edited(
    app: Any, client: httpx.AsyncClient, party: Any, fixed_template: dict[str, Any], flow: Any
):
    """With the triggers out of the way, an edited signature entry makes /verify a 409
    `ledger_broken` instead of proofs that vouch for the edited row."""
    from tests.ledger.helpers import tamper

    contract = await flow.active(party, fixed_template["id"])
    cid = contract["id"]
    url = f"/api/contracts/{cid}/verify"
    report = (await client.get(url, headers=party.client.headers)).json()
    seq = report["signatures"][0]["journalSeq"]
    await tamper(app.state.db,
                 "UPDATE ledger_entries SET payload = replace(payload, :a, :b) WHERE seq = :s",
                 a='"signerRole":"client"', b='"signerRole":"admin"', s=seq)
    response = await client.get(url, headers=party.client.headers)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "ledger_broken"
    entry = await client.get(f"/api/ledger/entries/{seq}", headers=party.client.headers)
    assert entry.status_code == 409 and entry.json()["code"] == "ledger_broken"
