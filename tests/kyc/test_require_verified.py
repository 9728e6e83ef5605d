"""`kyc.service.require_verified`: the gate other domains call before signing and payouts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mindlinks.contractors import service as contractors
from mindlinks.kyc.service import KycRequired, require_verified
from tests.factories import register


async def test_require_verified_follows_the_profile_status(app: Any, client: Any) -> None:
    data = await register(client, "contractor")
    async with app.state.db.session() as session:
        profile = await contractors.profile_by_user(session, uuid.UUID(data["user"]["id"]))
        assert profile is not None
        cid = profile.id
        with pytest.raises(KycRequired) as raised:
            await require_verified(session, cid)
        assert raised.value.status == 403 and raised.value.code == "kyc_required"
        await contractors.set_kyc_status(session, cid, "rejected")
        with pytest.raises(KycRequired):
            await require_verified(session, cid)
        await contractors.set_kyc_status(session, cid, "verified")
        await require_verified(session, cid)  # does not raise


async def test_require_verified_unknown_contractor(app: Any) -> None:
    async with app.state.db.session() as session:
        with pytest.raises(KycRequired):
            await require_verified(session, uuid.uuid4())
