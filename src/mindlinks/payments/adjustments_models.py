"""Table of large admin balance adjustments waiting for a second admin (maker-checker,
RELIABILITY 31): `payment_adjustment_requests`.

One row per adjustment above `Settings.adjustment_approval_minor`. Nothing moves while it is
`pending`; an approval by another admin executes it through the same code path as an
immediate adjustment, naming the transfer here. The reason is kept here (it may name people:
this table can be erased, the journal only ever holds its hash).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin


class AdjustmentRequestStatus(StrEnum):
    PENDING = "pending"    # waiting for another admin; nothing moved
    APPROVED = "approved"  # executed: `transfer_id` names the transfer
    REJECTED = "rejected"  # refused (or withdrawn by its requester); nothing moved
    # A pending row past `expires_at`: shown as expired and refused at decision time (the
    # column keeps `pending`: a refused decision rolls its transaction back).
    EXPIRED = "expired"


class AdjustmentRequest(IdMixin, TimestampMixin, Base):
    __tablename__ = "payment_adjustment_requests"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        Index("ix_payment_adjustment_requests_status", "status", "created_at"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)  # signed minor units: + credits the account
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(500))
    requested_by: Mapped[uuid.UUID]  # the admin's user id
    status: Mapped[str] = mapped_column(String(20), default=AdjustmentRequestStatus.PENDING)
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    transfer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_transfers.id"))
    expires_at: Mapped[datetime]
