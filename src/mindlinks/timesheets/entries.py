"""The rules a week of work must follow against its contract ("validate against contract",
seed 000 flow 4), and the arithmetic of hours and money. Pure functions: no database.

- The contract is hourly and `active` (or `terminated`: its last weeks up to the effective
  date still need timesheets).
- `weekEnding` is a Saturday; the week is the seven days Sunday..Saturday ending on it.
- Each entry's date is inside that week, inside the contract (`startDate`..`endDate` or the
  termination's effective date), and not in the future (one day of grace for time zones ahead
  of UTC); no date twice.
- `0 < hours <= 24` with at most two decimals.
- Amount: `hours x hourlyRate` with `Decimal`, in minor units, rounded once with
  ROUND_HALF_EVEN (`platform.money.Money.multiply`): 37.5 h x 50.00 = 1875.00.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from mindlinks.contracts.schemas import WorkTerms
from mindlinks.platform.errors import ValidationFailed
from mindlinks.platform.money import Money, TooManyDecimals
from mindlinks.timesheets.schemas import EntryIn

SATURDAY = 5  # date.weekday()
MAX_DAY_HUNDREDTHS = 24 * 100
WORKABLE_STATUSES = frozenset({"active", "terminated"})


class ContractNotHourly(ValidationFailed):
    code, title = "contract_not_hourly", "Timesheets are for hourly contracts"


class ContractNotActive(ValidationFailed):
    code, title = "contract_not_active", "The contract is not active"


class InvalidWeekEnding(ValidationFailed):
    code, title = "invalid_week_ending", "weekEnding must be a Saturday"


class WeekOutsideContract(ValidationFailed):
    code, title = "week_outside_contract", "The week is outside the contract's dates"


class InvalidEntry(ValidationFailed):
    code, title = "invalid_entry", "Invalid timesheet entry"


class InvalidHours(InvalidEntry):
    code, title = "invalid_hours", "Invalid hours"


class EntryOutsideWeek(InvalidEntry):
    code, title = "entry_outside_week", "The entry is outside the week"


class EntryOutsideContract(InvalidEntry):
    code, title = "entry_outside_contract", "The entry is outside the contract's dates"


class FutureEntry(InvalidEntry):
    code, title = "future_entry", "The entry is in the future"


class DuplicateEntryDate(InvalidEntry):
    code, title = "duplicate_entry_date", "A day appears twice"


class TooManyHours(InvalidEntry):
    code, title = "too_many_hours", "More than 24 hours in a day"


def _fail(cls: type[ValidationFailed], detail: str, field: str) -> ValidationFailed:
    return cls(detail, errors=[{"field": field, "message": detail, "code": cls.code}])


def week_start(week_ending: date) -> date:
    return week_ending - timedelta(days=6)


def due_at(week_ending: date, due_days: int) -> datetime:
    """The end (UTC) of the day `due_days` after `week_ending`: by default the Monday after."""
    return datetime.combine(week_ending + timedelta(days=due_days + 1), time.min, tzinfo=UTC)


def check_contract(terms: WorkTerms) -> None:
    if terms.type != "hourly":
        raise _fail(ContractNotHourly, "Only hourly contracts take timesheets", "contractId")
    if terms.status not in WORKABLE_STATUSES:
        raise _fail(ContractNotActive, f"The contract is {terms.status}", "contractId")


def check_week(terms: WorkTerms, week_ending: date) -> None:
    if week_ending.weekday() != SATURDAY:
        raise _fail(InvalidWeekEnding, "weekEnding must be a Saturday", "weekEnding")
    if week_ending < terms.start_date or (
            terms.last_day is not None and week_start(week_ending) > terms.last_day):
        raise _fail(WeekOutsideContract, "The week does not overlap the contract's dates",
                    "weekEnding")


def hundredths(hours: Decimal, field: str) -> int:
    """Hours as integer hundredths; 422 `invalid_hours` outside (0, 24], `too_many_decimals`
    beyond two decimals."""
    if not hours > 0 or hours > 24:
        raise _fail(InvalidHours, "hours must be more than 0 and at most 24", field)
    scaled = hours * 100
    if scaled != scaled.to_integral_value():
        raise _fail(TooManyDecimals, "hours have at most two decimals", field)
    return int(scaled)


@dataclass(frozen=True)
class Week:
    entries: list[dict[str, Any]]  # stored shape, by date
    total_hundredths: int


def check_entries(
    terms: WorkTerms, week_ending: date, entries: Sequence[EntryIn], today: date
) -> Week:
    first, seen = week_start(week_ending), set()
    rows: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        field = f"entries[{i}]"
        if not first <= entry.date <= week_ending:
            raise _fail(EntryOutsideWeek, f"{entry.date} is not in the week ending {week_ending}",
                        f"{field}.date")
        if entry.date < terms.start_date or (terms.last_day is not None
                                             and entry.date > terms.last_day):
            raise _fail(EntryOutsideContract, f"{entry.date} is outside the contract's dates",
                        f"{field}.date")
        if entry.date > today + timedelta(days=1):
            raise _fail(FutureEntry, f"{entry.date} is in the future", f"{field}.date")
        if entry.date in seen:
            raise _fail(DuplicateEntryDate, f"{entry.date} appears twice", f"{field}.date")
        seen.add(entry.date)
        rows.append({"date": entry.date.isoformat(),
                     "hundredths": hundredths(entry.hours, f"{field}.hours"),
                     "description": entry.description})
    rows.sort(key=lambda r: str(r["date"]))
    return Week(rows, sum(int(r["hundredths"]) for r in rows))


def check_day_totals(week: Week, others: Sequence[Sequence[dict[str, Any]]]) -> None:
    """A day's hours across the week's regular timesheet and its amendments stay <= 24."""
    per_day: dict[str, int] = {}
    for entries in [*others, week.entries]:
        for e in entries:
            per_day[e["date"]] = per_day.get(e["date"], 0) + int(e["hundredths"])
    for day, total in sorted(per_day.items()):
        if total > MAX_DAY_HUNDREDTHS:
            raise _fail(TooManyHours, f"{day} would have more than 24 hours with this week's "
                        "other timesheets", "entries")


def hours_of(hundredths_: int) -> Decimal:
    return (Decimal(hundredths_) / 100).quantize(Decimal("0.01"))


def amount_minor(rate_minor: int, currency: str, total_hundredths: int) -> int:
    """hours x rate in minor units, one ROUND_HALF_EVEN rounding (see module docstring)."""
    return Money(rate_minor, currency).multiply(Decimal(total_hundredths) / 100).minor


def entries_hash(entries: Sequence[dict[str, Any]]) -> str:
    """SHA-256 of the entries' canonical JSON (sorted keys, no spaces): what the journal keeps
    instead of the descriptions, which may name people."""
    data = json.dumps(list(entries), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()
