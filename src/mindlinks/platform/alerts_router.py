"""`GET /api/admin/alerts?status=open|all&source=&page&limit`: the system alerts
(`platform/alerts.py`), oldest first, for administrators (with MFA)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query

from mindlinks.platform.alerts import open_alerts
from mindlinks.platform.api import Page, PageDep, ResponseModel, SessionDep, domain_router
from mindlinks.platform.security import AdminUser


class AlertOut(ResponseModel):
    id: uuid.UUID
    source: str
    kind: str
    key: str
    severity: str
    summary: str
    details: dict[str, Any]
    created_at: datetime
    resolved_at: datetime | None


router = domain_router(prefix="/api/admin/alerts", tags=["Health"])


@router.get("", response_model=Page[AlertOut])
async def list_alerts(session: SessionDep, actor: AdminUser, page: PageDep,
                      source: Annotated[str | None, Query(max_length=60)] = None,
                      status: Literal["open", "all"] = "open") -> Page[AlertOut]:
    rows, total = await open_alerts(session, source=source, limit=page.limit,
                                    offset=page.offset, include_resolved=status == "all")
    return Page[AlertOut].build([AlertOut.model_validate(r) for r in rows], total, page)
