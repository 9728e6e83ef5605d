"""Request and response shapes (seed 000 Notification Service, seed 001/002 tables)."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StrictBool, StrictInt

from mindlinks.platform.api import (
    EXAMPLE_ID,
    EXAMPLE_ID_2,
    EXAMPLE_ID_3,
    MAX_INT64,
    CamelModel,
    PageParams,
    ResponseModel,
    seed_example,
)

ChannelName = Literal["email", "sms", "in_app"]
Frequency = Literal["immediate", "daily", "weekly"]
PreviewValue = (Annotated[str, Field(max_length=2000)] | StrictBool
                | Annotated[StrictInt, Field(ge=-MAX_INT64, le=MAX_INT64)] | float | None)


class NotificationOut(ResponseModel):
    id: uuid.UUID
    type: str
    title: str
    message: str
    read: bool
    data: dict[str, Any]
    action_url: str | None = None
    created_at: datetime


class InboxMeta(ResponseModel):
    total: int
    unread: int
    page: int
    limit: int
    total_pages: int


class NotificationPage(ResponseModel):
    model_config = seed_example({
        "data": [
            {"id": EXAMPLE_ID, "type": "payment_received", "title": "Payment Received",
             "message": "You received $5,000 from ABC Corp", "read": False,
             "data": {"paymentId": EXAMPLE_ID_2, "contractId": EXAMPLE_ID_3, "amount": 5000.00},
             "createdAt": "2024-12-01T00:00:00Z"},
            {"id": EXAMPLE_ID_2, "type": "contract_ready_to_sign",
             "title": "Contract Ready for Signature",
             "message": "XYZ Ltd has sent you a new contract", "read": True,
             "data": {"contractId": EXAMPLE_ID_3}, "createdAt": "2024-11-30T00:00:00Z"},
        ],
        "meta": {"total": 15, "unread": 3, "page": 1, "limit": 20, "totalPages": 1},
    })

    data: list[NotificationOut]
    meta: InboxMeta

    @classmethod
    def build(cls, rows: list[Any], total: int, unread: int, params: PageParams
              ) -> NotificationPage:
        return cls(
            data=[NotificationOut.model_validate(r) for r in rows],
            meta=InboxMeta(total=total, unread=unread, page=params.page, limit=params.limit,
                           total_pages=math.ceil(total / params.limit) if total else 0),
        )


class MarkedRead(ResponseModel):
    id: uuid.UUID
    read: bool


class AllMarkedRead(ResponseModel):
    message: str
    count: int


class Preferences(ResponseModel):
    email_enabled: bool
    sms_enabled: bool
    push_enabled: bool
    in_app_enabled: bool
    digest_frequency: Frequency
    opt_outs: dict[str, list[ChannelName]]
    security_types: list[str] = Field(
        description="Notification types that are always sent in-app and by email.")
    language: str | None = Field(
        default=None, description="The pages' language (`en`, `ar`); null = the browser's.")


class PreferencesUpdate(CamelModel):
    email_enabled: StrictBool | None = None
    sms_enabled: StrictBool | None = None
    push_enabled: StrictBool | None = None
    in_app_enabled: StrictBool | None = None
    digest_frequency: Frequency | None = None
    language: Literal["en", "ar"] | None = None
    opt_outs: dict[Annotated[str, Field(max_length=100)],
                   Annotated[list[ChannelName], Field(max_length=3)]] | None = Field(
        default=None, max_length=100)


class TemplateOut(ResponseModel):
    id: uuid.UUID
    name: str
    type: str
    language: str  # the recipients' language this version is for: "en" or "ar"
    subject: str | None
    body: str
    text_body: str | None
    variables: list[str]
    created_at: datetime
    updated_at: datetime


class TemplateUpdate(CamelModel):
    subject: str | None = Field(default=None, max_length=300)
    body: str = Field(min_length=1, max_length=100_000)
    text_body: str | None = Field(default=None, max_length=100_000)


class TemplatePreviewRequest(CamelModel):
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=100_000)
    text_body: str | None = Field(default=None, max_length=100_000)
    # Sample values for the preview: plain values, as events carry.
    variables: dict[Annotated[str, Field(max_length=100)], PreviewValue] = Field(
        default_factory=dict, max_length=100)
    locale: str | None = Field(default=None, max_length=20)
    timezone: str | None = Field(default=None, max_length=64)


class TemplatePreview(ResponseModel):
    subject: str | None
    body: str
    text_body: str | None


class DeliveryOut(ResponseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    notification_id: uuid.UUID | None
    event_id: uuid.UUID | None
    type: str
    channel: str
    recipient: str
    subject: str | None
    status: str
    attempts: int
    last_error: str | None
    provider_message_id: str | None
    next_attempt_at: datetime
    sent_at: datetime | None
    created_at: datetime


class UnsubscribeResult(ResponseModel):
    message: str
    type: str
