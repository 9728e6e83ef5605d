"""`GET /files/{key}?exp=...&sig=...`: downloads of the local storage backend.

The signature is the only authorisation: whoever holds an unexpired URL may fetch that one
key, with that method, under that download name. Anything else - expired, another key, another
method, a changed name or signature - is the same 403, whether the file exists or not. The
query string (which holds the signature) is never logged here; the access log records the
path only.
"""

from __future__ import annotations

import os
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import FileResponse

from mindlinks.platform.api import domain_router
from mindlinks.platform.errors import NotFound, PermissionDenied
from mindlinks.platform.storage import (
    InvalidKey,
    LocalStorage,
    content_disposition,
    get_storage,
    validate_key,
)
from mindlinks.platform.uploads import MIME_BY_EXTENSION

router = domain_router(tags=["files"])

_DENIED = "The link is invalid or has expired."


class InvalidUrlSignature(PermissionDenied):
    code, title = "invalid_url_signature", "Invalid or expired link"


@router.api_route(
    "/files/{key:path}",
    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    include_in_schema=False,
)
async def download_file(
    request: Request,
    key: str,
    exp: Annotated[str | None, Query()] = None,
    sig: Annotated[str | None, Query()] = None,
    name: Annotated[str | None, Query()] = None,
) -> FileResponse:
    storage = get_storage(request.app.state)
    if not isinstance(storage, LocalStorage):
        raise NotFound()
    try:
        validate_key(key)
    except InvalidKey as exc:
        raise InvalidUrlSignature(_DENIED) from exc
    # Only GET URLs are ever issued, so any other method fails here (signed with its own name).
    if not storage.signer.verify(request.method, key, exp, name or "", sig):
        raise InvalidUrlSignature(_DENIED)
    path = storage.path_of(key)
    if not path.is_file():
        raise NotFound("The file no longer exists.")
    # X-Content-Type-Options: nosniff is added to every response by PlatformMiddleware.
    return FileResponse(
        path,
        media_type=MIME_BY_EXTENSION.get(os.path.splitext(key)[1], "application/octet-stream"),
        headers={
            "Content-Disposition": content_disposition(name or key.rsplit("/")[-1]),
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Referrer-Policy": "no-referrer",
        },
    )
