"""Request and response shapes of the contracts domain (seed 000 "Contract Service")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool

from mindlinks.countries.schemas import JsonNumber
from mindlinks.platform.api import CamelModel, ResponseModel

TypeName = Literal["fixed", "hourly", "milestone"]
ModelName = Literal["direct", "eor"]
FrequencyName = Literal["weekly", "biweekly", "monthly"]
Money = Decimal
# Calendar dates a contract can use: a schedule built from year 9999 would overflow `date`.
# One clause of a contract's terms; 50 of them at most (each is a paragraph of the PDF).
Term = Annotated[str, Field(min_length=1, max_length=2000)]
VariableName = Annotated[str, Field(min_length=1, max_length=100)]
ContractDate = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2999, 12, 31))]

# --- templates ----------------------------------------------------------------------------


class TemplateCreate(CamelModel):
    name: str = Field(min_length=1, max_length=200)
    type: TypeName
    model: ModelName
    template_content: str = Field(min_length=1, max_length=100_000)
    variables: list[VariableName] | None = Field(default=None, max_length=50)
    is_default: StrictBool = False


class TemplateUpdate(CamelModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    template_content: str | None = Field(default=None, min_length=1, max_length=100_000)
    variables: list[VariableName] | None = Field(default=None, max_length=50)
    is_default: StrictBool | None = None


class Template(ResponseModel):
    id: uuid.UUID
    name: str
    type: str
    model: str
    template_content: str
    variables: list[str]
    is_default: bool
    created_at: datetime
    updated_at: datetime


# --- contracts ----------------------------------------------------------------------------


class MilestoneIn(CamelModel):
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    amount: Money = Field(gt=0, max_digits=18)
    due_date: ContractDate | None = None


class ContractCreate(CamelModel):
    contractor_id: uuid.UUID
    template_id: uuid.UUID
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20_000)
    type: TypeName
    rate: Money = Field(gt=0, max_digits=18)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    frequency: FrequencyName
    start_date: ContractDate
    end_date: ContractDate | None = None
    terms: list[Term] = Field(default_factory=list, max_length=50)
    milestones: list[MilestoneIn] | None = Field(default=None, max_length=100)


class ContractUpdate(CamelModel):
    """`PUT` while draft: the fields sent replace the draft's (the contractor is fixed)."""

    template_id: uuid.UUID | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=20_000)
    type: TypeName | None = None
    rate: Money | None = Field(default=None, gt=0, max_digits=18)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    frequency: FrequencyName | None = None
    start_date: ContractDate | None = None
    end_date: ContractDate | None = None
    terms: list[Term] | None = Field(default=None, max_length=50)
    milestones: list[MilestoneIn] | None = Field(default=None, max_length=100)


class CancelRequest(CamelModel):
    reason: str = Field(min_length=1, max_length=1000)


class TerminateRequest(CamelModel):
    effective_date: ContractDate
    reason: str = Field(min_length=1, max_length=1000)


class SignRequest(CamelModel):
    """Seed body. `signedAt`, `ipAddress` and `userAgent` are accepted and ignored: the server's
    clock, the connection's address and the User-Agent header are what is recorded."""

    signature: str = Field(min_length=1, max_length=1_000_000)
    signed_at: str | None = Field(default=None, max_length=64)
    ip_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)


class Milestone(ResponseModel):
    id: uuid.UUID
    contract_id: uuid.UUID
    title: str
    description: str | None
    amount: JsonNumber
    due_date: date | None
    status: str
    submission_note: str | None
    attachments: list[Any]
    submitted_at: datetime | None
    approved_by: uuid.UUID | None
    approved_at: datetime | None
    rejection_reason: str | None
    rejected_at: datetime | None


class ContractListItem(ResponseModel):
    """`GET /api/contracts/contractor/me` and `/client/me` items (seed 000)."""

    id: uuid.UUID
    client_id: uuid.UUID
    client_name: str | None
    client_logo: str | None
    contractor_id: uuid.UUID
    contractor_name: str | None
    type: str
    title: str
    rate: JsonNumber
    currency: str
    frequency: str
    start_date: date
    end_date: date | None
    status: str
    signed_by_contractor: bool
    signed_by_client: bool
    next_payment_date: date | None
    created_at: datetime


class Contract(ResponseModel):
    """`GET /api/contracts/{id}` (seed 000 detail shape, plus milestones and the model)."""

    id: uuid.UUID
    client_id: uuid.UUID
    client_name: str | None
    contractor_id: uuid.UUID
    contractor_name: str | None
    template_id: uuid.UUID
    type: str
    model: str
    title: str
    description: str
    rate: JsonNumber
    currency: str
    frequency: str
    start_date: date
    end_date: date | None
    status: str
    signed_by_contractor: bool
    signed_by_client: bool
    signed_by_contractor_at: datetime | None
    signed_by_client_at: datetime | None
    pdf_url: str | None
    document_hash: str | None
    terms: list[str]
    milestones: list[Milestone]
    next_payment_date: date | None
    cancel_reason: str | None
    termination_effective_date: date | None
    termination_reason: str | None
    created_at: datetime
    updated_at: datetime


class SignResponse(ResponseModel):
    id: uuid.UUID
    status: str
    signed_by_contractor: bool
    signed_by_contractor_at: datetime | None
    signed_by_client: bool
    signed_by_client_at: datetime | None
    message: str


class SignatureProof(ResponseModel):
    role: str
    signed_at: datetime
    journal_seq: int
    entry_hash: str
    inclusion_proof: dict[str, Any]


class VerifyReport(ResponseModel):
    """`GET /api/contracts/{id}/verify`: check the proofs with `mindlinks.ledger.verifier`."""

    document_hash: str | None
    signed_document_hash: str | None
    pdf_signature_valid: bool
    signatures: list[SignatureProof]
    digest: dict[str, Any]


# --- milestones ---------------------------------------------------------------------------


class MilestoneSubmit(CamelModel):
    note: str | None = Field(default=None, max_length=5000)
    attachments: list[Annotated[str, Field(max_length=500)]] = Field(
        default_factory=list, max_length=20)


class MilestoneReject(CamelModel):
    reason: str = Field(min_length=1, max_length=1000)


# --- for the timesheets domain ------------------------------------------------------------


@dataclass(frozen=True)
class WorkTerms:
    """What timesheets need of a contract: parties, rate (minor units) and the days work may be
    booked (`start_date`..`last_day`: the end date or the termination's effective date)."""

    id: uuid.UUID
    type: str
    status: str
    title: str
    client_id: uuid.UUID
    client_user_id: uuid.UUID
    contractor_id: uuid.UUID
    contractor_user_id: uuid.UUID
    rate_minor: int
    currency: str
    start_date: date
    last_day: date | None
