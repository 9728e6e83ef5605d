"""The invoices domain's public API: issue, cancel, pay, and the parties' read models.

States (issue 12 §2): `draft -> sent -> paid`, `sent -> overdue -> paid`,
`draft | sent | overdue -> cancelled`. `TRANSITIONS` is the only place a status changes;
anything else is 409 `invalid_transition`. After `sent` nothing of an invoice changes but
its status (and the dates that record it): a wrong invoice is cancelled and reissued.

Numbers `INV-{YYYY}-{NNN}` are per contractor and calendar year of the issue date, taken when
the invoice is issued (never at draft) from a counter row locked until the issuing
transaction ends, so they have no gaps and no duplicates; a cancelled invoice keeps its number.

Generation (which invoices exist, from which source) is in `generation.py`; the overdue job
in `jobs.py`. Other domains import this module: `mark_paid` is for payments.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.contractors import service as contractors
from mindlinks.contracts import service as contracts
from mindlinks.invoices import documents
from mindlinks.invoices import repository as repo
from mindlinks.invoices.models import Invoice, InvoiceLine, InvoiceStatus
from mindlinks.invoices.schemas import (
    ClientInvoiceOut,
    InvoiceCancel,
    InvoiceDetail,
    InvoiceLineOut,
    InvoiceOut,
)
from mindlinks.ledger import service as ledger
from mindlinks.platform import audit
from mindlinks.platform.api import Page, PageParams
from mindlinks.platform.db import Database, utcnow
from mindlinks.platform.errors import InvalidTransition, NotFound
from mindlinks.platform.events import emit, emit_many
from mindlinks.platform.money import from_minor
from mindlinks.platform.security import Actor
from mindlinks.platform.states import StateMachine
from mindlinks.platform.storage import (
    DownloadLinkOut,
    StorageBackend,
    StoredFile,
    new_key,
    put_in_transaction,
    storage_from_settings,
)
from mindlinks.platform.uploads import PDF
from mindlinks.settings import Settings
from mindlinks.timesheets import service as timesheets

S = InvoiceStatus

TRANSITIONS: dict[str, dict[str, str]] = {
    "issue": {S.DRAFT: S.SENT},
    "mark_overdue": {S.SENT: S.OVERDUE},
    "pay": {S.SENT: S.PAID, S.OVERDUE: S.PAID},
    "cancel": {S.DRAFT: S.CANCELLED, S.SENT: S.CANCELLED, S.OVERDUE: S.CANCELLED},
}
INVOICE_STATES = StateMachine.from_actions(TRANSITIONS)

SESSION_KEY = "invoices.context"


class InvoiceNotFound(NotFound):
    code = "invoice_not_found"


@dataclass(frozen=True)
class InvoiceContext:
    """What issuing needs besides the session: settings (signing certificate) and storage.
    Installed on the app's sessions by `setup.install` (event subscribers and jobs get only a
    session or the database)."""

    settings: Settings
    storage: StorageBackend

    @staticmethod
    def of(session: AsyncSession) -> InvoiceContext:
        context = session.info.get(SESSION_KEY)
        if not isinstance(context, InvoiceContext):
            raise RuntimeError("the invoices context is not installed on this session")
        return context

    @staticmethod
    def install(db: Database, context: InvoiceContext) -> None:
        info = dict(db.sessionmaker.kw.get("info") or {})
        info[SESSION_KEY] = context
        db.sessionmaker.configure(info=info)

    @staticmethod
    def for_database(db: Database) -> InvoiceContext:
        """The context on `db`'s sessions; for a bare database (`mindlinks jobs run`) one
        built from the environment's settings, installed on it."""
        context = (db.sessionmaker.kw.get("info") or {}).get(SESSION_KEY)
        if isinstance(context, InvoiceContext):
            return context
        from mindlinks.settings import get_settings

        settings = get_settings()
        context = InvoiceContext(settings, storage_from_settings(settings))
        InvoiceContext.install(db, context)
        return context


def next_status(invoice: Invoice, action: str) -> str:
    verb = {"issue": "issued", "mark_overdue": "marked overdue", "pay": "paid",
            "cancel": "cancelled"}[action]
    return INVOICE_STATES.after(invoice.status, action,
                                f"An invoice that is {invoice.status} cannot be {verb}")


def format_number(year: int, number: int) -> str:
    return f"INV-{year}-{number:03d}"


def _payload(invoice: Invoice | Any) -> dict[str, Any]:
    """Ids and amounts of an invoice for events (no names: recipients are looked up)."""
    return {
        "invoiceId": invoice.id, "invoiceNumber": invoice.invoice_number,
        "contractId": invoice.contract_id, "contractorId": invoice.contractor_id,
        "userId": invoice.contractor_user_id, "clientId": invoice.client_id,
        "clientUserId": invoice.client_user_id,
        "amount": str(from_minor(invoice.amount_minor, invoice.currency)),
        "amountMinor": invoice.amount_minor, "currency": invoice.currency,
        "issueDate": invoice.issue_date, "dueDate": invoice.due_date,
    }


