"""Tables of the timesheets domain (seed 000 `contract-timesheets`).

Hours are kept as integer hundredths of an hour (`7.5` h -> 750): the API accepts at most two
decimals, so this is exact and needs no floating or database-specific decimal type. Money is
integer minor units of the contract's currency. The contract is referenced by FK (`contracts`
sits below this domain); the parties are copied from it at creation so tenant scoping is one
indexed column, without reading another domain's table.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from mindlinks.platform.db import Base, IdMixin, TimestampMixin


class TimesheetStatus(StrEnum):
    DRAFT = "draft"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"


class Timesheet(IdMixin, TimestampMixin, Base):
    __tablename__ = "contract_timesheets"
    __table_args__ = (
        # One regular timesheet per (contract, week); amendments (amends_id set) are extra rows.
        Index("uq_contract_timesheets_contract_week", "contract_id", "week_ending", unique=True,
              sqlite_where=text("amends_id IS NULL"), postgresql_where=text("amends_id IS NULL")),
        Index("ix_contract_timesheets_contractor_week", "contractor_id", "week_ending"),
        Index("ix_contract_timesheets_client_status", "client_id", "status"),
        Index("ix_contract_timesheets_contract_status_week", "contract_id", "status",
              "week_ending"),
    )

    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contracts.id"))
    contractor_id: Mapped[uuid.UUID]  # contractors' profile id
    contractor_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id"))
    client_id: Mapped[uuid.UUID]  # clients' company id
    client_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("auth_users.id"))
    week_ending: Mapped[date]  # a Saturday
    amends_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contract_timesheets.id"), index=True
    )
    # [{"date": "YYYY-MM-DD", "hundredths": 750, "description": "..."}], by date.
    entries: Mapped[list[Any]]
    total_hundredths: Mapped[int] = mapped_column(Integer)
    hourly_rate_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default=TimesheetStatus.DRAFT)
    notes: Mapped[str | None] = mapped_column(Text)
    # End of the day `timesheet_due_days` after weekEnding (UTC), fixed when the row is made.
    due_at: Mapped[datetime]
    # The first submission decides "on time": a later fix after a rejection does not make a
    # punctual contractor late.
    first_submitted_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_users.id"))
    on_time: Mapped[bool | None]
    rejected_at: Mapped[datetime | None]
    rejected_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("auth_users.id"))
    rejection_reason: Mapped[str | None] = mapped_column(String(1000))
    paid_at: Mapped[datetime | None]


class TimesheetReminder(IdMixin, TimestampMixin, Base):
    """One row per (contract, week) the reminder job has reminded about: the job's memory, so a
    second run, a late run or two workers never remind twice."""

    __tablename__ = "contract_timesheet_reminders"
    __table_args__ = (UniqueConstraint("contract_id", "week_ending"),)

    contract_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contracts.id"))
    contractor_id: Mapped[uuid.UUID]
    week_ending: Mapped[date]
    event_id: Mapped[uuid.UUID | None]
