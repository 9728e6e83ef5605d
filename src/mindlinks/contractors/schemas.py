"""Requests and responses of the contractors domain (seed 000 shapes, plus seed 002/003
fields). Sensitive numbers only ever leave as masks (`****1234`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictInt, field_validator

from mindlinks.platform.api import EXAMPLE_ID, EXAMPLE_ID_2, CamelModel, ResponseModel, seed_example

# --- profile ----------------------------------------------------------------------------


class Address(CamelModel):
    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")


class AddressOut(ResponseModel):
    line1: str | None
    line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None


class ContractorProfile(ResponseModel):
    model_config = seed_example({
        "id": EXAMPLE_ID, "userId": EXAMPLE_ID_2, "name": "John Doe",
        "email": "john@example.com", "phone": "+201001234567", "country": "EG",
        "timezone": "Africa/Cairo", "avatarUrl": None, "kycStatus": "verified",
        "onboardingCompleted": True, "createdAt": "2024-01-01T00:00:00Z",
        "updatedAt": "2024-01-15T00:00:00Z", "firstName": "John", "lastName": "Doe",
        "status": "active", "onboardingStatus": "completed", "legalName": "John Doe",
        "dbaName": None, "website": None,
        "address": {"line1": "1 Nile St", "line2": None, "city": "Cairo", "state": None,
                    "postalCode": "11511", "country": "EG"},
    })

    id: uuid.UUID
    user_id: uuid.UUID
    name: str | None
    email: str
    phone: str | None
    country: str | None
    timezone: str | None
    avatar_url: str | None
    kyc_status: str
    onboarding_completed: bool
    created_at: datetime
    updated_at: datetime
    first_name: str | None
    last_name: str | None
    status: str
    onboarding_status: Literal["pending", "in_progress", "completed"]
    legal_name: str | None
    dba_name: str | None
    website: str | None
    address: AddressOut


class ProfileUpdate(CamelModel):
    """Only the fields sent change; `null` clears an optional field."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    country: str | None = Field(default=None, max_length=2)
    timezone: str | None = Field(default=None, max_length=64)
    legal_name: str | None = Field(default=None, max_length=200)
    dba_name: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    address: Address | None = None


class AvatarOut(ResponseModel):
    avatar_url: str


class ContractorSummary(ResponseModel):
    """What a client may see of its contractors (seed 000 access table): never bank or tax."""

    id: uuid.UUID
    name: str | None
    country: str | None
    kyc_status: str
    onboarding_status: str


# --- bank accounts ----------------------------------------------------------------------


class BankAccountCreate(CamelModel):
    account_holder_name: str = Field(min_length=1, max_length=200)
    bank_name: str = Field(min_length=1, max_length=200)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    account_type: Literal["checking", "savings"] = "checking"
    swift_code: str | None = Field(default=None, max_length=20)
    iban: str | None = Field(default=None, max_length=50)
    account_number: str | None = Field(default=None, max_length=40)
    routing_number: str | None = Field(default=None, max_length=20)


class BankDetailsPut(CamelModel):
    """Seed 000's body; the holder defaults to the contractor's legal name."""

    bank_name: str = Field(min_length=1, max_length=200)
    account_number: str | None = Field(default=None, max_length=40)
    routing_number: str | None = Field(default=None, max_length=20)
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    account_holder_name: str | None = Field(default=None, min_length=1, max_length=200)
    country: str | None = Field(default=None, pattern=r"^[A-Za-z]{2}$")
    swift_code: str | None = Field(default=None, max_length=20)
    iban: str | None = Field(default=None, max_length=50)


class BankDetails(ResponseModel):
    """Exactly seed 000's `GET /api/contractors/me/bank-details`."""

    model_config = seed_example({
        "id": EXAMPLE_ID, "bankName": "National Bank of Egypt", "accountNumber": "****1234",
        "routingNumber": "****5678", "currency": "USD", "status": "verified",
        "createdAt": "2024-01-01T00:00:00Z",
    })

    id: uuid.UUID
    bank_name: str
    account_number: str | None
    routing_number: str | None
    currency: str
    status: str
    created_at: datetime


class BankAccount(ResponseModel):
    id: uuid.UUID
    account_holder_name: str
    bank_name: str
    currency: str
    country: str
    account_type: str
    swift_code: str | None
    iban: str | None
    account_number: str | None
    routing_number: str | None
    is_primary: bool
    status: str
    verification_method: str
    verification_attempts_left: int
    name_mismatch: bool
    verified_at: datetime | None
    created_at: datetime


