"""Test data built through the domains' services instead of the HTTP API.

Why: nearly every timesheets, invoices, payments and money-page test needs an *active
contract*, and building one through the API (create, send with a rendered PDF, two PNG
signatures, a signed and PAdES-sealed final PDF) was most of those tests' time. These builders
call the same service functions the routes call, as the same actors, inside a request-like
context (address, User-Agent), so every row, journal entry, audit record and outbox event is
the one the API would leave. The one step left out is the PDF work (rendering and sealing);
the documents stored are a small placeholder PDF. Tests that read a contract's documents
(contracts domain, contract pages, the end-to-end money path) keep using the real flow;
`tests/contracts/test_builders.py` checks that both leave the same state.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from unittest.mock import patch

import httpx

from mindlinks.contracts import certificates, documents, views
from mindlinks.contracts import service as contracts
from mindlinks.contracts.schemas import ContractCreate, SignRequest
from mindlinks.platform.middleware import RequestContext, request_context
from mindlinks.platform.security import Actor
from mindlinks.platform.storage import get_storage
from tests.contracts.conftest import Party, contract_body, signature_png
from tests.factories import Account

# What the API flow's requests carry: the test client's address (conftest `client`), httpx's
# own User-Agent, and `flow.sign`'s.
CLIENT_ADDRESS = "203.0.113.7"
HTTPX_AGENT, SIGNING_AGENT = f"python-httpx/{httpx.__version__}", "pytest-browser"

# The smallest file the storage's PDF check accepts; it stands in for the rendered documents.
PLACEHOLDER_PDF = b"%PDF-1.7\n% placeholder: built by tests/builders.py\n%%EOF\n"


@functools.cache
def _signature() -> str:
    """One signature image for every build (drawing it is not free, and it never changes)."""
    return signature_png()


async def actor_of(app: Any, session: Any, account: Account) -> Actor:
    """The actor a request with `account`'s bearer token would have (same token check, same
    loader), for calling a service as that user."""
    claims = app.state.tokens.verify(account.token)
    actor: Actor = await app.state.actor_loader(session, claims)
    return actor


@contextlib.contextmanager
def as_request(app: Any, user_agent: str = HTTPX_AGENT) -> Iterator[None]:
    """What the request middleware sets for a request from the test client: the audit records
    and signatures hash the same address and keep the same User-Agent as through the API."""
    token = request_context.set(RequestContext(uuid.uuid4().hex, CLIENT_ADDRESS, user_agent,
                                               app.state.runtime.secret))
    try:
        yield
    finally:
        request_context.reset(token)


@contextlib.asynccontextmanager
async def as_session(app: Any, user_agent: str = HTTPX_AGENT) -> AsyncIterator[Any]:
    """A unit of work as one request from the test client would be: committed at the end."""
    with as_request(app, user_agent):
        async with app.state.db.session() as session:
            yield session


@contextlib.contextmanager
def placeholder_documents() -> Iterator[None]:
    """Sending and activating store `PLACEHOLDER_PDF` instead of rendering and sealing the
    contract's PDFs (its SHA-256 is recorded as the real one's would be)."""
    async def _sealed(_settings: Any, pdf: bytes, **_kw: Any) -> bytes:
        return pdf

    with patch.object(documents, "render_for_signature", lambda *a: PLACEHOLDER_PDF), \
            patch.object(documents, "render_signed", lambda *a: PLACEHOLDER_PDF), \
            patch.object(certificates, "sign_pdf", _sealed):
        yield


async def active_contract(app: Any, party: Party, **over: Any) -> dict[str, Any]:
    """What `flow.active(party, template, **over)` leaves - created by the client, sent, signed
    by the client then the contractor - and the same JSON it returns (the contract as sent).
    `type` picks the template as the tests do: the first direct one of that type."""
    runtime = app.state.runtime
    storage = get_storage(app.state)
    type_ = over.get("type", "fixed")
    with placeholder_documents():
        async with as_session(app) as session:
            client = await actor_of(app, session, party.client)
            templates, _ = await contracts.list_templates(session, type_=type_, model="direct",
                                                          offset=0, limit=1)
            body = contract_body(party, str(templates[0].id), **over)
            created = await contracts.create_contract(session, client,
                                                      ContractCreate.model_validate(body))
            contract_id = created.id
        async with as_session(app) as session:
            client = await actor_of(app, session, party.client)
            sent = await contracts.send_contract(session, client, storage, contract_id)
            out = await views.contract_out(session, storage, sent)
        for account in (party.client, party.contractor):
            async with as_session(app, SIGNING_AGENT) as session:
                actor = await actor_of(app, session, account)
                await contracts.sign(session, actor, storage, runtime.settings, runtime.secret,
                                     contract_id, SignRequest(signature=_signature()))
    return out.model_dump(by_alias=True, mode="json")
