"""The auth domain's part of the pages' composed reads, as Core (no I/O here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, select

from mindlinks.auth.models import User


def user_name(user_id: ColumnElement[Any]) -> ScalarSelect[Any]:
    """The user's display name."""
    return select(User.__table__.c.name).where(User.__table__.c.id == user_id).scalar_subquery()
