"""Request and response shapes of the invoices domain (seed 000 "Payment Service": invoices)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field, StrictBool

from mindlinks.platform.api import (
    EXAMPLE_ID,
    EXAMPLE_ID_2,
    CamelModel,
    ResponseModel,
    seed_example,
)
from mindlinks.platform.money import JsonNumber

# The seed's filter; `pending` = sent and not yet due.
StatusFilter = Literal["all", "paid", "pending", "overdue", "draft", "sent", "cancelled"]


class _InvoiceFields(ResponseModel):
    id: uuid.UUID
    invoice_number: str | None
    contract_id: uuid.UUID
    client_name: str
    amount: JsonNumber
    currency: str
    status: str
    issue_date: date | None
    due_date: date | None
    paid_date: date | None
    pdf_url: str | None


class InvoiceOut(_InvoiceFields):
    """One row of `GET /api/payments/contractor/me/invoices` (seed 000)."""

    model_config = seed_example({
        "id": EXAMPLE_ID, "invoiceNumber": "INV-2024-001", "contractId": EXAMPLE_ID_2,
        "clientName": "ABC Corp", "amount": 5000.00, "currency": "USD", "status": "paid",
        "issueDate": "2024-11-01", "dueDate": "2024-11-15", "paidDate": "2024-11-10",
        "pdfUrl": "https://files.mindlinks.example/invoice.pdf?signed=...",
    })


# Whether the client's escrow holds the invoice's money (issue 13 §2; kept by the payments
# domain): `awaiting_funding | held | released | voided`, null before the invoice is issued.
FundingStatus = Literal["awaiting_funding", "held", "released", "voided"]


class ClientInvoiceOut(InvoiceOut):
    """One row of `GET /api/payments/client/me/invoices`: the seed row and `fundingStatus`."""

    funding_status: FundingStatus | None = None

    model_config = seed_example({
        "id": EXAMPLE_ID, "invoiceNumber": "INV-2024-001", "contractId": EXAMPLE_ID_2,
        "clientName": "ABC Corp", "amount": 5000.00, "currency": "USD", "status": "sent",
        "issueDate": "2024-11-01", "dueDate": "2024-11-15", "paidDate": None,
        "pdfUrl": "https://files.mindlinks.example/invoice.pdf?signed=...",
        "fundingStatus": "held",
    })


class InvoiceLineOut(ResponseModel):
    """A line item (seed table `payment-invoices.lineItems`) and the source it bills."""

    description: str
    quantity: JsonNumber
    unit_price: JsonNumber
    amount: JsonNumber
    schedule_id: uuid.UUID | None
    milestone_id: uuid.UUID | None
    timesheet_id: uuid.UUID | None


class InvoiceDetail(_InvoiceFields):
    """The row, its lines and what replaced what."""

    contractor_id: uuid.UUID
    client_id: uuid.UUID
    period_start: date | None
    period_end: date | None
    line_items: list[InvoiceLineOut]
    replaces_id: uuid.UUID | None
    replaced_by_id: uuid.UUID | None
    cancel_reason: str | None
    cancelled_at: datetime | None
    pdf_sha256: str | None
    created_at: datetime
    funding_status: FundingStatus | None = None


class InvoiceCancel(CamelModel):
    """Cancel an unpaid invoice; `reissue` issues its replacement (`replacesId`) at once."""

    reason: str = Field(min_length=1, max_length=1000)
    reissue: StrictBool = False
