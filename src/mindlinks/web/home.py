"""The contractor home's data (seed 000: profile status, earnings summary, contracts list,
wallet balance, active contracts, recent activity; the onboarding checklist) in ONE statement,
compiled once per dialect and run on a pooled driver connection (`platform.db.RawQuery`):
no session, no ORM entity, no Pydantic model on the page's path.

Each domain owns its part (`<domain>.service.page_reads`: Core selectables, no I/O); this
module only joins them: the one-row parts (profile with its onboarding facts, earnings) side
by side, and the two lists (newest contracts, newest notifications) lined up by position on
`HOME_ROWS` numbered slots, so the statement returns at most `HOME_ROWS` rows whatever the
contractor has. No profile: no row (the page's 404)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Date, Uuid, bindparam, literal_column, select, true, union_all

from mindlinks.auth import service as auth
from mindlinks.clients import service as clients
from mindlinks.contractors import service as contractors
from mindlinks.contracts import service as contracts
from mindlinks.notifications import service as notifications
from mindlinks.payments import service as payments
from mindlinks.platform.db import Database, RawQuery, UTCDateTime, utcnow
from mindlinks.platform.money import from_minor

HOME_CONTRACTS = 6
HOME_ACTIVITY = 5
HOME_ROWS = max(HOME_CONTRACTS, HOME_ACTIVITY)
_PROFILE = (*contractors.page_reads.PROFILE_COLUMNS, "bank_usable", "bank_any", "tax_status")
_CONTRACT = (*contracts.page_reads.HOME_COLUMNS, "next_payment_date", "total")
_MONEY = payments.page_reads.COLUMNS
_NOTE = notifications.page_reads.ACTIVITY_COLUMNS


def _statement() -> Any:
    user = bindparam("user_id", type_=Uuid())
    contractor = bindparam("contractor_id", type_=Uuid())
    month, last_month = (bindparam(n, type_=UTCDateTime()) for n in ("month", "last_month"))
    profile = contractors.page_reads.home_profile(user)
    money = payments.page_reads.home_earnings(contractor, month, last_month)
    page = contracts.page_reads.home_contracts(contractor, bindparam("today", type_=Date()),
                                               HOME_CONTRACTS)
    recent = notifications.page_reads.recent(user, HOME_ACTIVITY)
    notes_total, unread = notifications.page_reads.inbox_counts(user)
    slots = union_all(*(select(literal_column(str(n)).label("n"))
                        for n in range(1, HOME_ROWS + 1))).subquery("slots")
    return (
        select(*(profile.c[c].label(f"p_{c}") for c in _PROFILE),
               auth.page_reads.user_name(user).label("user_name"),
               notifications.page_reads.language(user).label("language"),
               notes_total.label("notes_total"), unread.label("notes_unread"),
               *(money.c[c].label(f"m_{c}") for c in _MONEY),
               *(page.c[c].label(f"c_{c}") for c in _CONTRACT),
               clients.page_reads.company_name(page.c.client_id).label("c_client_name"),
               *(recent.c[c].label(f"n_{c}") for c in _NOTE))
        .select_from(profile.join(money, true()).join(slots, true())
                     .outerjoin(page, page.c.position == slots.c.n)
                     .outerjoin(recent, recent.c.position == slots.c.n))
        .order_by(slots.c.n))


class _Query(RawQuery):
    """A RawQuery whose statement also carries constants (a status compared with, a LIMIT):
    their values are read off the compiled statement once per dialect."""

    def __init__(self, statement: Any) -> None:
        super().__init__(statement)
        self._constants: dict[str, dict[str, Any]] = {}

    async def rows(self, db: Database, **params: Any) -> list[dict[str, Any]]:
        dialect = db.engine.dialect
        constants = self._constants.get(dialect.name)
        if constants is None:
            binds = self.statement.compile(dialect=dialect).binds
            constants = self._constants[dialect.name] = {
                name: b.value for name, b in binds.items() if not b.required}
        return await self.all(db, **constants, **params)


_HOME = _Query(_statement())


@dataclass(frozen=True)
class Home:
    """What the page shows (the template's names)."""

    user_name: str | None
    language: str | None
    kyc_status: str
    checklist: SimpleNamespace
    profile_status: str
    contracts: list[SimpleNamespace]
    contracts_total: int
    earnings: SimpleNamespace
    inbox: SimpleNamespace

    @property
    def active(self) -> list[SimpleNamespace]:
        return [c for c in self.contracts if c.status == "active"]


def _month_starts(today: date) -> tuple[datetime, datetime]:
    this = today.replace(day=1)
    last = (this - timedelta(days=1)).replace(day=1)
    return datetime.combine(this, time.min, UTC), datetime.combine(last, time.min, UTC)


async def read(db: Database, user_id: uuid.UUID, contractor_id: uuid.UUID | None) -> Home | None:
    """The home of this contractor (the profile of `user_id`; `contractor_id` is the same
    profile's id, from the login), or None without a profile."""
    today = utcnow().date()
    month, last_month = _month_starts(today)
    rows = await _HOME.rows(db, user_id=user_id, contractor_id=contractor_id or uuid.UUID(int=0),
                            today=today, month=month, last_month=last_month)
    if not rows:
        return None
    first = rows[0]
    steps = contractors.page_reads.home_checklist({c: first[f"p_{c}"] for c in _PROFILE})
    currency = first["m_currency"]
    earnings = SimpleNamespace(currency=currency, **{
        name: from_minor(int(first[f"m_{column}"]), currency) for name, column in (
            ("total_earned", "earned"), ("this_month", "this_month"),
            ("last_month", "last_month"), ("pending_payments", "pending"),
            ("available_balance", "available"))})
    items = [SimpleNamespace(
        id=r["c_id"], title=r["c_title"], status=r["c_status"], type=r["c_type"],
        rate=from_minor(r["c_rate_minor"], r["c_currency"]), currency=r["c_currency"],
        frequency=r["c_frequency"], client_name=r["c_client_name"],
        next_payment_date=r["c_next_payment_date"] if r["c_status"] == "active" else None,
    ) for r in rows if r["c_id"] is not None]
    notes = [SimpleNamespace(title=r["n_title"], message=r["n_message"], read=bool(r["n_read"]),
                             action_url=r["n_action_url"], created_at=r["n_created_at"])
             for r in rows if r["n_created_at"] is not None]
    return Home(
        user_name=first["user_name"], language=first["language"],
        kyc_status=first["p_kyc_status"], checklist=SimpleNamespace(steps=steps),
        profile_status=contractors.page_reads.profile_status(steps), contracts=items,
        contracts_total=int(first["c_total"] or 0), earnings=earnings,
        inbox=SimpleNamespace(data=notes, meta=SimpleNamespace(
            total=int(first["notes_total"]), unread=int(first["notes_unread"]))))
