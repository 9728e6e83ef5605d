"""The contractor's withdrawals: the form on the wallet page → the itemised fee and FX quote
(`payments.service.create_quote`, the same as `POST …/withdrawals/quote`: flat, percent and FX
fees, rate, target amount, arrival, expiry), shown before anything moves → the final POST, which
takes that quote (single use) in `request_withdrawal`. The final POST is guarded by an
idempotency key generated once per form: a double click or a retried post gets the same
withdrawal back, never a second one. An expired or used quote is said so, with a button for a
fresh quote. And the withdrawals list with cancel for a pending one.

Step 2 stores a quote (its rate locked for 30 minutes) and moves no money; only the final POST
holds the amount.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from mindlinks.payments import service as payments
from mindlinks.payments.schemas import QuoteCreate, QuoteOut
from mindlinks.platform import idempotency
from mindlinks.platform.api import PageParams, SessionDep, domain_router
from mindlinks.platform.errors import DomainError, NotFound
from mindlinks.platform.security import Actor, Role
from mindlinks.web import i18n
from mindlinks.web.dash import Denied, form_of, not_found, parse_id, signed_in, text
from mindlinks.web.pages import discard, field_errors, redirect, render

router = domain_router(include_in_schema=False)
LIST_LIMIT = 50
STATUSES = ("all", "pending", "processing", "completed", "failed", "cancelled", "reversed")
# What the confirm step answers with a fresh-quote offer rather than the wallet form.
STALE_QUOTE = (payments.QuoteExpired, payments.QuoteUsed)


async def _contractor(request: Request) -> Actor:
    return await signed_in(request, Role.CONTRACTOR)


def _posted(form: FormData) -> dict[str, str]:
    return {"amount": text(form, "amount", 24).strip().replace(",", ""),
            "currency": text(form, "currency", 3).upper(),
            "target_currency": text(form, "target_currency", 3).upper(),
            "method_id": text(form, "method_id", 40),
            "quote_id": text(form, "quote_id", 40),
            "idempotency_key": text(form, "idempotency_key", 40)}


def _amount(posted: dict[str, str]) -> Decimal:
    try:
        return Decimal(posted["amount"] or "x")
    except InvalidOperation:
        raise ValueError(i18n.gettext("Amount: enter a number")) from None


def _quote_body(posted: dict[str, str]) -> QuoteCreate:
    return QuoteCreate(amount=_amount(posted), currency=posted["currency"],
                       withdrawal_method_id=posted["method_id"],
                       target_currency=posted["target_currency"] or None)


def _body(posted: dict[str, str]) -> payments.WithdrawalCreate:
    return payments.WithdrawalCreate(amount=_amount(posted), currency=posted["currency"],
                            withdrawal_method_id=posted["method_id"],
                            quote_id=posted["quote_id"] or None)


def _messages(exc: Exception) -> list[str]:
    return field_errors(exc) if isinstance(exc, DomainError | ValidationError) else [str(exc)]


async def wallet_page(request: Request, session: SessionDep, actor: Actor, *,
                      errors: list[str] | None = None, form: dict[str, str] | None = None,
                      status_code: int = 200) -> Response:
    wallet = await payments.wallet(session, actor)
    history = await payments.wallet_history(session, actor, PageParams(1, LIST_LIMIT),
                                           status="all", contract_id=None, start=None,
                                           end=None)
    recent = await payments.list_withdrawals(session, actor, PageParams(1, 5), "all")
    return render(request, "money/wallet_withdraw.html", {
        "wallet": wallet, "history": history, "withdrawals": recent, "errors": errors,
        "form": form or {}, "targets": payments.QUOTE_CURRENCIES,
        # One key per rendered form: the quote page carries it to the final POST.
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


async def _quote(request: Request, session: SessionDep, actor: Actor,
                 body: QuoteCreate) -> tuple[QuoteOut, Any]:
    """The stored quote (payments' own pricing, rate locked) and the destination, after the
    one check the quote does not make and the contractor is best told before confirming: the
    available balance."""
    wallet = await payments.wallet(session, actor)
    available = next((b.available_balance for b in wallet.balances
                      if b.currency == body.currency), None)
    if available is None or Decimal(str(available)) < body.amount:
        raise payments.InsufficientFunds(
            f"You have {available or 0} {body.currency} available")
    settings = request.app.state.settings
    quote = await payments.create_quote(
        session, actor, payments.get_rates_provider(request.app.state),
        payments.QuotePolicy.from_settings(settings), body)
    method = next((m for m in wallet.withdrawal_methods
                   if m.id == body.withdrawal_method_id), None)
    return quote, method


def _rate(rate: Decimal) -> str:
    """A rate with up to 6 decimals in the page's digits (the money filter would round it to
    the currency's 2)."""
    lang = i18n.current()
    shown = str(format_decimal(rate, format="#,##0.######", locale=lang,
                               numbering_system="arab" if lang == "ar" else "latn"))
    return shown.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) if lang == "ar" else shown


