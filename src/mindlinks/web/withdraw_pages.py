"""The contractor's withdrawals: the form on the wallet page → a confirmation page showing the
fee, the net amount and the estimated arrival (computed by the same fee rule the withdrawal
will charge) → the final POST, guarded by an idempotency key generated once per form (a
double click or a retried post gets the same withdrawal back, never a second one); and the
withdrawals list with cancel for a pending one.

The preview changes nothing; only the final POST calls `withdrawals.request_withdrawal`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mindlinks.contractors import service as contractors
from mindlinks.countries import service as countries
from mindlinks.payments import service as payments
from mindlinks.payments.withdrawals_schemas import WithdrawalCreate
from mindlinks.platform import idempotency
from mindlinks.platform.api import PageParams, SessionDep, domain_router
from mindlinks.platform.db import utcnow
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.money import from_minor, to_minor
from mindlinks.platform.security import Actor, Role
from mindlinks.web import gateway
from mindlinks.web.dash import Denied, form_of, not_found, parse_id, signed_in, text
from mindlinks.web.pages import discard, field_errors, redirect, render

router = domain_router(include_in_schema=False)
LIST_LIMIT = 50
STATUSES = ("all", "pending", "processing", "completed", "failed", "cancelled", "reversed")


async def _contractor(request: Request) -> Actor:
    return await signed_in(request, Role.CONTRACTOR)


def _posted(form: FormData) -> dict[str, str]:
    return {"amount": text(form, "amount", 24).strip().replace(",", ""),
            "currency": text(form, "currency", 3).upper(),
            "method_id": text(form, "method_id", 40),
            "idempotency_key": text(form, "idempotency_key", 40)}


def _body(posted: dict[str, str]) -> WithdrawalCreate:
    try:
        amount = Decimal(posted["amount"] or "x")
    except InvalidOperation:
        raise ValueError("Amount: enter a number") from None
    return WithdrawalCreate(amount=amount, currency=posted["currency"],
                            withdrawal_method_id=posted["method_id"])


async def wallet_page(request: Request, session: SessionDep, actor: Actor, *,
                      errors: list[str] | None = None, form: dict[str, str] | None = None,
                      status_code: int = 200) -> Response:
    wallet = await gateway.wallet.wallet(session, actor)
    history = await gateway.wallet.history(session, actor, PageParams(1, LIST_LIMIT),
                                           status="all", contract_id=None, start=None,
                                           end=None)
    recent = await gateway.withdrawals.list_withdrawals(session, actor, PageParams(1, 5), "all")
    return render(request, "money/wallet_withdraw.html", {
        "wallet": wallet, "history": history, "withdrawals": recent, "errors": errors,
        "form": form or {},
        # One key per rendered form: the confirmation page carries it to the final POST.
        "idempotency_key": (form or {}).get("idempotency_key") or str(uuid.uuid4()),
        "done": request.query_params.get("done")}, actor=actor, status_code=status_code)


@router.get("/wallet", response_class=HTMLResponse)
async def wallet(request: Request, session: SessionDep) -> Response:
    """Balances, the withdraw form, recent withdrawals and the payment history."""
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    return await wallet_page(request, session, actor)


async def _quote(session: SessionDep, actor: Actor, body: WithdrawalCreate) -> dict[str, Any]:
    """What the withdrawal would charge, by the same functions `request_withdrawal` uses;
    raises the same errors (minimum, currency, country, balance) without writing."""
    profile = await contractors.profile_by_user(session, actor.user_id)
    if profile is None or not profile.country:
        raise gateway.withdrawals.PayoutCountryRequired(
            "Set your country in your profile before withdrawing")
    rule = await countries.require_active(session, profile.country, field="country")
    currency = body.currency
    amount = to_minor(body.amount, currency)
    fee, minimum = gateway.withdrawals.fee_and_minimum(rule, amount, currency)
    if amount < minimum or fee.total >= amount:
        raise gateway.withdrawals.AmountBelowMinimum(
            f"The minimum withdrawal is {from_minor(max(minimum, fee.total + 1), currency)} "
            f"{currency}")
    wallet = await gateway.wallet.wallet(session, actor)
    available = next((b.available_balance for b in wallet.balances
                      if b.currency == currency), None)
    if available is None or Decimal(str(available)) < body.amount:
        raise payments.InsufficientFunds(
            f"You have {available or 0} {currency} available")
    method = next((m for m in wallet.withdrawal_methods
                   if m.id == body.withdrawal_method_id), None)
    if method is None:
        raise NotFound("No such bank account")
    return {"amount": from_minor(amount, currency), "fee": from_minor(fee.total, currency),
            "net": from_minor(amount - fee.total, currency), "currency": currency,
            "arrival": gateway.fees.estimated_arrival(utcnow(), rule), "method": method}


@router.post("/wallet/withdraw", response_class=HTMLResponse)
async def withdraw_preview(request: Request, session: SessionDep) -> Response:
    """Step 2: the confirmation page (nothing is written)."""
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    posted = _posted(await form_of(request))
    try:
        quote = await _quote(session, actor, _body(posted))
    except (DomainError, ValidationError, ValueError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        errors = field_errors(exc) if isinstance(exc, DomainError | ValidationError) else [
            str(exc)]
        return await wallet_page(request, session, actor, errors=errors, form=posted,
                                 status_code=422)
    return render(request, "money/withdraw_confirm.html", {"quote": quote, "form": posted},
                  actor=actor)


@router.post("/wallet/withdrawals", response_class=HTMLResponse)
async def withdraw_confirm(request: Request, session: SessionDep) -> Response:
    """Step 3: the withdrawal, once per form key. The same form posted again replays the
    stored answer (the redirect to the same withdrawal); another body under the same key is
    refused."""
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    await request.body()  # kept: the idempotency hash reads it after the form parser
    posted = _posted(await form_of(request))
    try:
        await idempotency.claim(request, actor, posted["idempotency_key"])
        made = await gateway.withdrawals.request_withdrawal(
            session, actor, _body(posted),
            per_day=request.app.state.settings.withdrawals_per_day)
    except NotFound as exc:
        await discard(session, exc)
        request.state.before_commit = []
        return not_found(request, actor)
    except (DomainError, ValidationError, ValueError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        request.state.before_commit = []  # nothing is memoised for a refused request
        errors = field_errors(exc) if isinstance(exc, DomainError | ValidationError) else [
            str(exc)]
        return await wallet_page(request, session, actor, errors=errors,
                                 form={**posted, "idempotency_key": ""}, status_code=422)
    return redirect(request, f"/wallet/withdrawals/{made.id}?done=requested")


@router.get("/wallet/withdrawals", response_class=HTMLResponse)
async def withdrawals_list(request: Request, session: SessionDep) -> Response:
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    status = request.query_params.get("status", "all")
    status = status if status in STATUSES else "all"
    page = await gateway.withdrawals.list_withdrawals(session, actor,
                                                      PageParams(1, LIST_LIMIT), status)
    return render(request, "money/withdrawals.html", {
        "page": page, "status": status, "statuses": STATUSES}, actor=actor)


@router.get("/wallet/withdrawals/{withdrawal_id}", response_class=HTMLResponse)
async def withdrawal_page(request: Request, session: SessionDep, withdrawal_id: str) -> Response:
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    wid = parse_id(withdrawal_id)
    try:
        if wid is None:
            raise NotFound("No such withdrawal")
        row = await gateway.withdrawals.get_withdrawal(session, actor, wid)
    except NotFound:
        return not_found(request, actor)
    return render(request, "money/withdrawal.html", {
        "w": row, "done": request.query_params.get("done")}, actor=actor)


@router.post("/wallet/withdrawals/{withdrawal_id}/cancel", response_class=HTMLResponse)
async def withdrawal_cancel(request: Request, session: SessionDep,
                            withdrawal_id: str) -> Response:
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    await form_of(request)
    wid = parse_id(withdrawal_id)
    try:
        if wid is None:
            raise NotFound("No such withdrawal")
        await gateway.withdrawals.cancel(session, actor, wid)
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    except DomainError as exc:
        await discard(session, exc)
        row = await gateway.withdrawals.get_withdrawal(session, actor, wid)  # type: ignore[arg-type]
        return render(request, "money/withdrawal.html", {"w": row, "errors": field_errors(exc)},
                      actor=actor, status_code=409)
    return redirect(request, f"/wallet/withdrawals/{wid}?done=cancelled")
