"""Subscribers of the invoices domain: an approved milestone is invoiced at once."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from mindlinks.invoices import generation
from mindlinks.platform.events import Event, subscriber


@subscriber("milestone.approved", name="invoices.milestone_approved")
async def on_milestone_approved(session: AsyncSession, event: Event) -> None:
    # Idempotent: the milestone's unique source key makes a redelivery a no-op.
    await generation.issue_for_milestone(session, uuid.UUID(str(event.payload["milestoneId"])))