def _journal(invoice: Invoice | Any, **extra: Any) -> dict[str, Any]:
    return {
        "invoiceId": str(invoice.id), "invoiceNumber": invoice.invoice_number,
        "contractId": str(invoice.contract_id), "contractorId": str(invoice.contractor_id),
        "clientId": str(invoice.client_id), "amountMinor": invoice.amount_minor,
        "currency": invoice.currency, "pdfSha256": invoice.pdf_sha256, **extra,
    }


def _quantity(hundredths: int) -> str:
    return f"{hundredths // 100}" if hundredths % 100 == 0 else f"{hundredths / 100:.2f}"


# --- issue ----------------------------------------------------------------------------------


async def issue(session: AsyncSession, invoice_id: uuid.UUID) -> Invoice:
    """`draft -> sent`: number it, render and sign its PDF (off the event loop), store it among
    the contractor's documents, journal it and emit `invoice.issued` - all in the caller's
    transaction, so a failure anywhere leaves the draft, the counter and storage as they were.
    """
    context = InvoiceContext.of(session)
    invoice = await repo.get(session, invoice_id, for_update=True)
    if invoice is None:
        raise InvoiceNotFound("No such invoice")
    target = next_status(invoice, "issue")
    assert invoice.issue_date is not None  # a draft is created with its issue date
    year = invoice.issue_date.year
    invoice.invoice_number = format_number(
        year, await repo.next_number(session, invoice.contractor_id, year))
    invoice.due_date = invoice.issue_date + timedelta(days=invoice.net_terms_days)
    invoice.issued_at = utcnow()
    lines = await repo.lines(session, invoice.id)
    replaces = await repo.number_of(session, invoice.replaces_id) if invoice.replaces_id else None
    data = documents.InvoicePdf(
        invoice_number=invoice.invoice_number, issue_date=invoice.issue_date,
        due_date=invoice.due_date, contractor_name=invoice.contractor_name,
        client_name=invoice.client_name, contract_title=invoice.contract_title,
        currency=invoice.currency, amount_minor=invoice.amount_minor,
        lines=[documents.PdfLine(line.description, _quantity(line.quantity_hundredths),
                                 line.unit_price_minor, line.amount_minor) for line in lines],
        issued_at=invoice.issued_at,
        period=(invoice.period_start, invoice.period_end)
        if invoice.period_start and invoice.period_end else None,
        replaces_number=replaces,
    )
    pdf = await asyncio.to_thread(_render_and_sign, context.settings, data)
    key = new_key("invoices", invoice.contractor_id, invoice.id, extension=".pdf")
    await put_in_transaction(context.storage, key, io.BytesIO(pdf), mime=PDF, session=session)
    invoice.pdf_key, invoice.pdf_sha256 = key, hashlib.sha256(pdf).hexdigest()
    invoice.status = target
    await session.flush()
    await contractors.record_document(
        session, invoice.contractor_id, type_="invoice", entity_id=invoice.id,
        stored=StoredFile(key, invoice.pdf_sha256, len(pdf), PDF,
                          f"{invoice.invoice_number}.pdf"),
    )
    await audit.record(session, None, "invoice.issued", "invoice", invoice.id,
                       {"invoiceNumber": invoice.invoice_number})
    await emit(session, "invoice.issued", _payload(invoice))
    await ledger.append(
        session, entry_type="invoice_issue", entity_type="invoice", entity_id=invoice.id,
        payload=_journal(invoice, issueDate=invoice.issue_date.isoformat(),
                         dueDate=invoice.due_date.isoformat(),
                         replacesId=str(invoice.replaces_id) if invoice.replaces_id else None),
    )
    return invoice


def _render_and_sign(settings: Settings, data: documents.InvoicePdf) -> bytes:
    # Loading (or, in development, generating) the certificate is file work: keep it here too.
    return documents.render_and_sign(data, contracts.platform_signer(settings).signer)


# --- cancel / pay ---------------------------------------------------------------------------


