"""E-signature (seed 004 "Contract creation to activation"): sign, activate, verify.

A signature is recorded under a row lock on the contract (`SELECT ... FOR UPDATE` on
PostgreSQL; SQLite has one writer), so two parties signing at the same moment are serialised:
the second sees the first's signature and is the one that activates - exactly once.

What is recorded per signature, bound to the SHA-256 of the PDF that was sent: the server's
clock (the body's `signedAt`, `ipAddress`, `userAgent` are ignored), the connection's address
as a keyed hash (behind a proxy, uvicorn's `forwarded_allow_ips` decides which address that is),
the User-Agent header, and the signature image (a validated PNG, stored; its hash recorded).
The journal entry carries ids and hashes only (no name, email or IP).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import io
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contracts import certificates, documents
from mindlinks.contracts import repository as repo
from mindlinks.contracts.models import (
    Contract,
    ContractPayment,
    ContractSignature,
    ContractStatus,
    SignerRole,
)
from mindlinks.contracts.schemas import SignatureProof, SignRequest, SignResponse, VerifyReport
from mindlinks.contracts.service import (
    get_for,
    next_status,
    parties,
    require_role,
)
from mindlinks.kyc import service as kyc
from mindlinks.ledger import service as ledger
from mindlinks.ledger.schemas import InclusionProofOut
from mindlinks.platform import audit
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import Conflict, ValidationFailed
from mindlinks.platform.events import emit
from mindlinks.platform.middleware import request_context
from mindlinks.platform.offload import run_cpu
from mindlinks.platform.security import Actor, Role, keyed_hash
from mindlinks.platform.storage import StorageBackend, new_key, put_in_transaction
from mindlinks.platform.uploads import PDF, PNG, UploadPurpose, validate_upload
from mindlinks.settings import Settings

# Without an end date, the schedule covers a year ahead: the first year at activation, then
# `contracts.extend-schedules` (daily) keeps it a year ahead of today.
SCHEDULE_HORIZON_DAYS = 366


class InvalidSignature(ValidationFailed):
    code, title = "invalid_signature_image", "Invalid signature image"


class SignatureTooLarge(InvalidSignature):
    code, title = "signature_too_large", "Signature image too large"


class DocumentMismatch(Conflict):
    code, title = "document_mismatch", "The document changed"


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def signature_png(value: str, max_bytes: int) -> bytes:
    """The base64 PNG of the body (a `data:image/png;base64,` prefix is allowed), decoded,
    checked to be a real PNG within the size limit and re-encoded (nothing else survives)."""
    if value.startswith("data:"):
        header, _, value = value.partition(",")
        if header.lower() != "data:image/png;base64":
            raise InvalidSignature("The signature must be a base64 PNG image")
    if len(value) > (max_bytes * 4) // 3 + 4:
        raise SignatureTooLarge(f"The signature image exceeds {max_bytes} bytes")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSignature("The signature is not valid base64") from exc
    purpose = UploadPurpose("signature", max_bytes, frozenset({PNG}))
    upload = await validate_upload(_once(raw), purpose, filename="signature.png")
    try:
        return upload.content.read()
    finally:
        upload.content.close()


def _add_period(start: date, frequency: str, k: int) -> date:
    if frequency == "weekly":
        return start + timedelta(days=7 * k)
    if frequency == "biweekly":
        return start + timedelta(days=14 * k)
    month = start.month - 1 + k
    year, month = start.year + month // 12, month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def payment_dates(start: date, end: date | None, frequency: str, *,
                  until: date | None = None) -> list[date]:
    """Payment dates at the end of each period from `start`, up to `end` (a last, partial
    period is paid on `end`), or when open-ended up to `until` (default: the first year)."""
    limit = end or until or start + timedelta(days=SCHEDULE_HORIZON_DAYS)
    out: list[date] = []
    k = 1
    while (due := _add_period(start, frequency, k)) <= limit:
        out.append(due)
        k += 1
    if end is not None and (not out or out[-1] < end):
        out.append(end)
    return out


def _response(contract: Contract, message: str) -> SignResponse:
    return SignResponse(
        id=contract.id, status=contract.status,
        signed_by_contractor=contract.contractor_signed_at is not None,
        signed_by_contractor_at=contract.contractor_signed_at,
        signed_by_client=contract.client_signed_at is not None,
        signed_by_client_at=contract.client_signed_at, message=message,
    )


async def sign(
    session: AsyncSession, actor: Actor, storage: StorageBackend, settings: Settings,
    secret: bytes, contract_id: uuid.UUID, data: SignRequest,
) -> SignResponse:
    """Record the actor's signature on a sent contract; the second signature activates it.

    404 for a contract the actor is not a party to; 409 `invalid_transition` when it is not
    awaiting this party's signature (draft, already signed by them, active, cancelled...);
    403 `kyc_required` for a contractor whose identity is not verified; 422
    `invalid_signature_image`/`signature_too_large`/`unsupported_file_type`/`corrupt_file` for a bad
    image. Emits `contract.signed` (and `contract.activated` on activation)."""
    require_role(actor, Role.CLIENT, Role.CONTRACTOR)
    contract = await get_for(session, actor, contract_id, for_update=True)
    role = SignerRole.CONTRACTOR if actor.role == Role.CONTRACTOR else SignerRole.CLIENT
    target = next_status(contract, f"sign_{role}")
    if role == SignerRole.CONTRACTOR:
        await kyc.require_verified(session, contract.contractor_id)
    image = await signature_png(data.signature, settings.contract_signature_max_bytes)
    image_sha = hashlib.sha256(image).hexdigest()
    image_key = new_key("contracts", contract.id, "signatures", extension=".png")
    await put_in_transaction(storage, image_key, io.BytesIO(image), mime=PNG, session=session)

    now = utcnow()
    ctx = request_context.get()
    user_agent = ctx.user_agent if ctx else None
    entry = await ledger.append(
        session, entry_type=ledger.EntryType.SIGNATURE, entity_type="contract",
        entity_id=contract.id,
        payload={
            "contractId": str(contract.id), "signerRole": str(role),
            "signerUserId": str(actor.user_id), "signatureImageHash": image_sha,
            "documentHash": contract.document_sha256, "ipHash": ctx.ip_hash if ctx else None,
            "userAgentHash": keyed_hash(secret, user_agent) if user_agent else None,
            "signedAt": now.isoformat(),
        },
    )
    session.add(ContractSignature(
        id=uuid.uuid4(), contract_id=contract.id, role=role, signer_user_id=actor.user_id,
        signed_at=now, document_sha256=contract.document_sha256 or "", image_key=image_key,
        image_sha256=image_sha, ip_hash=ctx.ip_hash if ctx else None, user_agent=user_agent,
        journal_seq=entry.seq, entry_hash=entry.entry_hash.hex(),
    ))
    if role == SignerRole.CONTRACTOR:
        contract.contractor_signed_at = now
    else:
        contract.client_signed_at = now
    contract.status = target
    await session.flush()
    await audit.record(session, actor, "contract.signed", "contract", contract.id,
                       {"role": str(role), "journalSeq": entry.seq})
    await emit(session, "contract.signed", {
        "contractId": contract.id, "signedBy": str(role), "contractorId": contract.contractor_id,
        "userId": contract.contractor_user_id, "clientId": contract.client_id,
        "clientUserId": contract.client_user_id, "contractTitle": contract.title,
    })
    if target == ContractStatus.ACTIVE:
        await _activate(session, actor, storage, settings, contract)
        return _response(contract, "Contract signed successfully; it is now active")
    return _response(contract, "Contract signed successfully")


async def _activate(
    session: AsyncSession, actor: Actor, storage: StorageBackend, settings: Settings,
    contract: Contract,
) -> None:
    """Both signatures exist: journal `fully_signed`, build and PAdES-sign the final PDF,
    create the payment schedule, journal `contract_activation`, emit `contract.activated`."""
    signatures = list(await repo.signatures(session, contract.id))
    fully = await ledger.append(
        session, entry_type="fully_signed", entity_type="contract", entity_id=contract.id,
        payload={
            "contractId": str(contract.id), "documentHash": contract.document_sha256,
            "signatures": [{"role": s.role, "seq": s.journal_seq, "entryHash": s.entry_hash}
                           for s in signatures],
        },
    )
    names = await parties(session, contract)
    assert contract.document_key is not None  # a sent contract has its document
    sent_pdf = await storage.get(contract.document_key)
    if hashlib.sha256(sent_pdf).hexdigest() != contract.document_sha256:
        # The stored file no longer is what the parties signed: refuse to seal it.
        raise DocumentMismatch("The stored contract document does not match the signed hash")
    signed_by = [
        documents.SignedBy(
            role=s.role,
            name=names.client_name if s.role == SignerRole.CLIENT else names.contractor_name,
            signed_at=s.signed_at.isoformat(timespec="seconds"),
            image_png=await storage.get(s.image_key), journal_seq=s.journal_seq,
            entry_hash=s.entry_hash,
        )
        for s in signatures
    ]
    pdf = await run_cpu(documents.render_signed, contract, sent_pdf, signed_by,
                        (fully.seq, fully.entry_hash.hex()))
    signed_pdf = await certificates.sign_pdf(
        settings, pdf, reason=f"Signed by both parties; document SHA-256 {contract.document_sha256}"
    )
    key = new_key("contracts", contract.id, "signed", extension=".pdf")
    await put_in_transaction(storage, key, io.BytesIO(signed_pdf), mime=PDF, session=session)
    contract.signed_document_key = key
    contract.signed_document_sha256 = hashlib.sha256(signed_pdf).hexdigest()

    dates = payment_dates(contract.start_date, contract.end_date, contract.frequency)
    amount = contract.rate_minor if contract.type == "fixed" else None
    session.add_all([
        ContractPayment(id=uuid.uuid4(), contract_id=contract.id, due_date=d,
                        amount_minor=amount, currency=contract.currency, status="scheduled")
        for d in dates
    ])
    now = utcnow()
    activation = await ledger.append(
        session, entry_type=ledger.EntryType.CONTRACT_ACTIVATION, entity_type="contract",
        entity_id=contract.id,
        payload={
            "contractId": str(contract.id), "clientId": str(contract.client_id),
            "contractorId": str(contract.contractor_id), "documentHash": contract.document_sha256,
            "signedDocumentHash": contract.signed_document_sha256,
            "fullySignedSeq": fully.seq, "rateMinor": contract.rate_minor,
            "currency": contract.currency, "frequency": contract.frequency,
            "startDate": contract.start_date.isoformat(),
            "endDate": contract.end_date.isoformat() if contract.end_date else None,
            "scheduledPayments": len(dates), "activatedAt": now.isoformat(),
        },
    )
    contract.activated_at = now
    await session.flush()
    await audit.record(session, actor, "contract.activated", "contract", contract.id,
                       {"journalSeq": activation.seq, "payments": len(dates)})
    await emit(session, "contract.activated", {
        "contractId": contract.id, "contractorId": contract.contractor_id,
        "userId": contract.contractor_user_id, "clientId": contract.client_id,
        "clientUserId": contract.client_user_id, "contractTitle": contract.title,
        "type": contract.type, "currency": contract.currency,
        "nextPaymentDate": dates[0].isoformat() if dates else None,
    })


async def verify(
    session: AsyncSession, actor: Actor, storage: StorageBackend, settings: Settings,
    contract_id: uuid.UUID,
) -> VerifyReport:
    """What a party needs to check the contract without trusting us: the document hash, whether
    the stored signed PDF's PAdES signature validates (against our trust roots), and for each
    signature its journal entry with an inclusion proof in the current digest."""
    contract = await get_for(session, actor, contract_id)
    signatures = await repo.signatures(session, contract.id)
    # The contract's journal entries must match the chain, and each signature must point at
    # the entry it was recorded as; otherwise the proofs below would vouch for edited rows.
    recorded = await ledger.check_entity(session, "contract", contract.id)
    for s in signatures:
        if recorded.get(s.journal_seq) != bytes.fromhex(s.entry_hash):
            raise ledger.JournalBroken(
                f"Journal entry {s.journal_seq} is not the {s.role} signature it was recorded as"
            )
    digest = await ledger.digest(session)
    proofs = []
    for s in signatures:
        proof = await ledger.inclusion_proof(session, s.journal_seq, digest.seq)
        proofs.append(SignatureProof(
            role=s.role, signed_at=s.signed_at, journal_seq=s.journal_seq, entry_hash=s.entry_hash,
            inclusion_proof=InclusionProofOut.of(proof).model_dump(by_alias=True, mode="json"),
        ))
    valid = False
    if contract.signed_document_key:
        pdf = await storage.get(contract.signed_document_key)
        valid = (hashlib.sha256(pdf).hexdigest() == contract.signed_document_sha256
                 and await certificates.pdf_signature_valid(settings, pdf))
    return VerifyReport(
        document_hash=contract.document_sha256,
        signed_document_hash=contract.signed_document_sha256, pdf_signature_valid=valid,
        signatures=proofs, digest=digest.to_json(),
    )
