"""Timesheet routes (seed 000 "Contract Service" §4), and the client's review routes (not in
the seeds; they mirror the milestone routes)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Query

from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router
from mindlinks.platform.runtime import RuntimeDep
from mindlinks.platform.security import CurrentClient, CurrentContractor, CurrentUser
from mindlinks.timesheets import reviews, service, views
from mindlinks.timesheets.schemas import (
    ReviewRequest,
    ReviewResult,
    StatusFilter,
    Timesheet,
    TimesheetCreate,
    TimesheetReject,
    TimesheetUpdate,
)

router = domain_router(tags=["Contract Service"])
routers = [router]


async def _page(session: SessionDep, actor: CurrentUser, page: PageDep,
                contract_id: uuid.UUID | None, status: StatusFilter, start: date | None,
                end: date | None) -> Page[Timesheet]:
    rows, total = await service.page(session, actor, contract_id=contract_id, status=status,
                                     start=start, end=end, offset=page.offset, limit=page.limit)
    return Page[Timesheet].build(await views.many_out(session, rows), total, page)


@router.get("/api/timesheets/contractor/me", response_model=Page[Timesheet])
async def contractor_timesheets(
    session: SessionDep, actor: CurrentContractor, page: PageDep,
    contract_id: Annotated[uuid.UUID | None, Query(alias="contractId")] = None,
    status: Annotated[StatusFilter, Query()] = "all",
    start_date: Annotated[date | None, Query(alias="startDate")] = None,
    end_date: Annotated[date | None, Query(alias="endDate")] = None,
) -> Page[Timesheet]:
    """The contractor's timesheets, newest week first; dates filter on `weekEnding`."""
    return await _page(session, actor, page, contract_id, status, start_date, end_date)


@router.get("/api/timesheets/client/me", response_model=Page[Timesheet])
async def client_timesheets(
    session: SessionDep, actor: CurrentClient, page: PageDep,
    contract_id: Annotated[uuid.UUID | None, Query(alias="contractId")] = None,
    status: Annotated[StatusFilter, Query()] = "all",
    start_date: Annotated[date | None, Query(alias="startDate")] = None,
    end_date: Annotated[date | None, Query(alias="endDate")] = None,
) -> Page[Timesheet]:
    """The company's submitted timesheets; `status=pending` is the "awaiting your approval"
    queue."""
    return await _page(session, actor, page, contract_id, status, start_date, end_date)


@router.post("/api/timesheets", response_model=Timesheet, status_code=201)
async def create_timesheet(
    session: SessionDep, actor: CurrentUser, runtime: RuntimeDep, body: TimesheetCreate
) -> Timesheet:
    row = await service.create_timesheet(session, actor, body,
                                         due_days=runtime.settings.timesheet_due_days)
    return await views.one_out(session, row)


@router.post("/api/timesheets/reviews", response_model=ReviewResult)
async def review_timesheets(
    session: SessionDep, actor: CurrentUser, body: ReviewRequest
) -> ReviewResult:
    rows = await reviews.review_many(session, actor, body)
    return ReviewResult(data=await views.many_out(session, rows))


@router.get("/api/timesheets/{timesheet_id}", response_model=Timesheet)
async def get_timesheet(
    session: SessionDep, actor: CurrentUser, timesheet_id: uuid.UUID
) -> Timesheet:
    return await views.one_out(session, await service.get_for(session, actor, timesheet_id))


@router.put("/api/timesheets/{timesheet_id}", response_model=Timesheet)
async def update_timesheet(
    session: SessionDep, actor: CurrentUser, timesheet_id: uuid.UUID, body: TimesheetUpdate
) -> Timesheet:
    row = await service.update_timesheet(session, actor, timesheet_id, body)
    return await views.one_out(session, row)


@router.post("/api/timesheets/{timesheet_id}/submit", response_model=Timesheet)
async def submit_timesheet(
    session: SessionDep, actor: CurrentUser, timesheet_id: uuid.UUID
) -> Timesheet:
    row = await service.submit_timesheet(session, actor, timesheet_id)
    return await views.one_out(session, row)


@router.post("/api/timesheets/{timesheet_id}/approve", response_model=Timesheet)
async def approve_timesheet(
    session: SessionDep, actor: CurrentUser, timesheet_id: uuid.UUID
) -> Timesheet:
    row = await reviews.approve(session, actor, timesheet_id)
    return await views.one_out(session, row)


@router.post("/api/timesheets/{timesheet_id}/reject", response_model=Timesheet)
async def reject_timesheet(
    session: SessionDep, actor: CurrentUser, timesheet_id: uuid.UUID, body: TimesheetReject
) -> Timesheet:
    row = await reviews.reject(session, actor, timesheet_id, body.reason)
    return await views.one_out(session, row)