class VerifyDeposits(CamelModel):
    """The two micro-deposit amounts as seen on the bank statement, in minor units (cents)."""

    amounts: list[Annotated[StrictInt, Field(le=2**31)]] = Field(min_length=2, max_length=2)

    @field_validator("amounts")
    @classmethod
    def _range(cls, value: list[StrictInt]) -> list[StrictInt]:
        if any(a < 1 or a > 99 for a in value):
            raise ValueError("each amount is between 1 and 99 minor units")
        return value


# --- tax --------------------------------------------------------------------------------

TaxFormType = Literal["W-9", "W-8BEN", "W-8BEN-E"]
EntityType = Literal["individual", "entity"]


class TaxInfo(ResponseModel):
    model_config = seed_example({
        "id": EXAMPLE_ID, "taxId": "****6789", "taxCountry": "EG", "taxFormType": "W-8BEN",
        "entityType": "individual",
        "taxFormUrl": "/files/contractors/…/tax/….pdf?exp=1704070800&sig=…",
        "taxFormUrlExpiresAt": "2024-01-01T01:00:00Z", "status": "pending_review",
        "submittedAt": "2024-01-01T00:00:00Z", "expiresAt": "2026-12-31T23:59:59Z",
        "reviewedAt": None, "reviewReason": None,
    })

    id: uuid.UUID
    tax_id: str
    tax_country: str
    tax_form_type: str
    entity_type: str
    tax_form_url: str | None
    tax_form_url_expires_at: datetime | None
    status: str
    submitted_at: datetime
    expires_at: datetime | None
    reviewed_at: datetime | None
    review_reason: str | None


class TaxReview(CamelModel):
    decision: Literal["approved", "rejected"]
    reason: str | None = Field(default=None, max_length=1000)


# --- licences and insurance -------------------------------------------------------------


class LicenseIn(CamelModel):
    state: str = Field(min_length=1, max_length=100)
    license_number: str = Field(min_length=1, max_length=100)
    license_type: str | None = Field(default=None, max_length=100)
    expiration_date: date | None = None


class LicenseUpdate(CamelModel):
    state: str | None = Field(default=None, min_length=1, max_length=100)
    license_number: str | None = Field(default=None, min_length=1, max_length=100)
    license_type: str | None = Field(default=None, max_length=100)
    expiration_date: date | None = None


class License(ResponseModel):
    id: uuid.UUID
    state: str
    license_number: str
    license_type: str | None
    expiration_date: date | None
    status: str
    verified_at: datetime | None
    document_id: uuid.UUID | None = None  # the attached scan (`GET .../{id}/document`)
    created_at: datetime
    updated_at: datetime


class LicenseReview(CamelModel):
    decision: Literal["verified", "unverified"]


class InsuranceReview(CamelModel):
    decision: Literal["verified", "failed"]


Coverage = Literal["gl", "wc", "auto", "umbrella"]


class InsuranceIn(CamelModel):
    provider: Literal["trustlayer", "veriforce", "manual"] = "manual"
    policy_number: str = Field(min_length=1, max_length=100)
    coverage_types: list[Coverage] = Field(min_length=1, max_length=4)
    expiration_date: date
    additional_insured: StrictBool = False

    @field_validator("coverage_types")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("each coverage type at most once")
        return value


class InsuranceUpdate(CamelModel):
    provider: Literal["trustlayer", "veriforce", "manual"] | None = None
    policy_number: str | None = Field(default=None, min_length=1, max_length=100)
    coverage_types: list[Coverage] | None = Field(default=None, min_length=1, max_length=4)
    expiration_date: date | None = None
    additional_insured: StrictBool | None = None


class InsurancePolicy(ResponseModel):
    id: uuid.UUID
    provider: str
    policy_number: str
    coverage_types: list[str]
    expiration_date: date
    verification_status: str
    additional_insured: bool
    last_checked_at: datetime | None
    document_id: uuid.UUID | None = None  # the attached certificate
    created_at: datetime
    updated_at: datetime


# --- documents, onboarding, achievements ------------------------------------------------


class Document(ResponseModel):
    id: uuid.UUID
    type: str
    name: str
    mime_type: str
    size: int
    sha256: str
    download_url: str
    expires_at: datetime
    created_at: datetime
    # A licence's scan or a policy's certificate that a newer upload replaced: kept (it is
    # what was reviewed before), but no longer the credential's current document.
    replaced: bool = False


class OnboardingStep(ResponseModel):
    key: str
    title: str
    status: Literal["not_started", "in_progress", "completed"]
    validation_errors: list[str]


class Onboarding(ResponseModel):
    current_step: str | None
    completed_steps: list[str]
    steps: list[OnboardingStep]
    completed: bool


class AchievementOut(ResponseModel):
    key: str
    title: str
    description: str
    category: str
    progress: int
    max_progress: int
    unlocked_at: datetime | None
