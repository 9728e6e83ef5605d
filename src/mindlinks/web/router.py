"""The web package's routes: the pages, and its static files (the stylesheet and htmx)."""

from __future__ import annotations

import hashlib

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from mindlinks.platform.errors import NotFound
from mindlinks.web import (
    account_pages,
    admin_adjustment_pages,
    admin_ops_pages,
    admin_pages,
    admin_review_pages,
    architecture,
    auth_pages,
    bank_pages,
    client_pages,
    company_pages,
    contract_end_pages,
    contract_pages,
    contractor_pages,
    credential_edit_pages,
    credential_pages,
    invoice_pages,
    language,
    notification_pages,
    notification_template_pages,
    profile_pages,
    withdraw_pages,
)
from mindlinks.web.pages import STATIC_DIR, templates

static_router = APIRouter(include_in_schema=False)
# Fixed at start-up: only these files are served (no path from the URL reaches the disk).
_STATIC = {p.name: p for p in STATIC_DIR.iterdir() if p.is_file()}
_MEDIA = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".txt": "text/plain; charset=utf-8"}
# `?v=` of the stylesheet link: a changed file gets a new URL, so it can be cached for long.
CSS_VERSION = hashlib.sha256(_STATIC["app.css"].read_bytes()).hexdigest()[:12]
templates.env.globals["css_version"] = CSS_VERSION


@static_router.get("/static/{name}")
async def static_file(name: str) -> Response:
    path = _STATIC.get(name)
    if path is None:
        raise NotFound("No such file")
    return FileResponse(path, media_type=_MEDIA.get(path.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "public, max-age=86400"})


# contract_pages before account_pages: its `/contracts/{id}` answers first (the full page).
routers = [static_router, auth_pages.router, contract_pages.router, account_pages.router,
           language.router, admin_pages.router, architecture.router]
routers += [admin_review_pages.router, admin_ops_pages.router]  # admin queues, alerts, templates
routers += [admin_adjustment_pages.router]  # maker-checker balance adjustments
routers += [contractor_pages.router, client_pages.router, invoice_pages.router,  # money
            withdraw_pages.router]
routers += [bank_pages.router, credential_pages.router, credential_edit_pages.router,  # account
            company_pages.router]
routers += [notification_pages.router, notification_template_pages.router]
routers += [contract_end_pages.router]  # cancel / terminate
routers += [profile_pages.router]  # the profile form and avatar

