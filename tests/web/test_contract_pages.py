"""The contract screens over HTTP (web/contract_pages.py): the client creates from a template
with a preview, edits the draft and sends it; both parties read the PDF and sign (a drawn PNG,
and the typed-name fallback); the journal check. CSRF on every form, another company's
contract is the 404 page everywhere, domain errors are form errors that keep nothing, and each
page stays under its SQL statement limit whatever the number of rows."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mindlinks.contracts.models import Contract, ContractSignature
from mindlinks.web import contract_pages, i18n
from tests.contracts.conftest import Party, signature_png
from tests.web.conftest import csrf_of
from tests.web.money import count_statements, counting, post_form, signed_in

__all__ = ["count_statements"]
pytestmark = pytest.mark.usefixtures("db_backend")

# Measured on SQLite and PostgreSQL (list 5, detail 6, new 9, edit 8, verify 26: the journal
# check of two signatures), with a margin of a few (see test_money_queries.py).
LIMITS = {"list": 8, "detail": 9, "new": 12, "edit": 11, "verify": 30}
ID_RE = re.compile(r"/contracts/([0-9a-f-]{36})\?done=")


def fields(party: Party, template: dict[str, Any], **over: str) -> dict[str, str]:
    values = {"contractor_id": party.contractor_id, "template_id": template["id"],
              "title": "Web Development Project", "description": "Full-stack web development",
              "type": "", "rate": "5000", "currency": "USD", "frequency": "monthly",
              "start_date": "2026-01-01", "end_date": "2026-06-30",
              "terms": "Deliverables: a web shop\nTermination: 14 days' notice"}
    return {**values, **over}


async def _count(app: Any, model: Any) -> int:
    async with app.state.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def create_draft(c: httpx.AsyncClient, party: Party, template: dict[str, Any],
                       **over: str) -> str:
    made = await post_form(c, "/contracts/new", "/contracts/new",
                           {**fields(party, template, **over), "action": "save"})
    assert made.status_code == 303, made.text
    match = ID_RE.search(made.headers["location"])
    assert match, made.headers["location"]
    return match.group(1)


async def sign_form(c: httpx.AsyncClient, contract_id: str,
                    data: dict[str, str]) -> httpx.Response:
    return await post_form(c, f"/contracts/{contract_id}", f"/contracts/{contract_id}/sign",
                           data)


async def test_create_preview_edit_send_and_both_sign(
    app: Any, party: Party, fixed_template: dict[str, Any],
):
    async with signed_in(app, party.client.email) as c:
        form = await c.get("/contracts/new")
        assert form.status_code == 200
        assert "Ada Lovelace" in form.text and fixed_template["name"] in form.text
        # Preview: the template rendered with the form's values and the parties' names.
        preview = await post_form(c, "/contracts/new", "/contracts/new",
                                  {**fields(party, fixed_template), "action": "preview"})
        assert preview.status_code == 200, preview.text
        body = re.search(r'<div class="preview markdown"[^>]*>(.*?)</div>', preview.text, re.S)
        assert body, preview.text
        assert "Acme Widgets Ltd" in body.group(1) and "Ada Lovelace" in body.group(1)
        assert "5,000.00 USD" in body.group(1) and "Deliverables: a web shop" in body.group(1)
        assert 'value="Web Development Project"' in preview.text  # the form keeps its values
        assert await _count(app, Contract) == 0  # a preview writes nothing

        cid = await create_draft(c, party, fixed_template)
        page = await c.get(f"/contracts/{cid}?done=created")
        assert "Draft created." in page.text and "Send to the contractor" in page.text
        assert "document.pdf" not in page.text  # no PDF before it is sent
        assert (await c.get(f"/contracts/{cid}/document.pdf")).status_code == 404

        edit = await c.get(f"/contracts/{cid}/edit")
        assert 'value="Web Development Project"' in edit.text
        assert "Deliverables: a web shop\nTermination" in edit.text
        saved = await post_form(c, f"/contracts/{cid}/edit", f"/contracts/{cid}/edit", {
            **fields(party, fixed_template, title="Web shop build", rate="4500"),
            "action": "save"})
        assert saved.status_code == 303, saved.text
        page = await c.get(f"/contracts/{cid}")
        assert "Web shop build" in page.text and "$4,500.00" in page.text

        sent = await post_form(c, f"/contracts/{cid}", f"/contracts/{cid}/send", {})
        assert sent.status_code == 303, sent.text
        page = await c.get(f"/contracts/{cid}")
        assert "Sign the contract" in page.text and "badge-pending" in page.text
        assert "Edit the draft" not in page.text
        assert (await c.get(f"/contracts/{cid}/edit")).status_code == 303  # sent: read only
        pdf = await c.get(f"/contracts/{cid}/document.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("inline")
        assert pdf.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in pdf.headers["content-security-policy"]

        # The client draws (the canvas's PNG data URL in the hidden field).
        signed = await sign_form(c, cid, {"signature": "data:image/png;base64,"
                                          + signature_png()})
        assert signed.headers["location"] == f"/contracts/{cid}?done=signed"
        page = await c.get(f"/contracts/{cid}")
        assert "badge-client-signed" in page.text and "Sign the contract" not in page.text

    async with signed_in(app, party.contractor.email) as c:
        listed = await c.get("/contracts")
        assert f"/contracts/{cid}" in listed.text and "Acme Widgets Ltd" in listed.text
        assert "awaiting your signature" in listed.text
        page = await c.get(f"/contracts/{cid}")
        assert "Sign the contract" in page.text and 'hx-get="/contracts/' in page.text
        # The no-JavaScript way: the typed name, drawn into a PNG on the server.
        signed = await sign_form(c, cid, {"signature": "", "typed_name": "Ada  Lovelace"})
        assert signed.headers["location"] == f"/contracts/{cid}?done=activated"
        page = await c.get(f"/contracts/{cid}?done=activated")
        assert "badge-active" in page.text and "the contract is active" in page.text
        pdf = await c.get(f"/contracts/{cid}/document.pdf")
        assert pdf.status_code == 200 and len(pdf.content) > 0
        verify = await c.get(f"/contracts/{cid}/verify")
        assert verify.status_code == 200
        assert "signature is valid" in verify.text, verify.text
        assert verify.text.count("proof included") == 2
    assert await _count(app, ContractSignature) == 2


async def test_list_filters_by_status_and_pages(
    app: Any, party: Party, fixed_template: dict[str, Any], flow: Any,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(contract_pages, "LIST_LIMIT", 2)
    for n in range(3):
        await flow.create(party, fixed_template["id"], title=f"Draft {n}")
    await flow.sent(party, fixed_template["id"], title="Sent one")
    async with signed_in(app, party.client.email) as c:
        first = await c.get("/contracts")
        assert "Page 1 of 2" in first.text and "Sent one" in first.text  # newest first
        second = await c.get("/contracts?status=all&page=2")
        assert "Draft 0" in second.text and "Sent one" not in second.text
        drafts = await c.get("/contracts?status=draft")
        assert "Sent one" not in drafts.text and "Draft 2" in drafts.text
        pending = await c.get("/contracts?status=pending")
        assert "Sent one" in pending.text and "Draft" not in pending.text.split("<tbody>")[1]
        for bad in ("/contracts?status=nope", "/contracts?page=-1", "/contracts?page=99999999"):
            assert (await c.get(bad)).status_code == 200
    async with signed_in(app, party.contractor.email) as c:
        listed = await c.get("/contracts")
        assert "Sent one" in listed.text and "New contract" not in listed.text
        for page in (await c.get("/contracts/new"),  # the client's pages: not found at all
                     await post_form(c, "/contracts", "/contracts/new",
                                     {**fields(party, fixed_template), "action": "save"})):
            assert page.status_code == 404 and "<h1>Not found</h1>" in page.text, page.text


async def test_every_form_needs_the_csrf_token(
    app: Any, party: Party, fixed_template: dict[str, Any], flow: Any,
):
    draft = await flow.create(party, fixed_template["id"])
    sent = await flow.sent(party, fixed_template["id"])
    async with signed_in(app, party.client.email) as c:
        await c.get("/contracts")  # the CSRF cookie is set
        posts = [("/contracts/new", {**fields(party, fixed_template), "action": "save"}),
                 (f"/contracts/{draft['id']}/edit", {**fields(party, fixed_template),
                                                     "title": "Changed", "action": "save"}),
                 (f"/contracts/{draft['id']}/send", {}),
                 (f"/contracts/{sent['id']}/sign", {"typed_name": "Grace Hopper"})]
        for action, data in posts:
            for token in (None, "forged.token"):
                body = data if token is None else {**data, "csrf_token": token}
                refused = await c.post(action, data=body)
                assert refused.status_code == 403, (action, refused.text)
                assert refused.json()["code"] == "csrf_failed"
    assert await _count(app, Contract) == 2
    assert await _count(app, ContractSignature) == 0
    async with app.state.db.session() as session:
        statuses = {str(r.id): r.status for r in (await session.scalars(select(Contract)))}
    assert statuses == {draft["id"]: "draft", sent["id"]: "pending"}


async def test_another_companys_contract_is_the_404_page(
    app: Any, party: Party, make_party: Any, fixed_template: dict[str, Any], flow: Any,
):
    draft = await flow.create(party, fixed_template["id"])
    active = await flow.active(party, fixed_template["id"])
    other = await make_party(legal_name="Other Co", contractor_name="Someone Else")
    for account in (other.client, other.contractor):
        async with signed_in(app, account.email) as c:
            listed = await c.get("/contracts")
            assert draft["id"] not in listed.text and active["id"] not in listed.text
            for cid in (draft["id"], active["id"], str(uuid.uuid4()), "not-an-id"):
                for url in (f"/contracts/{cid}", f"/contracts/{cid}/document.pdf",
                            f"/contracts/{cid}/verify"):
                    assert (await c.get(url)).status_code == 404, url
                signed = await post_form(c, "/contracts", f"/contracts/{cid}/sign",
                                         {"typed_name": "Someone Else"})
                assert signed.status_code == 404, (cid, signed.text)
                if account is other.client:
                    for url in (f"/contracts/{cid}/edit",):
                        assert (await c.get(url)).status_code == 404, url
                    for action in (f"/contracts/{cid}/edit", f"/contracts/{cid}/send"):
                        refused = await post_form(c, "/contracts", action,
                                                  {**fields(party, fixed_template),
                                                   "action": "save"})
                        assert refused.status_code == 404, (action, refused.text)
            # Nor can the other client contract with a contractor who is not theirs.
            if account is other.client:
                refused = await post_form(c, "/contracts/new", "/contracts/new",
                                          {**fields(party, fixed_template), "action": "save"})
                assert refused.status_code == 422
                assert "does not work with your company" in refused.text
    assert await _count(app, Contract) == 2
    async with app.state.db.session() as session:
        row = await session.get(Contract, uuid.UUID(draft["id"]))
        assert row is not None and row.status == "draft" and row.title == draft["title"]


async def test_domain_errors_are_form_errors_and_keep_nothing(
    app: Any, party: Party, make_party: Any, fixed_template: dict[str, Any], flow: Any,
):
    async with signed_in(app, party.client.email) as c:
        reversed_dates = await post_form(c, "/contracts/new", "/contracts/new", {
            **fields(party, fixed_template, end_date="2025-01-01"), "action": "save"})
        assert reversed_dates.status_code == 422
        assert "endDate must be after startDate" in reversed_dates.text
        assert 'value="2025-01-01"' in reversed_dates.text  # the form is shown as typed
        no_rate = await post_form(c, "/contracts/new", "/contracts/new", {
            **fields(party, fixed_template, rate=""), "action": "preview"})
        assert no_rate.status_code == 422 and "rate" in no_rate.text
        mismatch = await post_form(c, "/contracts/new", "/contracts/new", {
            **fields(party, fixed_template, type="hourly"), "action": "save"})
        assert mismatch.status_code == 422
        assert "The template is for fixed contracts, not hourly" in mismatch.text
        milestones = await post_form(c, "/contracts/new", "/contracts/new", {
            **fields(party, fixed_template), "ms-title-0": "Design", "ms-amount-0": "10",
            "action": "save"})
        assert milestones.status_code == 422
        assert "Only milestone contracts have milestones" in milestones.text
        assert await _count(app, Contract) == 0

        sent = await flow.sent(party, fixed_template["id"])
        for data, message in (({"signature": "", "typed_name": ""}, "Draw your signature or type"),
                              ({"signature": "data:image/png;base64,bm90IGEgcG5n"},
                               'class="alert error"'),
                              ({"signature": "data:image/gif;base64,R0lGOA=="},
                               "must be a base64 PNG image"),
                              ({"typed_name": "x" * 101}, "too long")):
            refused = await sign_form(c, sent["id"], data)
            assert refused.status_code == 422, (data, refused.text[:300])
            assert message in refused.text, (message, refused.text)
        await post_form(c, "/contracts", "/language", {"lang": "ar", "next": "/contracts"})
        page = await c.get(f"/contracts/{sent['id']}")
        i18n.use("en")  # as in a fresh request (httpx runs the app in this task's context)
        arabic = await c.post(f"/contracts/{sent['id']}/sign",
                              data={"csrf_token": csrf_of(page), "typed_name": ""})
        assert arabic.status_code == 422 and "ارسم توقيعك أو اكتب اسمك الكامل." in arabic.text
        await post_form(c, "/contracts", "/language", {"lang": "en", "next": "/contracts"})
        sending_again = await post_form(c, "/contracts", f"/contracts/{sent['id']}/send", {})
        assert sending_again.status_code == 409 and "A contract that is pending cannot be" in sending_again.text
    assert await _count(app, ContractSignature) == 0

    unverified = await make_party(kyc=None, legal_name="Beta Ltd", contractor_name="New Person")
    waiting = await flow.sent(unverified, fixed_template["id"])
    async with signed_in(app, unverified.contractor.email) as c:
        refused = await sign_form(c, waiting["id"], {"typed_name": "New Person"})
        assert refused.status_code == 403 and "verif" in refused.text.lower()
    assert await _count(app, ContractSignature) == 0


async def test_pages_stay_under_their_statement_limits(
    app: Any, party: Party, fixed_template: dict[str, Any], flow: Any,
    count_statements: Any,
):
    draft = await flow.create(party, fixed_template["id"])
    active = await flow.active(party, fixed_template["id"])
    async with signed_in(app, party.client.email) as c:
        few = await count_statements(c, "/contracts")
        assert few <= LIMITS["list"], few
        for n in range(4):
            await flow.sent(party, fixed_template["id"], title=f"More {n}")
        many = await count_statements(c, "/contracts")
        assert many == few, (few, many)  # names read for the whole page, not per row
        assert await count_statements(c, "/contracts/new") <= LIMITS["new"]
        assert await count_statements(c, f"/contracts/{draft['id']}/edit") <= LIMITS["edit"]
        assert await count_statements(c, f"/contracts/{active['id']}") <= LIMITS["detail"]
        assert await count_statements(c, f"/contracts/{active['id']}/verify") <= LIMITS["verify"]
    async with signed_in(app, party.contractor.email) as c:
        assert await count_statements(c, "/contracts") <= LIMITS["list"]
        with counting(app) as seen:
            page = await c.get(f"/contracts/{active['id']}")
        assert page.status_code == 200 and seen.count <= LIMITS["detail"], seen.count


async def test_milestone_contract_rows_and_the_edit_preview(
    app: Any, client: httpx.AsyncClient, party: Party,
):
    tpl = (await client.get("/api/contract-templates", params={"type": "milestone",
                                                               "model": "direct"},
                            headers=party.client.headers)).json()["data"][0]
    rows = {"ms-title-0": "Design", "ms-amount-0": "1,200", "ms-due-0": "2026-02-01",
            "ms-title-1": "Build", "ms-amount-1": "1800", "ms-due-1": ""}
    async with signed_in(app, party.client.email) as c:
        cid = await create_draft(c, party, tpl, rate="3000", **rows)  # type: the template's
        page = await c.get(f"/contracts/{cid}")
        assert "Design" in page.text and "$1,200.00" in page.text and "$1,800.00" in page.text
        edit = await c.get(f"/contracts/{cid}/edit")
        assert 'name="ms-title-1" maxlength="200" value="Build"' in edit.text
        assert 'name="ms-title-4"' in edit.text  # two filled rows and three blank ones
        preview = await post_form(c, f"/contracts/{cid}/edit", f"/contracts/{cid}/edit", {
            **fields(party, tpl, type="milestone", rate="3000", title="Renamed"), **rows,
            "ms-amount-1": "1900", "action": "preview"})
        assert preview.status_code == 422  # 1,200 + 1,900 is not the rate
        assert "must add up to the contract rate" in preview.text
        preview = await post_form(c, f"/contracts/{cid}/edit", f"/contracts/{cid}/edit", {
            **fields(party, tpl, type="milestone", rate="3000", title="Renamed"), **rows,
            "action": "preview"})
        assert preview.status_code == 200 and "<li>Design: 1,200.00 USD, due 2026-02-01</li>" in (
            preview.text)
        page = await c.get(f"/contracts/{cid}")
        assert "Renamed" not in page.text  # a preview of an edit changes nothing


async def test_a_client_without_a_company_is_told_to_register_it(app: Any,
                                                                 client: httpx.AsyncClient):
    from tests.factories import Account, register

    owner = Account(await register(client, "client", name="No Company"))
    async with signed_in(app, owner.email) as c:
        assert "No contracts." in (await c.get("/contracts")).text
        page = await c.get("/contracts/new")
        assert page.status_code == 404 and "Register your company first" in page.text
