"""Start-up wiring of the timesheets domain: who may read a timesheet's journal entries."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks.ledger.service import register_entity_access
from mindlinks.timesheets import service


def install(app: FastAPI) -> None:
    register_entity_access("timesheet", service.is_party)
