"""A path index in front of FastAPI's router (issue 11).

FastAPI keeps each `include_router` as one entry of the app's routes and asks the entries in
order, for every request, whether they match. An entry asks each of its routes in turn, and
each ask costs several scope updates and a walk of the router's routes (its version check):
measured in process, finding `GET /api/contracts/contractor/me` (behind ~20 routers and ~100
routes) cost ~400-1,200 µs of CPU per request on this machine, more than the rest of the
request, and a 404 walks everything.

`index_routes(app)` gives each included router one regular expression: the union of its
routes' path expressions. Every route of such a router matches by its path expression first
(a method mismatch, PARTIAL, too), so a router whose union does not match the request's path
cannot match: it answers NONE without asking its routes. The others are asked exactly as
before, in the same order, so the route chosen (and 404 / 405 / slash redirects) does not
change. Routers holding anything but plain HTTP routes (websockets, mounts, frontend
groups) and routers changed after indexing are asked as before.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.routing import Match, compile_path

_NAMED_GROUP = re.compile(r"\(\?P<[^>]+>")


def _path_patterns(router: Any, prefix: str) -> list[str] | None:
    """The path expressions of every route under an included router, or None when one of them
    is not a plain HTTP route (then the router is not indexed).

    Read from the router's own routes and the inclusion's prefix, as FastAPI derives them
    (`prefix + route.path`, compiled by Starlette's `compile_path`), not from FastAPI's
    effective route state: that state builds every route's dependency tree and response
    model (~10-100 ms per router), and skipping a router must not cost its build."""
    if getattr(router, "_low_priority_routes", None):
        return None
    patterns: list[str] = []
    for route in router.routes:
        if hasattr(route, "effective_candidates"):  # a nested included router
            nested = _path_patterns(route.original_router, prefix + route.include_context.prefix)
            if nested is None:
                return None
            patterns.extend(nested)
            continue
        if not isinstance(route, APIRoute):
            return None
        # Named groups may repeat across routes (`contract_id`): unnamed in the union.
        patterns.append(_NAMED_GROUP.sub("(?:", compile_path(prefix + route.path)[0].pattern))
    return patterns


def _version(entry: Any) -> tuple[int, int, int]:
    router = entry.original_router
    return id(router.routes), len(router.routes), router._routes_version


def _indexed(entry: Any) -> None:
    """Replace the entry's `matches` with one that skips the router when the path cannot match.

    The union is built on the first request the router is asked about, not at start-up (a
    few compiled expressions; `create_app` runs once per test of the suite)."""
    ask = entry.matches  # the router's own matching, bound before it is replaced
    state: dict[str, Any] = {}

    def union_of() -> re.Pattern[str] | None:
        if "union" not in state:
            patterns = _path_patterns(entry.original_router, entry.include_context.prefix)
            state["union"] = re.compile("|".join(f"(?:{p})" for p in patterns)) \
                if patterns else None
            state["built"] = _version(entry)
        return state["union"]

    def matches(scope: Any) -> tuple[Match, Any]:
        if scope["type"] == "http":
            union = union_of()
            if union is not None and union.match(get_route_path(scope)) is None \
                    and _version(entry) == state["built"]:
                return Match.NONE, {}
        return ask(scope)

    matches.__wrapped_union__ = union_of  # type: ignore[attr-defined]
    entry.matches = matches


def index_routes(app: FastAPI) -> int:
    """Index every included router of `app` (call once its routers are included); returns
    how many were wrapped (each builds its union when first asked)."""
    indexed = 0
    for entry in app.router.routes:
        if not hasattr(entry, "effective_candidates"):
            continue  # a plain route (the docs): asked as before, cheaply
        if hasattr(entry.matches, "__wrapped_union__"):
            continue  # indexed already
        if getattr(getattr(entry, "original_router", None), "_low_priority_routes", None):
            continue  # asked as before (see `_path_patterns`)
        _indexed(entry)
        indexed += 1
    return indexed