async def cancel(
    session: AsyncSession, actor: Actor, invoice_id: uuid.UUID, data: InvoiceCancel,
) -> tuple[Invoice, Invoice | None]:
    """Cancel an unpaid invoice with a reason (it keeps its number); with `reissue`, issue
    its replacement (same lines, current names, today's date, `replacesId`) at once."""
    from mindlinks.invoices import generation

    invoice = await repo.get(session, invoice_id, for_update=True)
    if invoice is None:
        raise InvoiceNotFound("No such invoice")
    invoice.status = next_status(invoice, "cancel")
    invoice.cancelled_at, invoice.cancel_reason = utcnow(), data.reason
    await session.flush()
    await audit.record(session, actor, "invoice.cancelled", "invoice", invoice.id,
                       {"invoiceNumber": invoice.invoice_number, "reissue": data.reissue})
    await emit(session, "invoice.cancelled", {**_payload(invoice), "reissued": data.reissue})
    if invoice.invoice_number is not None:
        await ledger.append(session, entry_type="invoice_cancellation", entity_type="invoice",
                            entity_id=invoice.id, payload=_journal(invoice))
    replacement = None
    if data.reissue:
        replacement = await generation.reissue(session, invoice)
    return invoice, replacement


async def mark_paid(session: AsyncSession, invoice_id: uuid.UUID, paid_at: datetime) -> Invoice:
    """For the payments domain, when the invoice's money is released to the contractor:
    `sent | overdue -> paid`, journal entry `invoice_payment`, event `invoice.paid`.

    Idempotent: an invoice already paid is returned unchanged (no second entry or event), so
    a retried release cannot pay twice; a draft or cancelled invoice is 409
    `invalid_transition`; an unknown id is 404 `invoice_not_found`."""
    invoice = await repo.get(session, invoice_id, for_update=True)
    if invoice is None:
        raise InvoiceNotFound("No such invoice")
    if invoice.status == S.PAID:
        return invoice
    invoice.status = next_status(invoice, "pay")
    invoice.paid_at, invoice.paid_date = paid_at, paid_at.date()
    await session.flush()
    # The timesheets it billed are paid with it (and locked for good).
    await timesheets.mark_paid(session, [line.timesheet_id for line in
                                         await repo.lines(session, invoice.id)
                                         if line.timesheet_id is not None])
    await audit.record(session, None, "invoice.paid", "invoice", invoice.id,
                       {"invoiceNumber": invoice.invoice_number})
    await emit(session, "invoice.paid", {**_payload(invoice), "paidDate": invoice.paid_date})
    await ledger.append(session, entry_type="invoice_payment", entity_type="invoice",
                        entity_id=invoice.id,
                        payload=_journal(invoice, paidAt=paid_at.isoformat()))
    return invoice


