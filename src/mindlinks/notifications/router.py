"""Notification Service routes (seed 000) and their admin counterparts."""

from __future__ import annotations

import html
import uuid
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from mindlinks.notifications import admin, service
from mindlinks.notifications.delivery import Notifier
from mindlinks.notifications.schemas import (
    AllMarkedRead,
    DeliveryOut,
    MarkedRead,
    NotificationPage,
    Preferences,
    PreferencesUpdate,
    TemplateOut,
    TemplatePreview,
    TemplatePreviewRequest,
    TemplateUpdate,
    UnsubscribeResult,
)
from mindlinks.platform.api import Page, PageDep, SessionDep, domain_router
from mindlinks.platform.security import AdminUser, CurrentUser


async def get_notifier(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.notifier
    return notifier


NotifierDep = Annotated[Notifier, Depends(get_notifier)]

router = domain_router(prefix="/api/notifications", tags=["Notification Service"])
admin_router = domain_router(prefix="/api/admin", tags=["Notification Service"])


@router.get("/me", response_model=NotificationPage)
async def my_notifications(
    request: Request, actor: CurrentUser, page: PageDep,
    read: Annotated[bool | None, Query(description="Only read (true) or unread (false)")] = None,
) -> Response:
    """The caller's notifications, newest first; `meta.unread` counts the whole inbox."""
    # A read of the caller's own rows: no session, no transaction (see service.inbox_response).
    return await service.inbox_response(request.app.state.db, actor, read, page)


@router.put("/me/read-all", response_model=AllMarkedRead)
async def read_all(session: SessionDep, actor: CurrentUser, notifier: NotifierDep
                   ) -> AllMarkedRead:
    count = await service.mark_all_read(session, notifier, actor)
    return AllMarkedRead(message="All notifications marked as read", count=count)


@router.put("/{notification_id}/read", response_model=MarkedRead)
async def read_one(
    notification_id: uuid.UUID, session: SessionDep, actor: CurrentUser, notifier: NotifierDep
) -> MarkedRead:
    notification = await service.mark_read(session, notifier, actor, notification_id)
    return MarkedRead(id=notification.id, read=notification.read)


@router.get("/me/preferences", response_model=Preferences)
async def my_preferences(session: SessionDep, actor: CurrentUser) -> Preferences:
    return await service.get_preferences(session, actor)


@router.put("/me/preferences", response_model=Preferences)
async def update_my_preferences(
    data: PreferencesUpdate, session: SessionDep, actor: CurrentUser
) -> Preferences:
    """Fields left out are unchanged; `optOuts` replaces the previous opt-outs."""
    return await service.update_preferences(session, actor, data)


@router.get(
    "/me/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}},
                     "description": "Server-Sent Events: `unread` and `notification`"}},
)
async def my_stream(request: Request, actor: CurrentUser, notifier: NotifierDep
                    ) -> StreamingResponse:
    """Live updates: an `unread` event on connect and after reads, a `notification` event
    (with the new unread count) for each new notification, `: heartbeat` comments. The stream
    ends when its login ends (logout, suspension, password change); 429 `too_many_streams`
    past the per-user cap."""
    return service.open_stream(request, notifier, actor)


@router.get("/unsubscribe", response_class=HTMLResponse, include_in_schema=False)
async def unsubscribe_page(token: Annotated[str, Query(max_length=1000)]) -> HTMLResponse:
    """The link in the mail shows a confirmation; only the POST changes anything (link
    scanners follow GETs)."""
    safe = html.escape(token, quote=True)
    return HTMLResponse(
        "<!doctype html><title>Unsubscribe</title><h1>Unsubscribe</h1>"
        f'<form method="post" action="?token={safe}">'
        "<button type=submit>Stop these emails</button></form>"
    )


@router.post("/unsubscribe", response_model=UnsubscribeResult)
async def unsubscribe(
    session: SessionDep, notifier: NotifierDep, token: Annotated[str, Query(max_length=1000)]
) -> UnsubscribeResult:
    """One-click unsubscribe (RFC 8058) with the signed token of the mail's link."""
    type_name = await service.unsubscribe(session, notifier.secret, token)
    return UnsubscribeResult(message="You will no longer receive these emails", type=type_name)


@admin_router.get("/notification-templates", response_model=list[TemplateOut])
async def list_templates(
    session: SessionDep, _admin: AdminUser,
    type: Annotated[Literal["email", "sms", "in_app"] | None, Query()] = None,
    language: Annotated[Literal["en", "ar"] | None, Query()] = None,
) -> list[TemplateOut]:
    """Every template, one row per notification type, channel and language."""
    return [TemplateOut.model_validate(t)
            for t in await admin.list_templates(session, type, language)]


@admin_router.get("/notification-templates/{template_id}", response_model=TemplateOut)
async def get_template(template_id: uuid.UUID, session: SessionDep, _admin: AdminUser
                       ) -> TemplateOut:
    return TemplateOut.model_validate(await admin.get_template(session, template_id))


@admin_router.put("/notification-templates/{template_id}", response_model=TemplateOut)
async def update_template(
    template_id: uuid.UUID, data: TemplateUpdate, session: SessionDep, actor: AdminUser
) -> TemplateOut:
    return TemplateOut.model_validate(
        await admin.update_template(session, actor, template_id, data))


@admin_router.post("/notification-templates/{template_id}/preview",
                   response_model=TemplatePreview)
async def preview_template(
    template_id: uuid.UUID, data: TemplatePreviewRequest, session: SessionDep,
    _admin: AdminUser,
) -> TemplatePreview:
    return await admin.preview_template(session, template_id, data)


@admin_router.get("/notification-deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(
    session: SessionDep, _admin: AdminUser, page: PageDep,
    status: Annotated[Literal["pending", "sending", "sent", "failed"] | None, Query()] = None,
    channel: Annotated[Literal["email", "sms"] | None, Query()] = None,
    user_id: Annotated[uuid.UUID | None, Query(alias="userId")] = None,
) -> Page[DeliveryOut]:
    rows, total = await admin.list_deliveries(
        session, status=status, channel=channel, user_id=user_id, offset=page.offset,
        limit=page.limit)
    return Page[DeliveryOut].build([DeliveryOut.model_validate(r) for r in rows], total, page)


routers = [router, admin_router]
