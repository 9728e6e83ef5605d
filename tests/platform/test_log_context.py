"""Every log line of a request carries its request id and, once the bearer token is checked,
its user id - and nothing of the previous request (platform/logging.py `_request_fields`)."""

from __future__ import annotations

import structlog

from mindlinks.platform.api import domain_router
from mindlinks.platform.security import CurrentUser
from tests.factories import register

log = structlog.get_logger("tests.log_context")


async def test_log_lines_carry_the_request_and_user_ids(app, client, capsys):
    router = domain_router(prefix="/_probe_log")

    @router.get("/signed-in")
    async def signed_in(actor: CurrentUser) -> dict:
        log.info("probe_signed_in")
        return {}

    @router.get("/anonymous")
    async def anonymous() -> dict:
        log.info("probe_anonymous")
        return {}

    app.include_router(router)
    user = await register(client)
    headers = {"Authorization": f"Bearer {user['accessToken']}"}
    user_id = (await client.get("/api/auth/me", headers=headers)).json()["id"]
    capsys.readouterr()

    first = await client.get("/_probe_log/signed-in", headers=headers)
    second = await client.get("/_probe_log/anonymous", headers={"X-Request-ID": "probe-2"})
    assert first.status_code == 200 and second.status_code == 200
    lines = capsys.readouterr().err.splitlines()
    [signed_line] = [line for line in lines if "probe_signed_in" in line]
    [anonymous_line] = [line for line in lines if "probe_anonymous" in line]
    assert first.headers["x-request-id"] in signed_line and user_id in signed_line
    assert "probe-2" in anonymous_line
    assert user_id not in anonymous_line and "user_id" not in anonymous_line


async def test_authentication_and_authorization_denials_are_logged_with_utc_time(
        app, client, capsys):
    """RELIABILITY 39: a refused token (401) and a refused role (403) each leave one
    `access_denied` line with its status, code and route, stamped in UTC, and no token."""
    import re

    user = await register(client, "contractor")
    capsys.readouterr()
    forged = await client.get("/api/auth/me", headers={"Authorization": "Bearer a.b.c"})
    wrong_role = await client.get("/api/admin/alerts",
                                  headers={"Authorization": f"Bearer {user['accessToken']}"})
    assert (forged.status_code, wrong_role.status_code) == (401, 403)
    lines = [line for line in capsys.readouterr().err.splitlines() if "access_denied" in line]
    utc = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)")
    for status, code, path in ((401, forged.json()["code"], "/api/auth/me"),
                               (403, "forbidden_role", "/api/admin/alerts")):
        [line] = [x for x in lines if f"status={status}" in x or f'"status": {status}' in x]
        assert code in line and path in line and utc.search(line), line
    assert not any(user["accessToken"] in line or "a.b.c" in line for line in lines)
