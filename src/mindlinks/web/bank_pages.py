"""The contractor's bank accounts: the list (numbers masked, `****` + last 4), add an account
(its two micro-deposits are sent after commit), verify it with the amounts from the bank
statement, make it primary, remove it.

Each action calls the function the API's `/api/contractors/me/bank-accounts` routes call
(`contractors.service`), so the rules are the API's: validation of IBAN / ABA / BIC, the holder
name check (`nameMismatch`), three verification attempts (a wrong pair is counted even though
the page answers with an error: the service marks it `persist`), and the events the rest of
the platform listens to. A withdrawal to an account never paid before is still the
`newPayoutAccount` security notice of the payments domain: the page adds no shortcut around it.
Another contractor's account id, a malformed one and a removed one are the same 404 page.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from mindlinks.contractors import service as contractors
from mindlinks.contractors.schemas import BankAccountCreate, VerifyDeposits
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.security import Actor, Role
from mindlinks.web.dash import Denied, form_of, not_found, parse_id, signed_in, text
from mindlinks.web.i18n import N_, gettext
from mindlinks.web.pages import discard, field_errors, redirect, refused, render

router = domain_router(include_in_schema=False)
PAGE = "/account/bank-accounts"
FIELDS = {"account_holder_name": 200, "bank_name": 200, "currency": 3, "country": 2,
          "account_type": 10, "swift_code": 20, "iban": 50, "account_number": 40,
          "routing_number": 20}
DONE = {"added": N_("Bank account added: enter the two micro-deposits when they arrive."),
        "verified": N_("Bank account verified."), "removed": N_("Bank account removed."),
        "primary": N_("Payouts now go to this account.")}
# State names of these pages the shared list in web/i18n.py does not have.
STATUS_NAMES = [N_("pending verification")]


async def _page(request: Request, session: SessionDep, actor: Actor, *,
                errors: list[str] | None = None, form: dict[str, str] | None = None,
                status_code: int = 200) -> Response:
    try:
        rows = await contractors.list_bank_accounts(session, actor)
    except NotFound:  # no contractor profile
        return not_found(request, actor)
    done = request.query_params.get("done", "")
    return render(request, "account/bank_accounts.html", {
        "accounts": [contractors.bank_account_out(a) for a in rows], "errors": errors,
        "form": form or {},
        "done": gettext(DONE[done]) if done in DONE else None,
    }, actor=actor, status_code=status_code)


async def _act(request: Request, session: SessionDep, actor: Actor,
               action: Callable[[], Awaitable[Any]], done: str, *,
               form: dict[str, str] | None = None) -> Response:
    """Run one service action: an unknown or foreign account is the 404 page; a refused one
    shows the list again with the domain's message (its work undone unless the error says to
    keep it, as a wrong micro-deposit pair is counted)."""
    try:
        await action()
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    except (DomainError, ValidationError) as exc:
        status = await refused(session, exc)
        return await _page(request, session, actor, errors=field_errors(exc), form=form,
                           status_code=status)
    return redirect(request, f"{PAGE}?done={done}")


@router.get(PAGE, response_class=HTMLResponse)
async def bank_accounts(request: Request, session: SessionDep) -> Response:
    try:
        actor = await signed_in(request, Role.CONTRACTOR)
    except Denied as denied:
        return denied.response
    return await _page(request, session, actor)


@router.post(PAGE, response_class=HTMLResponse)
async def add_bank_account(request: Request, session: SessionDep) -> Response:
    try:
        actor = await signed_in(request, Role.CONTRACTOR)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    posted = {name: text(form, name, limit + 10).strip() for name, limit in FIELDS.items()}

    async def add() -> None:
        body = BankAccountCreate.model_validate(
            {k: v for k, v in posted.items() if v or k in ("account_holder_name", "bank_name",
                                                             "currency")})
        sender = contractors.micro_deposit_sender(request.app.state)
        await contractors.create_bank_account(session, actor, body, sender)

    return await _act(request, session, actor, add, "added", form=posted)


def _amounts(form: Any) -> list[int] | None:
    try:
        return [int(text(form, name, 12).strip()) for name in ("amount_1", "amount_2")]
    except ValueError:
        return None


@router.post(PAGE + "/{account_id}/{action}", response_class=HTMLResponse)
async def bank_account_action(request: Request, session: SessionDep, account_id: str,
                              action: str) -> Response:
    """`verify` (the two amounts in minor units), `primary`, `delete`."""
    try:
        actor = await signed_in(request, Role.CONTRACTOR)
    except Denied as denied:
        return denied.response
    form = await form_of(request)
    aid = parse_id(account_id)
    if aid is None or action not in ("verify", "primary", "delete"):
        return not_found(request, actor)
    if action == "delete":
        return await _act(request, session, actor,
                          lambda: contractors.delete_bank_account(session, actor, aid),
                          "removed")
    if action == "primary":
        return await _act(request, session, actor,
                          lambda: contractors.make_primary_bank_account(session, actor, aid),
                          "primary")
    amounts = _amounts(form)
    if amounts is None:
        return await _page(request, session, actor, status_code=422,
                           errors=[gettext("Enter both amounts in cents, from 1 to 99.")])

    async def verify() -> None:
        body = VerifyDeposits(amounts=amounts)
        await contractors.verify_bank_account(session, actor, aid, body.amounts)

    return await _act(request, session, actor, verify, "verified")
