"""Start-up wiring: the registration hook (profile in the registration transaction), the
claims provider (`contractorId`, `kycStatus` in tokens) and the sandbox micro-deposit sender."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.auth import service as auth_service
from mindlinks.auth.service import User
from mindlinks.contractors import service
from mindlinks.contractors.providers import SandboxMicroDepositSender


def install(app: FastAPI) -> None:
    auth_service.register_registration_hook(_create_profile)
    auth_service.register_claims_provider(service.claims)
    # The sandbox moves no money: production gets no sender until the payments domain
    # registers a real one, and adding a bank account answers 503 meanwhile.
    if getattr(app.state, "micro_deposit_sender", None) is None:
        production = app.state.settings.env == "production"
        app.state.micro_deposit_sender = None if production else SandboxMicroDepositSender(
            mailer=app.state.runtime.mailer)


async def _create_profile(session: AsyncSession, user: User) -> None:
    await service.create_for_user(session, user)
