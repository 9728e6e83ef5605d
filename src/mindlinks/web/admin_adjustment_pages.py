"""Admin screen of balance adjustment requests (maker-checker, RELIABILITY 31): the requests an
adjustment above `Settings.adjustment_approval_minor` made (`payments.admin`, as
`GET /api/admin/payments/adjustments`), and approve / reject for a pending one through the
same service functions as `POST /api/admin/payments/adjustments/{id}/approve|reject`.

Guard and CSRF as every admin page (admin_pages): signed out -> login, another role -> 404,
no TOTP step -> 403, the CSRF token checked before anything else. Who may decide is the
service's rule, never the page's: the page passes the signed-in admin, and the requester's
approve is refused there (403 `same_admin`) whatever the form says; the page only greys the
button out for them. A refused decision rolls back and shows the service's message on the list
with its status (403, 409 decided or expired); an unknown or malformed id is the 404 page.

No idempotency key on these forms (the API's approve takes an `Idempotency-Key` to replay a
retried response): a decision is a transition of one locked row, and an approval's transfer
has the reference `adjustment-request:{id}`, so a second submit - a double click, a resent
form, another admin at the same time - can never execute twice; it finds the request decided
and shows the 409 ("already approved") instead of replaying a redirect that would hide who
decided. The page has no response to replay.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from mindlinks.payments import service as payments
from mindlinks.platform.api import SessionDep, domain_router
from mindlinks.platform.errors import DomainError
from mindlinks.platform.security import Actor
from mindlinks.web.admin_pages import _form, _guard, _not_found, _page, _pager, _text, _uuid
from mindlinks.web.i18n import N_
from mindlinks.web.pages import field_errors, redirect, refused, render

router = domain_router(include_in_schema=False)
PATH = "/admin/adjustments"
STATUSES = ("pending", "approved", "rejected", "expired")  # and "all"
STATUS_NAMES = [N_("pending approval")]  # the shown state of a pending request
DECISIONS = {"approve": payments.approve_adjustment, "reject": payments.reject_adjustment}


def _status(value: str | None) -> str:
    """The filter: what waits (`pending`) unless another state or `all` is asked for."""
    return value if value in (*STATUSES, "all") else "pending"


async def _list(request: Request, session: SessionDep, actor: Actor, status: str,
                errors: list[str] | None = None, status_code: int = 200) -> Response:
    params = _page(request)
    page = await payments.list_adjustment_requests(session, params, status)
    done = request.query_params.get("done")
    return render(request, "admin/adjustments.html", {
        "rows": page.data, "status": status, "statuses": STATUSES, "errors": errors,
        "done": done if done in DECISIONS else None,
        # A refused form shows the list's first page: its links would carry the POST's path.
        "pager": _pager(request, params, page.meta.total) if request.method == "GET" else None,
    }, actor=actor, status_code=status_code)


@router.get(PATH, response_class=HTMLResponse)
async def adjustment_list(request: Request, session: SessionDep) -> Response:
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    return await _list(request, session, actor, _status(request.query_params.get("status")))


async def _decide(request: Request, session: SessionDep, request_id: str,
                  action: str) -> Response:
    form = await _form(request)
    actor = await _guard(request)
    if not isinstance(actor, Actor):
        return actor
    key = _uuid(request_id)
    if key is None:
        return _not_found(request, actor)
    status = _status(_text(form, "status", 20))  # the list the admin came from
    try:
        await DECISIONS[action](session, actor, key)
    except payments.AdjustmentRequestNotFound:
        return _not_found(request, actor)
    except DomainError as exc:  # same_admin 403, decided or expired 409: nothing moved
        code = await refused(session, exc)
        return await _list(request, session, actor, status, field_errors(exc), code)
    return redirect(request, f"{PATH}?{urlencode({'status': status, 'done': action})}")


@router.post(PATH + "/{request_id}/approve", response_class=HTMLResponse)
async def adjustment_approve(request: Request, session: SessionDep, request_id: str) -> Response:
    return await _decide(request, session, request_id, "approve")


@router.post(PATH + "/{request_id}/reject", response_class=HTMLResponse)
async def adjustment_reject(request: Request, session: SessionDep, request_id: str) -> Response:
    return await _decide(request, session, request_id, "reject")
