"""Request and response bodies of the clients domain (camelCase JSON).

Responses never carry a company's full tax id (only `****1234`), an invitation token or its
hash, nor any of a contractor's bank or tax data.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import pycountry
from pydantic import EmailStr, Field, StrictInt, field_validator

from mindlinks.platform.api import CamelModel, ResponseModel

BusinessType = Literal[
    "sole_proprietorship", "partnership", "llc", "corporation", "nonprofit", "other"
]
DocumentType = Literal[
    "incorporation_certificate", "proof_of_address", "tax_registration",
    "articles_of_association", "director_id", "other",
]
ReviewDecision = Literal["approve", "reject"]


def _country_code(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code")
    return code


class Address(CamelModel):
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str = Field(max_length=8)

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        return _country_code(v)


class CompanyCreate(CamelModel):
    legal_name: str = Field(min_length=1, max_length=200)
    trading_name: str | None = Field(default=None, max_length=200)
    country: str = Field(max_length=8)
    tax_id: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$")
    business_type: BusinessType
    address: Address
    # The number in the company register (Companies House, HRB, ...): lets the registry
    # check look the company up directly instead of searching by name.
    company_number: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$"
    )
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        return _country_code(v)


class CompanyUpdate(CamelModel):
    """Partial update: fields left out keep their value. Changing what identifies the company
    (legal name, country, tax id, company number) sends it back to verification."""

    legal_name: str | None = Field(default=None, min_length=1, max_length=200)
    trading_name: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, max_length=8)
    tax_id: str | None = Field(
        default=None, min_length=4, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$"
    )
    business_type: BusinessType | None = None
    address: Address | None = None
    company_number: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$"
    )
    website: str | None = Field(default=None, max_length=300, pattern=r"^https?://\S+$")
    # Days from an invoice's issue to its due date.
    invoice_net_terms_days: StrictInt | None = Field(default=None, ge=0, le=120)

    @field_validator("country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        return None if v is None else _country_code(v)


class Company(ResponseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    legal_name: str
    trading_name: str | None
    country: str
    tax_id: str  # masked: ****1234
    business_type: str
    company_number: str | None
    address: dict[str, Any]
    website: str | None
    logo_url: str | None
    verification_status: str
    verification_reason: str | None
    verified_at: datetime | None
    registry_status: str | None
    registry_checked_at: datetime | None
    business_registry_data: dict[str, Any] | None
    invoice_net_terms_days: int
    created_at: datetime
    updated_at: datetime


class LogoUploaded(ResponseModel):
    logo_url: str
    expires_at: datetime


class ReviewRequest(CamelModel):
    decision: ReviewDecision
    reason: str | None = Field(default=None, max_length=500)


class Document(ResponseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    type: str
    name: str
    mime_type: str
    size: int
    status: str
    review_reason: str | None
    reviewed_by: uuid.UUID | None
    reviewed_at: datetime | None
    download_url: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime


class InvitationCreate(CamelModel):
    email: EmailStr = Field(max_length=320)
    name: str | None = Field(default=None, max_length=200)
    message: str | None = Field(default=None, max_length=2000)


class Invitation(ResponseModel):
    id: uuid.UUID
    client_id: uuid.UUID
    email: str
    name: str | None
    message: str | None
    status: str
    expires_at: datetime
    sent_at: datetime
    send_count: int
    accepted_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime
    updated_at: datetime


class PublicInvitation(ResponseModel):
    """What the holder of an invitation link sees before accepting."""

    company_name: str
    company_logo_url: str | None
    email: str
    name: str | None
    message: str | None
    status: str
    expires_at: datetime


class AcceptInvitation(CamelModel):
    """For someone without an account: the new contractor account's password and name.
    A signed-in contractor sends no body."""

    password: str | None = Field(default=None, min_length=1, max_length=1024)
    name: str | None = Field(default=None, min_length=1, max_length=200)


class InvitationAccepted(ResponseModel):
    client_id: uuid.UUID
    company_name: str
    contractor_id: uuid.UUID
    # Set when the acceptance created the account: the new contractor is signed in.
    access_token: str | None = None
    refresh_token: str | None = None
    token_type: Literal["Bearer"] | None = None
    expires_in: int | None = None


class ClientContractor(ResponseModel):
    """A client's view of one of its contractors: only what a client may see of a contractor
    (name, country, verification and onboarding state), never bank or tax data."""

    id: uuid.UUID  # the contractor's id
    name: str | None
    country: str | None
    kyc_status: str | None
    onboarding_status: str | None
    linked_at: datetime