@router.post("/wallet/withdraw", response_class=HTMLResponse)
async def withdraw_quote(request: Request, session: SessionDep) -> Response:
    """Step 2: the itemised quote and the confirm button (no money moves)."""
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    posted = _posted(await form_of(request))
    i18n.use(i18n.language_of(request))  # messages built below are in the page's language
    try:
        quote, method = await _quote(request, session, actor, _quote_body(posted))
    except (DomainError, ValidationError, ValueError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        return await wallet_page(request, session, actor, errors=_messages(exc), form=posted,
                                 status_code=exc.status if isinstance(exc, DomainError)
                                 and exc.status == 429 else 422)
    return render(request, "money/withdraw_confirm.html", {
        "quote": quote, "form": posted, "method": method, "rate": _rate(quote.rate),
        "one": _rate(Decimal(1)),
        "fee_total": quote.fee.flat + quote.fee.percent + quote.fee.fx,
        "converted": quote.target_currency != quote.currency}, actor=actor)


def _stale(request: Request, actor: Actor, posted: dict[str, str], exc: DomainError) -> Response:
    """The quote ran out or was used: say which, and offer a fresh one for the same amount (a
    new form key: the new quote is another request)."""
    return render(request, "money/withdraw_confirm.html", {
        "stale": exc.code,
        "form": {**posted, "quote_id": "", "idempotency_key": str(uuid.uuid4())}},
        actor=actor, status_code=409)


@router.post("/wallet/withdrawals", response_class=HTMLResponse)
async def withdraw_confirm(request: Request, session: SessionDep) -> Response:
    """Step 3: the withdrawal under the quote, once per form key. The same form posted again
    replays the stored answer (the redirect to the same withdrawal); another body under the
    same key is refused; an expired or used quote offers a fresh one."""
    try:
        actor = await _contractor(request)
    except Denied as denied:
        return denied.response
    await request.body()  # kept: the idempotency hash reads it after the form parser
    posted = _posted(await form_of(request))
    i18n.use(i18n.language_of(request))
    try:
        if not posted["quote_id"]:
            raise ValueError(i18n.gettext("Review the quote before confirming"))
        await idempotency.claim(request, actor, posted["idempotency_key"])
        made = await payments.request_withdrawal(
            session, actor, _body(posted),
            per_day=request.app.state.settings.withdrawals_per_day)
    except NotFound as exc:
        await discard(session, exc)
        request.state.before_commit = []
        return not_found(request, actor)
    except STALE_QUOTE as exc:
        await discard(session, exc)
        request.state.before_commit = []
        return _stale(request, actor, posted, exc)
    except (DomainError, ValidationError, ValueError) as exc:
        if isinstance(exc, DomainError):
            await discard(session, exc)
        request.state.before_commit = []  # nothing is memoised for a refused request
        return await wallet_page(request, session, actor, errors=_messages(exc),
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
    page = await payments.list_withdrawals(session, actor,
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
        row = await payments.get_withdrawal(session, actor, wid)
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
        await payments.cancel_withdrawal(session, actor, wid)
    except NotFound as exc:
        await discard(session, exc)
        return not_found(request, actor)
    except DomainError as exc:
        await discard(session, exc)
        row = await payments.get_withdrawal(session, actor, wid)  # type: ignore[arg-type]
        return render(request, "money/withdrawal.html", {"w": row, "errors": field_errors(exc)},
                      actor=actor, status_code=409)
    return redirect(request, f"/wallet/withdrawals/{wid}?done=cancelled")
