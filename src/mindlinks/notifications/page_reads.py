"""The notifications domain's part of the pages' composed reads, as Core (no I/O here): the
language preference, the inbox's counts and its newest rows (what `inbox` gives a page)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, Subquery, func, select

from mindlinks.notifications.models import Notification, NotificationPreference

_N = Notification.__table__.c
_PREF = NotificationPreference.__table__.c
ACTIVITY_COLUMNS = ("title", "message", "read", "action_url", "created_at")


def language(user_id: ColumnElement[Any]) -> ScalarSelect[Any]:
    """The user's chosen page language, NULL if none (`preferred_language`)."""
    return select(_PREF.language).where(_PREF.user_id == user_id).scalar_subquery()


def inbox_counts(user_id: ColumnElement[Any]) -> tuple[ScalarSelect[Any], ScalarSelect[Any]]:
    """(all, unread) notifications of the user."""
    return (select(func.count()).where(_N.user_id == user_id).scalar_subquery(),
            select(func.count()).where(_N.user_id == user_id, _N.read.is_(False))
            .scalar_subquery())


def recent(user_id: ColumnElement[Any], limit: int) -> Subquery:
    """The user's `limit` newest notifications (inbox order), with `position` (1 = newest)."""
    order = (_N.created_at.desc(), _N.id.desc())
    return (select(*(_N[c] for c in ACTIVITY_COLUMNS),
                   func.row_number().over(order_by=order).label("position"))
            .where(_N.user_id == user_id).order_by(*order).limit(limit).subquery("recent"))
