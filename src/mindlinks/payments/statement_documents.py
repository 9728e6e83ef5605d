"""A statement as CSV and as PDF (fpdf2 through `platform/pdf.py`, with the embedded Unicode
fonts invoices use). Both are pure functions of the JSON statement: the numbers, the journal
seq of every line and the digest are the same in every format, so a printed statement can be
checked line by line against the JSON one the verifier accepted. PDF rendering is CPU work:
callers run `render_pdf` through `platform.offload.run_cpu`.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from mindlinks.payments.statement_schemas import StatementOut
from mindlinks.platform.pdf import PdfDocument
from mindlinks.platform.spreadsheet import csv_text

CSV_HEADER = ["row", "recordedAt", "journalSeq", "transferId", "code", "reference", "credit",
              "debit", "balance", "currency"]
TITLES = {"contractor_wallet": "Wallet statement", "client_escrow": "Escrow statement"}


def _amount(value: Decimal) -> str:
    return f"{value:f}"


def render_csv(data: StatementOut) -> str:
    s, d = data.statement, data.journal.digest
    rows: list[list[object]] = [[*CSV_HEADER]]
    rows.append(["opening_balance", s.period_start.isoformat(), "", "", "", s.holder, "", "",
                 _amount(s.opening_balance), s.currency])
    for line in s.lines:
        credit = _amount(line.amount) if line.direction == "credit" else ""
        debit = _amount(line.amount) if line.direction == "debit" else ""
        rows.append(["movement", line.recorded_at.isoformat(), line.seq, line.transfer_id,
                     line.code, line.reference, credit, debit, _amount(line.balance_after),
                     s.currency])
    rows.append(["closing_balance", (s.generated_at if not s.complete else s.period_end)
                 .isoformat(), "", "", "", "", "", "", _amount(s.closing_balance), s.currency])
    rows.append(["journal_digest", d.recorded_at.isoformat() if d.recorded_at else "", d.seq,
                 "", "merkleRoot", d.merkle_root, "", "", "", ""])
    return csv_text(rows)


def render_pdf(data: StatementOut) -> bytes:
    s, d = data.statement, data.journal.digest
    title = f"{TITLES[s.type]} {s.month} ({s.currency})"
    doc = PdfDocument(title, created_at=s.generated_at, unicode=True)
    doc.heading(title)
    doc.key_values([
        ("Account holder", s.holder),
        ("Account", str(s.account_id or "-")),
        ("Period", f"{s.period_start:%Y-%m-%d} to {s.period_end - timedelta(days=1):%Y-%m-%d}"
         " (UTC)"
         + ("" if s.complete else f", movements up to {s.generated_at:%Y-%m-%d %H:%M}")),
        ("Opening balance", f"{_amount(s.opening_balance)} {s.currency}"),
        ("Closing balance", f"{_amount(s.closing_balance)} {s.currency}"),
    ])
    doc.listing(
        ["Date (UTC)", "Seq", "Movement", "Credit", "Debit", "Balance"],
        [[f"{line.recorded_at:%Y-%m-%d %H:%M}", str(line.seq), line.code,
          _amount(line.amount) if line.direction == "credit" else "",
          _amount(line.amount) if line.direction == "debit" else "",
          _amount(line.balance_after)] for line in s.lines]
        or [["No movements", "", "", "", "", ""]],
        widths=[34, 16, 46, 26, 26, 26])
    doc.paragraph(f"Closing balance: {_amount(s.closing_balance)} {s.currency}", size=12,
                  bold=True)
    doc.paragraph(
        f"Verifiable: every line is journal entry 'Seq'. Made against journal digest seq "
        f"{d.seq}, Merkle root {d.merkle_root}. Download the JSON form (format=json) and run "
        f"`python -m mindlinks.ledger.verifier statement.json --digest digest.json` with a "
        f"digest you kept.", size=8)
    return doc.output()
