"""Request and response shapes of timesheets (seed 000 "Contract Service" §4 and the
`contract-timesheets` table), the client's review requests, and `TimesheetLine`, the view the
invoices domain reads."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mindlinks.platform.api import EXAMPLE_ID, EXAMPLE_ID_2, CamelModel, ResponseModel, seed_example
from mindlinks.platform.money import JsonNumber

StatusFilter = Literal["all", "draft", "pending", "approved", "rejected", "paid"]

MAX_ENTRIES = 7  # one per day of the week; a duplicate date is refused anyway
# PostgreSQL cannot store NUL in text; refuse it here too (422), whatever the global check does.
NO_NUL = r"^[^\x00]*$"


class EntryIn(CamelModel):
    date: dt.date
    # Checked by the service (0 < hours <= 24, two decimals) so each rule has its own code.
    hours: Decimal = Field(allow_inf_nan=False, max_digits=12)
    description: str = Field(default="", max_length=500, pattern=NO_NUL)


class TimesheetCreate(CamelModel):
    """`POST /api/timesheets` (seed body). `status: "draft"` saves without submitting;
    `amendsId` makes it a correction of an approved (or paid) timesheet of the same week."""

    model_config = seed_example({
        "contractId": EXAMPLE_ID, "weekEnding": "2024-12-07",
        "entries": [
            {"date": "2024-12-02", "hours": 8, "description": "Backend API development"},
            {"date": "2024-12-03", "hours": 7.5, "description": "Database optimization"},
            {"date": "2024-12-04", "hours": 8, "description": "Code review"},
            {"date": "2024-12-05", "hours": 8, "description": "Testing"},
            {"date": "2024-12-06", "hours": 6, "description": "Documentation"},
        ],
        "notes": "Completed sprint 5 deliverables",
    })

    contract_id: uuid.UUID
    week_ending: dt.date
    entries: list[EntryIn] = Field(min_length=1, max_length=MAX_ENTRIES)
    notes: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)
    status: Literal["draft", "pending"] = "pending"
    amends_id: uuid.UUID | None = None


class TimesheetUpdate(CamelModel):
    """`PUT /api/timesheets/{id}` (seed body): the fields sent replace the timesheet's."""

    entries: list[EntryIn] | None = Field(default=None, min_length=1, max_length=MAX_ENTRIES)
    notes: str | None = Field(default=None, max_length=2000, pattern=NO_NUL)


class TimesheetReject(CamelModel):
    reason: str = Field(min_length=1, max_length=1000, pattern=NO_NUL)


class ReviewItem(CamelModel):
    id: uuid.UUID
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, max_length=1000, pattern=NO_NUL)


class ReviewRequest(CamelModel):
    """`POST /api/timesheets/reviews`: all decisions apply, or none."""

    model_config = seed_example({"items": [
        {"id": EXAMPLE_ID, "decision": "approve"},
        {"id": EXAMPLE_ID_2, "decision": "reject", "reason": "Wednesday is a holiday"},
    ]})

    items: list[ReviewItem] = Field(min_length=1, max_length=100)


class Entry(ResponseModel):
    date: dt.date
    hours: JsonNumber
    description: str


class Timesheet(ResponseModel):
    """A timesheet: the seed's list item (`clientName`, `entries`, `approvedAt`, `notes`) and
    submit response (`submittedAt`) in one shape, plus the review fields."""

    id: uuid.UUID
    contract_id: uuid.UUID
    contractor_id: uuid.UUID
    contractor_name: str | None
    client_id: uuid.UUID
    client_name: str | None
    week_ending: dt.date
    hours_worked: JsonNumber
    hourly_rate: JsonNumber
    total_amount: JsonNumber
    currency: str
    status: str
    amends_id: uuid.UUID | None
    notes: str | None
    entries: list[Entry]
    submitted_at: dt.datetime | None
    due_at: dt.datetime
    on_time: bool | None
    approved_at: dt.datetime | None
    approved_by: uuid.UUID | None
    rejected_at: dt.datetime | None
    rejection_reason: str | None
    paid_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class ReviewResult(ResponseModel):
    data: list[Timesheet]


class TimesheetLine(BaseModel):
    """One approved timesheet as an invoice line (for the invoices domain)."""

    model_config = ConfigDict(frozen=True)

    timesheet_id: uuid.UUID
    contract_id: uuid.UUID
    week_ending: dt.date
    hours: Decimal
    hourly_rate_minor: int
    amount_minor: int
    currency: str
    amends_id: uuid.UUID | None
