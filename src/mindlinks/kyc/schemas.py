"""Request and response shapes of the KYC domain (seed 000 "KYC Service", camelCase JSON)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from mindlinks.platform.api import (
    EXAMPLE_ID,
    EXAMPLE_ID_2,
    EXAMPLE_ID_3,
    CamelModel,
    ResponseModel,
    seed_example,
)

DocumentTypeName = Literal["passport", "national_id", "drivers_license", "selfie",
                           "proof_of_address"]
DecisionName = Literal["approved", "declined", "resubmission_requested"]


class VerificationDocument(ResponseModel):
    type: str
    status: str


class VerificationResult(ResponseModel):
    status: str  # the decision: approved | declined | resubmission_requested | expired
    verified_at: datetime | None
    documents: list[VerificationDocument]


class KycStatus(ResponseModel):
    """`GET /api/kyc/contractor/me/status`. `status` is the seed's summary
    (verified | pending | rejected | not_started): an open session (pending, processing,
    resubmission_requested) reads `pending`, an expired one `not_started`."""

    model_config = seed_example({
        "status": "verified", "sessionId": EXAMPLE_ID,
        "verificationResult": {
            "status": "approved", "verifiedAt": "2024-01-05T00:00:00Z",
            "documents": [{"type": "passport", "status": "verified"},
                          {"type": "selfie", "status": "verified"}]},
        "rejectionReason": None,
    })

    status: Literal["verified", "pending", "rejected", "not_started"]
    session_id: uuid.UUID | None
    verification_result: VerificationResult | None
    rejection_reason: str | None


class StartRequest(CamelModel):
    verification_level: Literal["basic", "standard", "enhanced"] = "standard"


class StartedSession(ResponseModel):
    model_config = seed_example({"sessionId": EXAMPLE_ID,
                                 "veriffSessionUrl": "https://alchemy.veriff.com/v/...",
                                 "expiresAt": "2024-12-02T00:00:00Z"})

    session_id: uuid.UUID
    # The seed's name; it holds whichever provider's URL (the sandbox page or Veriff's).
    veriff_session_url: str | None
    expires_at: datetime


class Document(ResponseModel):
    model_config = seed_example({"id": EXAMPLE_ID, "type": "proof_of_address",
                                 "status": "pending", "uploadedAt": "2024-12-01T00:00:00Z"})

    id: uuid.UUID
    type: str
    status: str
    uploaded_at: datetime


class DocumentDownload(Document):
    """One of the contractor's own documents with a signed, expiring link to its file
    (both null once retention deleted the file)."""

    model_config = ConfigDict(json_schema_extra=None)  # not Document's example

    download_url: str | None
    expires_at: datetime | None


class DocumentList(ResponseModel):
    model_config = seed_example({"data": [
        {"id": EXAMPLE_ID_2, "type": "passport", "status": "verified",
         "uploadedAt": "2024-01-03T00:00:00Z"},
        {"id": EXAMPLE_ID_3, "type": "proof_of_address", "status": "pending",
         "uploadedAt": "2024-01-04T00:00:00Z"},
    ]})

    data: list[Document]


class AdminDocument(Document):
    model_config = ConfigDict(json_schema_extra=None)  # not Document's example

    session_id: uuid.UUID
    contractor_id: uuid.UUID
    sha256: str
    size: int
    mime: str
    original_name: str
    expiry_date: date | None
    reviewed_by: uuid.UUID | None
    reviewed_at: datetime | None
    rejection_reason: str | None
    file_deleted_at: datetime | None
    # A signed, expiring link; null once retention deleted the file.
    download_url: str | None = None
    expires_at: datetime | None = None


class AdminSession(ResponseModel):
    id: uuid.UUID
    contractor_id: uuid.UUID
    provider: str
    veriff_session_id: str | None
    status: str
    verification_level: str
    submitted_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime
    verification_result: dict[str, Any] | None
    rejection_reason: str | None
    decided_by: uuid.UUID | None
    created_at: datetime
    updated_at: datetime


class AdminSessionDetail(AdminSession):
    documents: list[AdminDocument]


class DecisionRequest(CamelModel):
    decision: DecisionName
    reason: str | None = Field(default=None, max_length=500)


class SandboxDecisionRequest(DecisionRequest):
    """The scripted sandbox decision: allowed with the session's page token (the one in the
    `veriffSessionUrl` link) or with the session owner's bearer token."""

    token: str | None = Field(default=None, max_length=128)


class DocumentReview(CamelModel):
    status: Literal["verified", "rejected"]
    reason: str | None = Field(default=None, max_length=500)


class WebhookAck(ResponseModel):
    received: bool = True
    duplicate: bool = False
    payload_id: uuid.UUID | None = None
    outcome: str  # handled | ignored | duplicate


class SandboxDecisionResult(ResponseModel):
    session_id: uuid.UUID
    status: str
    outcome: str
