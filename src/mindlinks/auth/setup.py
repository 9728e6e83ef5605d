"""Start-up wiring of the auth domain: the check that the breached-password source is fit for
production."""

from __future__ import annotations

from fastapi import FastAPI

from mindlinks.auth import providers

# create_app refuses to start in production while this lists anything (the sandbox list).
production_problems = providers.production_problems


def install(app: FastAPI) -> None:
    """Nothing to register: the source is built from the settings at each check."""