async def lock_payable(session: AsyncSession, invoice_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """For the payments domain's batch: lock the invoices (id order) and return those that
    `mark_paid_many` may pay now (`sent` or `overdue`)."""
    return await repo.lock_payable(session, invoice_ids, (S.SENT, S.OVERDUE))


async def mark_paid_many(session: AsyncSession, invoice_ids: list[uuid.UUID],
                         paid_at: datetime) -> None:
    """`mark_paid` for a batch (the payroll), in a few statements instead of a few per
    invoice: the same transition, timesheets, audit lines, `invoice.paid` events and
    `invoice_payment` journal entries. Every invoice must be locked by `lock_payable` in this
    transaction and payable; anything else is 409 `invalid_transition` (the caller's
    transaction must then roll back)."""
    ids = list(dict.fromkeys(invoice_ids))
    if not ids:
        return
    rows = await repo.pay_many(session, ids, TRANSITIONS["pay"], S.PAID, paid_at)
    if len(rows) != len(ids):
        raise InvalidTransition("An invoice of the batch is not payable")
    await timesheets.mark_paid(session, await repo.billed_timesheets(session, ids))
    await audit.record_many(session, None, "invoice.paid", "invoice",
                            [(i.id, {"invoiceNumber": i.invoice_number}) for i in rows])
    await emit_many(session, "invoice.paid",
                    [{**_payload(i), "paidDate": i.paid_date} for i in rows])
    await ledger.append_many(session, [
        ledger.NewEntry("invoice_payment", "invoice", i.id,
                        _journal(i, paidAt=paid_at.isoformat())) for i in rows])


# --- read models ----------------------------------------------------------------------------


def shown_status(invoice: Invoice, today: date) -> str:
    """What the parties see: a sent invoice past its due date is overdue even before the
    daily job has marked it."""
    if invoice.status == S.SENT and invoice.due_date is not None and invoice.due_date < today:
        return S.OVERDUE
    return invoice.status


async def _pdf_url(storage: StorageBackend, invoice: Invoice) -> str | None:
    if not invoice.pdf_key:
        return None
    link = await storage.download_link(invoice.pdf_key, filename=f"{invoice.invoice_number}.pdf")
    return link.download_url


async def _out(storage: StorageBackend, invoice: Invoice, today: date) -> dict[str, Any]:
    return {
        "id": invoice.id, "invoice_number": invoice.invoice_number,
        "contract_id": invoice.contract_id, "client_name": invoice.client_name,
        "amount": from_minor(invoice.amount_minor, invoice.currency),
        "currency": invoice.currency, "status": shown_status(invoice, today),
        "issue_date": invoice.issue_date, "due_date": invoice.due_date,
        "paid_date": invoice.paid_date, "pdf_url": await _pdf_url(storage, invoice),
    }


async def list_invoices(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, status: str,
    page: PageParams,
) -> Page[InvoiceOut]:
    today = utcnow().date()
    rows, total = await repo.page(session, actor, status=status, today=today,
                                  offset=page.offset, limit=page.limit)
    data = [InvoiceOut(**await _out(storage, r, today)) for r in rows]
    return Page[InvoiceOut].build(data, total, page)


async def list_client_invoices(
    session: AsyncSession, actor: Actor, storage: StorageBackend, *, status: str,
    page: PageParams,
) -> Page[ClientInvoiceOut]:
    """The client's rows, each with its `fundingStatus` (one query for the page)."""
    today = utcnow().date()
    rows, total = await repo.page(session, actor, status=status, today=today,
                                  offset=page.offset, limit=page.limit)
    funding = await funding_statuses(session, [r.id for r in rows])
    data = [ClientInvoiceOut(**await _out(storage, r, today), funding_status=funding.get(r.id))
            for r in rows]
    return Page[ClientInvoiceOut].build(data, total, page)


# The payments domain (above this one) knows whether an invoice's money is held; it registers
# how to read that at start-up (`payments.setup.install`), so the invoice responses carry
# `fundingStatus` without this domain importing payments.
FundingLookup = Callable[[AsyncSession, list[uuid.UUID]], Awaitable[dict[uuid.UUID, str]]]
_funding_lookup: FundingLookup | None = None


def register_funding_lookup(lookup: FundingLookup) -> None:
    global _funding_lookup
    _funding_lookup = lookup


async def funding_statuses(session: AsyncSession, invoice_ids: list[uuid.UUID]
                           ) -> dict[uuid.UUID, str]:
    if _funding_lookup is None or not invoice_ids:
        return {}
    return await _funding_lookup(session, invoice_ids)


async def get_for(session: AsyncSession, actor: Actor, invoice_id: uuid.UUID) -> Invoice:
    """The invoice if the actor is its contractor or client (or an admin); else 404."""
    invoice = await repo.get_readable(session, actor, invoice_id)
    if invoice is None:
        raise InvoiceNotFound("No such invoice")
    return invoice


async def invoice_detail(
    session: AsyncSession, actor: Actor, storage: StorageBackend, invoice_id: uuid.UUID
) -> InvoiceDetail:
    invoice = await get_for(session, actor, invoice_id)
    lines = await repo.lines(session, invoice.id)
    return InvoiceDetail(
        **await _out(storage, invoice, utcnow().date()),
        contractor_id=invoice.contractor_id, client_id=invoice.client_id,
        period_start=invoice.period_start, period_end=invoice.period_end,
        line_items=[_line_out(line, invoice.currency) for line in lines],
        replaces_id=invoice.replaces_id,
        replaced_by_id=await repo.replacement_of(session, invoice.id),
        cancel_reason=invoice.cancel_reason, cancelled_at=invoice.cancelled_at,
        pdf_sha256=invoice.pdf_sha256, created_at=invoice.created_at,
        funding_status=(await funding_statuses(session, [invoice.id])).get(invoice.id),
    )


def _line_out(line: InvoiceLine, currency: str) -> InvoiceLineOut:
    return InvoiceLineOut(
        description=line.description, quantity=Decimal(line.quantity_hundredths).scaleb(-2),
        unit_price=from_minor(line.unit_price_minor, currency),
        amount=from_minor(line.amount_minor, currency), schedule_id=line.schedule_id,
        milestone_id=line.milestone_id, timesheet_id=line.timesheet_id,
    )


async def download(
    session: AsyncSession, actor: Actor, storage: StorageBackend, invoice_id: uuid.UUID
) -> DownloadLinkOut:
    """`{downloadUrl, expiresAt}`: a signed link to the signed PDF that expires."""
    invoice = await get_for(session, actor, invoice_id)
    if not invoice.pdf_key:
        raise InvoiceNotFound("This invoice has no document")
    link = await storage.download_link(invoice.pdf_key, filename=f"{invoice.invoice_number}.pdf")
    return DownloadLinkOut(download_url=link.download_url, expires_at=link.expires_at)


async def is_party(session: AsyncSession, actor: Actor, entity_id: str) -> bool:
    """Journal access policy for entity type `invoice` (registered in `setup.install`)."""
    try:
        return await repo.get_readable(session, actor, uuid.UUID(entity_id)) is not None
    except ValueError:
        return False


__all__ = ["TRANSITIONS", "InvoiceContext", "cancel", "download", "funding_statuses", "get_for",
           "invoice_detail", "issue", "list_client_invoices", "list_invoices", "lock_payable",
           "mark_paid", "mark_paid_many", "next_status", "register_funding_lookup"]
