"""Invoices benchmark: invoice PDFs per second, and the overdue job over many invoices.

- PDF: `invoices.documents.render_and_sign` (platform `PdfDocument` with the embedded fonts and
  HarfBuzz shaping, plus the PAdES signature) against a floor measured in the same run: bare
  fpdf2 drawing the same text with the same font files and shaping, unsigned. Goal (issue 12):
  ratio >= 0.8. Also the rate with 2 processes.
- Overdue: `invoices.mark-overdue` over N `sent` invoices all past due (each marked, its two
  step records written and `invoice.overdue` put in the outbox), in rows per second.

Environment:
  MINDLINKS_BENCH_INVOICE_PDFS     PDFs per timing (default 30)
  MINDLINKS_BENCH_OVERDUE_N        invoices for the overdue job (default 100,000)
  MINDLINKS_BENCH_DATABASE_URL     a PostgreSQL URL to run on (its `public` schema is DROPPED
                                   and recreated); default: a temporary SQLite file
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF

PDFS = int(os.environ.get("MINDLINKS_BENCH_INVOICE_PDFS", "30"))
OVERDUE_N = int(os.environ.get("MINDLINKS_BENCH_OVERDUE_N", "100000"))
ARABIC = "محمد العلي"


def _data(i: int):  # type: ignore[no-untyped-def]
    from mindlinks.invoices import documents

    return documents.InvoicePdf(
        invoice_number=f"INV-2026-{i:03d}", issue_date=date(2026, 2, 1),
        due_date=date(2026, 2, 15), contractor_name=ARABIC, client_name="Acme Widgets Ltd",
        contract_title="Web Development Project", currency="USD", amount_minor=500000,
        lines=[documents.PdfLine("Web Development Project: 2026-01-01 to 2026-02-01", "1",
                                 500000, 500000)],
        issued_at=datetime(2026, 2, 1, tzinfo=UTC), period=(date(2026, 1, 1), date(2026, 2, 1)),
    )


def floor_pdf(i: int) -> bytes:
    """The same page (same text, metadata, fonts and shaping) with bare fpdf2: no wrapper,
    no signature."""
    from mindlinks.platform.pdf import unicode_fonts

    regular, bold, fallback = unicode_fonts()
    pdf = FPDF(format="A4")
    pdf.add_font("plex", "", str(regular))
    pdf.add_font("plex", "B", str(bold))
    pdf.add_font("noto", "", str(fallback))
    pdf.set_fallback_fonts(["noto"], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.set_margins(20, 20, 20)
    pdf.set_title(f"Invoice INV-2026-{i:03d}")
    pdf.set_author(ARABIC)
    pdf.add_page()
    pdf.set_font("plex", "B", 18)
    pdf.multi_cell(0, 9, f"Invoice INV-2026-{i:03d}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("plex", "", 10)
    for key, value in [("From", ARABIC), ("Bill to", "Acme Widgets Ltd"),
                       ("Contract", "Web Development Project"), ("Issue date", "2026-02-01"),
                       ("Due date", "2026-02-15"), ("Period", "2026-01-01 - 2026-02-01")]:
        pdf.cell(55, 6, key)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=[80, 22, 34, 34], line_height=6) as table:
        for cells in (["Description", "Quantity", "Unit price", "Amount"],
                      ["Web Development Project: 2026-01-01 to 2026-02-01", "1",
                       "5,000.00 USD", "5,000.00 USD"]):
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.set_font("plex", "B", 12)
    pdf.multi_cell(0, 5, "Total due: 5,000.00 USD", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("plex", "", 8)
    pdf.multi_cell(0, 5, "Issued by Mind-Links on the contractor's behalf. Pay through "
                   "Mind-Links by the due date.", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@lru_cache(maxsize=1)
def _signer():  # type: ignore[no-untyped-def]
    """The app's signer, loaded once per process as the app does (settings are built once)."""
    from mindlinks.contracts import service as contracts
    from mindlinks.settings import Settings

    settings = Settings(data_dir=Path(tempfile.gettempdir()) / "mindlinks-bench",
                        _env_file=None)  # type: ignore[call-arg]
    return contracts.platform_signer(settings).signer


