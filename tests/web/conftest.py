"""Fixtures of the page tests: a browser-like client (https, cookie jar), sign-in through the
login form, and the links the app mailed (read from the .eml files of the data dir)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from email import policy
from email.parser import BytesParser
from typing import Any

import httpx
import pytest

from tests.clients.conftest import invitation_links, invite, make_client, verified_client
from tests.contracts.conftest import fixed_template, flow, make_party, party

__all__ = ["fixed_template", "flow", "invitation_links", "invite", "make_client", "make_party",
           "party", "verified_client"]

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    match = CSRF_RE.search(page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


@pytest.fixture
async def browser(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client as a browser is: https (so Secure cookies come back), a cookie jar, and no
    automatic redirects (tests look at each one)."""
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


async def submit(client: httpx.AsyncClient, page_url: str, action: str,
                 data: dict[str, str]) -> httpx.Response:
    """GET the page with the form (for its CSRF token), then POST the form."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf_token": csrf_of(page), **data})


async def web_login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    response = await submit(client, "/login", "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
    return response


def mailed_links(app: Any, email: str, path: str) -> list[str]:
    """The links to `path` (e.g. `/verify-email`) mailed to `email`, oldest first."""
    directory = app.state.settings.mail_dir
    parser = BytesParser(policy=policy.default)
    base = re.escape(app.state.settings.resolved_public_url)
    links = []
    for file in sorted(directory.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns):
        message = parser.parsebytes(file.read_bytes())
        if str(message["To"]).lower() == email.lower():
            body = message.get_body(preferencelist=("plain",)).get_content()
            links += re.findall(base + re.escape(path) + r"[^\s]*", body)
    return links


@pytest.fixture
def mail_links(app: Any) -> Any:
    async def _links(email: str, path: str) -> list[str]:
        await app.state.runtime.mailer.drain()
        return mailed_links(app, email, path)

    return _links
