"""The invoice PDF: rendered with `platform.pdf` (embedded Noto fonts, so Arabic and other
non-Latin names print shaped and right-to-left) and PAdES-signed with the platform's
document certificate (the one that seals contracts).

Everything here is synchronous and CPU-bound: callers run it off the event loop
(`render_and_sign` in a worker thread)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from mindlinks.platform.money import from_minor
from mindlinks.platform.pdf import PdfDocument

FIELD_NAME = "MindLinksInvoiceSignature"


@dataclass(frozen=True, slots=True)
class PdfLine:
    description: str
    quantity: str
    unit_price_minor: int
    amount_minor: int


@dataclass(frozen=True, slots=True)
class InvoicePdf:
    invoice_number: str
    issue_date: date
    due_date: date
    contractor_name: str
    client_name: str
    contract_title: str
    currency: str
    amount_minor: int
    lines: list[PdfLine]
    issued_at: datetime
    period: tuple[date, date] | None = None
    replaces_number: str | None = None


def money(amount_minor: int, currency: str) -> str:
    return f"{from_minor(amount_minor, currency):,} {currency}"


def render(data: InvoicePdf) -> bytes:
    doc = PdfDocument(f"Invoice {data.invoice_number}", author=data.contractor_name,
                      created_at=data.issued_at, unicode=True)
    doc.heading(f"Invoice {data.invoice_number}")
    rows = [
        ("From", data.contractor_name),
        ("Bill to", data.client_name),
        ("Contract", data.contract_title),
        ("Issue date", data.issue_date.isoformat()),
        ("Due date", data.due_date.isoformat()),
    ]
    if data.period:
        rows.append(("Period", f"{data.period[0].isoformat()} - {data.period[1].isoformat()}"))
    if data.replaces_number:
        rows.append(("Replaces", f"Invoice {data.replaces_number} (cancelled)"))
    doc.key_values(rows)
    doc.table(
        ["Description", "Quantity", "Unit price", "Amount"],
        [[line.description, line.quantity, money(line.unit_price_minor, data.currency),
          money(line.amount_minor, data.currency)] for line in data.lines],
        widths=[80, 22, 34, 34],
    )
    doc.paragraph(f"Total due: {money(data.amount_minor, data.currency)}", size=12, bold=True)
    doc.paragraph("Issued by Mind-Links on the contractor's behalf. Pay through Mind-Links by "
                  "the due date.", size=8)
    return doc.output()


def sign(pdf: bytes, signer: signers.Signer, *, reason: str) -> bytes:
    """A PAdES baseline (B-B) signature by the platform over the whole of `pdf`."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, reason=reason, name="Mind-Links",
        subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256",
    )
    return bytes(signers.sign_pdf(writer, meta, signer=signer).getvalue())


def render_and_sign(data: InvoicePdf, signer: signers.Signer) -> bytes:
    return sign(render(data), signer, reason=f"Invoice {data.invoice_number} issued")