def ours(i: int) -> bytes:
    from mindlinks.invoices import documents

    return documents.render_and_sign(_data(i), _signer())


def _rate_processes(fn, n: int, workers: int) -> float:  # type: ignore[no-untyped-def]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(fn, range(workers)))  # warm-up in each process
        start = time.perf_counter()
        list(pool.map(fn, range(n)))
        return n / (time.perf_counter() - start)


def _interleaved(n: int) -> tuple[float, float]:
    """(ours/s, floor/s), timed alternately so both see the same machine load."""
    ours(0), floor_pdf(0)  # warm-up: imports, certificate, fonts
    spent = {"ours": 0.0, "floor": 0.0}
    for i in range(n):
        for name, fn in (("ours", ours), ("floor", floor_pdf)):
            start = time.perf_counter()
            fn(i)
            spent[name] += time.perf_counter() - start
    return n / spent["ours"], n / spent["floor"]


def bench_pdf() -> None:
    rate, floor = _interleaved(PDFS)
    print(f"invoice pdf (render + PAdES sign): {rate:.2f}/s; bare fpdf2 floor {floor:.2f}/s; "
          f"ratio {rate / floor:.2f} (goal >= 0.8)")
    two = _rate_processes(ours, PDFS * 2, 2)
    print(f"invoice pdf with 2 processes: {two:.2f}/s ({two / rate:.2f} x one process)")


async def _overdue(url: str) -> None:
    from sqlalchemy import insert, text

    from mindlinks.app import load_subscribers
    from mindlinks.auth.models import User
    from mindlinks.invoices import jobs
    from mindlinks.invoices.models import Invoice
    from mindlinks.migrations import runner
    from mindlinks.models import load_all
    from mindlinks.platform.db import Database, create_engine

    load_all()
    engine = create_engine(url, pool=False)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await runner.upgrade(engine, "heads")
    today = date(2026, 6, 1)
    contractor, user = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as conn:
        now = datetime.now(UTC)
        await conn.execute(insert(User).values(
            id=user, email="bench@example.com", password_hash="x", role="client",
            status="active", email_verified=True, mfa_enabled=False, created_at=now,
            updated_at=now))
        for start in range(0, OVERDUE_N, 5000):
            await conn.execute(insert(Invoice), [{
                "id": uuid.uuid4(), "source_key": f"bench:{i}", "contract_id": contractor,
                "contractor_id": contractor, "contractor_user_id": user, "client_id": contractor,
                "client_user_id": user, "client_name": "Acme", "contractor_name": "Ada",
                "contract_title": "Work", "invoice_number": f"INV-2026-{i:06d}",
                "amount_minor": 10_000, "currency": "USD", "status": "sent",
                "net_terms_days": 14, "issue_date": today - timedelta(days=30),
                "due_date": today - timedelta(days=16), "created_at": now, "updated_at": now,
            } for i in range(start, min(start + 5000, OVERDUE_N))])
    await engine.dispose()
    load_subscribers()  # `invoice.overdue` is written with its deliveries, as in production
    db = Database(url)
    started = time.perf_counter()
    marked = await jobs.mark_overdue(db, today)
    elapsed = time.perf_counter() - started
    again = await jobs.mark_overdue(db, today)
    await db.dispose()
    assert marked == OVERDUE_N and again == 0, (marked, again)
    print(f"overdue job ({engine.dialect.name}): {marked} invoices in {elapsed:.1f} s = "
          f"{marked / elapsed:,.0f} rows/s (second run marks {again})")


def bench_overdue() -> None:
    url = os.environ.get("MINDLINKS_BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(_overdue(url or f"sqlite+aiosqlite:///{tmp}/bench.db"))


if __name__ == "__main__":
    bench_pdf()
    bench_overdue()
