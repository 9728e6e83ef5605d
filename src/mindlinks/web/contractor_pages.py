"""The contractor's dashboard pages: home (the seed's four widgets, active contracts, recent
activity, onboarding checklist), timesheets (a weekly grid per contract: save, submit, status
and rejection reasons), milestones (submit), earnings (SVG charts with data tables) and the
wallet (balances, payment history).

Every read and write goes through the owning domain's service, with the API's rules: another
contractor's contract, timesheet or milestone is the same 404 page as one that does not exist.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from mindlinks.contracts import service as contracts
from mindlinks.contracts.schemas import MilestoneSubmit
from mindlinks.payments import service as payments
from mindlinks.platform.api import SessionDep, domain_router, request_session
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.runtime import RuntimeDep
from mindlinks.platform.security import Actor, Role
from mindlinks.platform.storage import get_storage
from mindlinks.timesheets import service as timesheets
from mindlinks.timesheets.schemas import EntryIn, TimesheetCreate, TimesheetUpdate
from mindlinks.web import charts, checklists, home
from mindlinks.web.dash import (
    Denied,
    form_of,
    not_found,
    parse_id,
    render_template,
    signed_in,
    template,
    text,
)
from mindlinks.web.i18n import gettext, keep_preference, money, remember_preference
from mindlinks.web.pages import discard, field_errors, redirect, render

router = domain_router(include_in_schema=False)
HOME_PAGE = template("money/contractor_home.html")
LIST_LIMIT = 50
EDITABLE = {"draft", "pending", "rejected"}
LOCKED = {"approved", "paid"}
PERIODS = ("all", "year", "month", "week")


async def _contractor(request: Request) -> Actor:
    return await signed_in(request, Role.CONTRACTOR)


# --- home ---------------------------------------------------------------------------------


@router.get("/contractor", response_class=HTMLResponse)
async def contractor_home(request: Request) -> Response:
    """One statement whatever the number of contracts or notifications (`web/home.py`), on a
    pooled connection: the route opens no session (a valid access token needs none either)."""
    try:
        actor = await signed_in(request, Role.CONTRACTOR, preference=False)
    except Denied as denied:
        return denied.response
    data = await home.read(request.app.state.db, actor.user_id, actor.contractor_id)
    if data is None:  # no profile: no row, so no language read either
        await remember_preference(request, request_session(request), actor)
        return not_found(request, actor)
    keep_preference(request, data.language)
    return render_template(request, HOME_PAGE, {
        "user": {"name": data.user_name}, "kyc_status": data.kyc_status,
        "profile_status": data.profile_status,
        "checklist": data.checklist, "contracts": data.contracts,
        "step_pages": checklists.CONTRACTOR_STEP_PAGES,
        "more_pages": checklists.CONTRACTOR_MORE_PAGES,
        "contracts_total": data.contracts_total, "active": data.active,
        "earnings": data.earnings, "inbox": data.inbox,
    }, actor=actor)


# --- timesheets ---------------------------------------------------------------------------


# The week is the domain's (timesheets/entries.py), which is the seed's: `weekEnding` is a
# Saturday (seed 000 table contract-timesheets, "YYYY-MM-DD (Saturday)") and the week is the
# seven days Sunday..Saturday ending on it. The grid takes both ends from the domain.
def _saturday(day: date) -> date:
    """The `weekEnding` of the week holding `day`."""
    return day + timedelta(days=(timesheets.SATURDAY - day.weekday()) % 7)


def _week_days(week: date) -> list[date]:
    first = timesheets.week_start(week)
    return [first + timedelta(days=i) for i in range(7)]


def _week_param(value: str | None) -> date:
    try:
        return _saturday(date.fromisoformat((value or "")[:10]))
    except ValueError:
        return _saturday(utcnow().date())


async def _hourly_contracts(session: SessionDep, request: Request, actor: Actor) -> list[Any]:
    items, _ = await contracts.views.contract_page(
        session, actor, get_storage(request.app.state), status="active", offset=0,
        limit=LIST_LIMIT)
    return [c for c in items if c.type == "hourly"]


async def _week_rows(session: SessionDep, actor: Actor, contract_id: uuid.UUID,
                     week: date) -> tuple[Any, list[Any]]:
    """The regular timesheet of that contract and week (or None), and its amendments."""
    rows, _ = await timesheets.page(session, actor, contract_id=contract_id, status="all",
                                    start=week, end=week, offset=0, limit=20)
    regular = [r for r in rows if r.amends_id is None]
    return (regular[0] if regular else None), [r for r in rows if r.amends_id is not None]


async def _week_sheet(session: SessionDep, actor: Actor, contract_id: uuid.UUID,
                      week: date) -> Any:
    return (await _week_rows(session, actor, contract_id, week))[0]


async def _timesheet_page(request: Request, session: SessionDep, actor: Actor, *,
                          contract_id: uuid.UUID | None, week: date,
                          posted: dict[str, str] | None = None, errors: list[str] | None = None,
                          status_code: int = 200) -> Response:
    contracts = await _hourly_contracts(session, request, actor)
    chosen = next((c for c in contracts if c.id == contract_id), None) if contract_id else None
    chosen = chosen or (contracts[0] if contracts else None)
    sheet, amendments = (await _week_rows(session, actor, chosen.id, week)) if chosen \
        else (None, [])
    # An approved (or paid) week is corrected by an amendment: a new, empty grid.
    amending = bool(sheet is not None and sheet.status in LOCKED
                    and (request.query_params.get("amend") or (posted or {}).get("action")
                         == "amend"))
    entries = {e["date"]: e for e in sheet.entries} if sheet and not amending else {}
    days = []
    for day in _week_days(week):
        key = day.isoformat()
        entry = entries.get(key)
        hours = posted.get(f"hours-{key}", "") if posted is not None else (
            f'{timesheets.hours_of(entry["hundredths"]).normalize():f}'
            if entry else "")
        desc = posted.get(f"desc-{key}", "") if posted is not None else (
            entry["description"] if entry else "")
        days.append({"date": day, "key": key, "hours": hours, "description": desc})
    rows, total = await timesheets.page(session, actor, contract_id=None, status="all",
                                        start=None, end=None, offset=0, limit=20)
    recent = await timesheets.many_out(session, rows)
    shown = await timesheets.many_out(session, [*([sheet] if sheet else []),
                                                             *amendments])
    current = shown[0] if sheet else None
    return render(request, "money/timesheets.html", {
        "contracts": contracts, "contract": chosen, "week": week, "days": days,
        "sheet": current, "amending": amending, "amendments": shown[1:] if sheet else [],
        "editable": amending or current is None or current.status in EDITABLE,
        "notes": posted.get("notes", "") if posted is not None else (
            current.notes or "" if current and not amending else ""),
        "prev_week": week - timedelta(days=7), "next_week": week + timedelta(days=7),
        "recent": recent, "recent_total": total, "errors": errors,
        "saved": request.query_params.get("saved"),
    }, actor=actor, status_code=status_code)


@router.get("/timesheets", response_class=HTMLResponse)
async def timesheets_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    contract_id = parse_id(request.query_params.get("contract", ""))
    return await _timesheet_page(request, session, actor, contract_id=contract_id,
                                 week=_week_param(request.query_params.get("week")))


class FormInvalid(Exception):
    def __init__(self, errors: list[str]) -> None:
        self.errors = errors


def _entries(form: Any, week: date) -> list[EntryIn]:
    entries, errors = [], []
    for day in _week_days(week):
        key = day.isoformat()
        raw = text(form, f"hours-{key}", 10).strip().replace(",", ".")
        if not raw:
            continue
        try:
            hours = Decimal(raw)
        except InvalidOperation:
            errors.append(gettext("%(date)s: hours must be a number") % {"date": key})
            continue
        entries.append(EntryIn(date=date.fromisoformat(key), hours=hours,
                               description=text(form, f"desc-{key}", 500)))
    if errors:
        raise FormInvalid(errors)
    if not entries:
        raise FormInvalid([gettext("Enter the hours of at least one day")])
    return entries


@router.post("/timesheets", response_class=HTMLResponse)
async def timesheets_submit(request: Request, session: SessionDep, rt: RuntimeDep) -> Response:
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    contract_id = parse_id(text(form, "contract_id", 40))
    week = _week_param(text(form, "week_ending", 10))
    action = text(form, "action", 10)
    submit = action in ("submit", "amend")
    notes = text(form, "notes", 2000) or None
    if contract_id is None:
        return not_found(request, actor)
    try:
        entries = _entries(form, week)
        sheet = await _week_sheet(session, actor, contract_id, week)
        if action == "amend":
            if sheet is None or sheet.status not in LOCKED:
                raise FormInvalid([gettext("Only an approved week is corrected by an "
                                           "amendment")])
            await timesheets.create_timesheet(session, actor, TimesheetCreate(
                contract_id=contract_id, week_ending=week, entries=entries, notes=notes,
                amends_id=sheet.id), due_days=rt.settings.timesheet_due_days)
        elif sheet is None:
            await timesheets.create_timesheet(session, actor, TimesheetCreate(
                contract_id=contract_id, week_ending=week, entries=entries, notes=notes,
                status="pending" if submit else "draft"), due_days=rt.settings.timesheet_due_days)
        else:
            await timesheets.update_timesheet(session, actor, sheet.id,
                                              TimesheetUpdate(entries=entries, notes=notes))
            if submit and sheet.status == "draft":
                await timesheets.submit_timesheet(session, actor, sheet.id)
    except NotFound as exc:  # another contractor's contract: the same page as a missing one
        await discard(session, exc)
        return not_found(request, actor)
    except (DomainError, ValidationError, FormInvalid) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        errors = exc.errors if isinstance(exc, FormInvalid) else field_errors(exc)
        return await _timesheet_page(request, session, actor, contract_id=contract_id, week=week,
                                     posted={k: v for k, v in form.items()
                                             if isinstance(v, str)},
                                     errors=errors, status_code=422)
    done = "submitted" if submit else "saved"
    return redirect(request, f"/timesheets?contract={contract_id}&week={week}&saved={done}")


# --- milestones ---------------------------------------------------------------------------


@router.get("/milestones", response_class=HTMLResponse)
async def milestones_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    rows = await contracts.views.milestone_list(session, actor, statuses=None,
                                                       limit=200)
    return render(request, "money/milestones.html", {
        "rows": rows, "done": request.query_params.get("done")}, actor=actor)


@router.post("/milestones/{contract_id}/{milestone_id}/submit", response_class=HTMLResponse)
async def milestone_submit(request: Request, session: SessionDep, contract_id: str,
                           milestone_id: str) -> Response:
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    cid, mid = parse_id(contract_id), parse_id(milestone_id)
    if cid is None or mid is None:
        return not_found(request, actor)
    try:
        await contracts.milestones.submit(session, actor, cid, mid,
                                        MilestoneSubmit(note=text(form, "note", 5000) or None))
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    except DomainError as exc:
        await discard(session, exc)
        rows = await contracts.views.milestone_list(session, actor, statuses=None,
                                                           limit=200)
        return render(request, "money/milestones.html", {
            "rows": rows, "errors": field_errors(exc)}, actor=actor, status_code=409)
    return redirect(request, "/milestones?done=submitted")


# --- earnings (the wallet and withdrawals: withdraw_pages.py) ------------------------------------


@router.get("/earnings", response_class=HTMLResponse)
async def earnings_page(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    period = request.query_params.get("period", "all")
    period = period if period in PERIODS else "all"
    data = await payments.earnings(session, actor, period)
    cur = data.currency
    # The chart is drawn by the template (`bar_chart`), so its title and description go
    # through the page's translations like every other visible string.
    by_month = [charts.Bar(m.month, Decimal(str(m.amount)), money(m.amount, cur))
                for m in data.earnings_by_month]
    by_contract = [charts.Bar(c.client_name, Decimal(str(c.amount)), money(c.amount, cur))
                   for c in data.earnings_by_contract]
    return render(request, "money/earnings.html", {
        "earnings": data, "period": period, "periods": PERIODS,
        "bars_month": by_month, "bars_contract": by_contract}, actor=actor)
