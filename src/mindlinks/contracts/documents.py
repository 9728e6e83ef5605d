"""The contract's PDFs: the document sent for signature, and the fully signed one.

The sent document is rendered once, when the contract is sent, and stored with its SHA-256;
both signatures are bound to that hash. The signed document is that file, byte for byte, with
a signature page (names, times, signature images, the sent document's hash, each signature's
journal seq and entry hash) added as an incremental update, and then PAdES-signed by the
platform (`certificates.sign_pdf`) over the whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mindlinks.contracts import templates
from mindlinks.contracts.models import Contract, ContractMilestone, ContractTemplate
from mindlinks.countries.service import from_minor
from mindlinks.platform.pdf import PdfDocument, SignatureBlock, append_pages


@dataclass(frozen=True)
class Parties:
    client_name: str
    contractor_name: str


@dataclass(frozen=True)
class SignedBy:
    role: str
    name: str
    signed_at: str
    image_png: bytes
    journal_seq: int
    entry_hash: str


def money(amount_minor: int, currency: str) -> str:
    return f"{from_minor(amount_minor, currency):,}"


def template_values(
    contract: Contract, milestones: list[ContractMilestone], parties: Parties
) -> dict[str, Any]:
    return {
        "client_name": parties.client_name,
        "contractor_name": parties.contractor_name,
        "contract_title": contract.title,
        "contract_description": contract.description or "-",
        "contract_type": contract.type,
        "contract_model": contract.model,
        "rate": money(contract.rate_minor, contract.currency),
        "currency": contract.currency,
        "frequency": contract.frequency,
        "start_date": contract.start_date.isoformat(),
        "end_date": contract.end_date.isoformat() if contract.end_date else "terminated",
        "terms": list(contract.terms),
        "milestones": [
            {"title": m.title, "description": m.description or "",
             "amount": money(m.amount_minor, contract.currency),
             "due_date": m.due_date.isoformat() if m.due_date else ""}
            for m in milestones
        ],
    }


def _content(
    doc: PdfDocument, contract: Contract, template: ContractTemplate,
    milestones: list[ContractMilestone], parties: Parties,
) -> None:
    body = templates.render(template.template_content,
                            template_values(contract, milestones, parties))
    doc.markdown(body)
    doc.heading("Schedule", 2)
    unit = "per hour" if contract.type == "hourly" else (
        "in total" if contract.type == "milestone" else "per period")
    doc.key_values([
        ("Contract id", str(contract.id)),
        ("Client", parties.client_name),
        ("Contractor", parties.contractor_name),
        ("Type / model", f"{contract.type} / {contract.model}"),
        ("Rate", f"{money(contract.rate_minor, contract.currency)} {contract.currency} {unit}"),
        ("Payment frequency", contract.frequency),
        ("Start date", contract.start_date.isoformat()),
        ("End date", contract.end_date.isoformat() if contract.end_date else "open-ended"),
    ])
    if milestones:
        doc.heading("Milestones", 2)
        doc.bullets([
            f"{m.title}: {money(m.amount_minor, contract.currency)} {contract.currency}"
            + (f", due {m.due_date.isoformat()}" if m.due_date else "")
            for m in milestones
        ])
    if contract.terms:
        doc.heading("Terms", 2)
        doc.bullets(list(contract.terms))


def render_for_signature(
    contract: Contract, template: ContractTemplate, milestones: list[ContractMilestone],
    parties: Parties,
) -> bytes:
    """The document the parties sign (its SHA-256 goes into every signature record)."""
    doc = PdfDocument(contract.title, created_at=contract.sent_at)
    _content(doc, contract, template, milestones, parties)
    return doc.output()


def render_signed(
    contract: Contract, sent_pdf: bytes, signatures: list[SignedBy],
    fully_signed: tuple[int, str],
) -> bytes:
    """The document exactly as sent, with a signature page appended as an incremental update
    (its first bytes are the sent file, whose SHA-256 every signature names); the caller
    PAdES-signs the result."""
    doc = PdfDocument(f"{contract.title} - signatures", created_at=contract.sent_at)
    doc.heading("Signatures", 1)
    doc.paragraph(
        "Each signature below was recorded in the Mind-Links journal, an append-only "
        "SHA-256 hash chain with Merkle proofs. Check an entry with "
        f"GET /api/contracts/{contract.id}/verify and the standalone verifier "
        "(mindlinks.ledger.verifier)."
    )
    doc.paragraph(
        f"Document SHA-256 (as sent for signature): {contract.document_sha256}. "
        f"It is the hash of the first {len(sent_pdf)} bytes of this file.",
        size=8,
    )
    doc.paragraph(f"Fully signed: journal seq {fully_signed[0]}, entry hash {fully_signed[1]}",
                  size=8)
    for sig in signatures:
        doc.signature(SignatureBlock(
            title=f"{sig.role.title()}: {sig.name}",
            lines=[f"Signed at {sig.signed_at} (UTC, server clock)",
                   f"Journal seq {sig.journal_seq}", f"Entry hash {sig.entry_hash}"],
            image_png=sig.image_png,
        ))
    return append_pages(sent_pdf, doc.output())
