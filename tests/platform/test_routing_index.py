"""The path index (`platform/routing.py`) only skips routers that cannot match: for every
route's path (with sample values), a trailing-slash variant and unknown paths, under every
method, the app's routers answer exactly what they answer without the index."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from starlette.routing import Match

from mindlinks.platform.routing import _path_patterns, index_routes

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PARAM = re.compile(r"{([^}:]+)(?::([^}]+))?}")
SAMPLES = {None: "x", "str": "x", "int": "7", "path": "a/b.txt", "uuid": str(uuid.uuid4())}


def _formats(entry: Any) -> list[str]:
    found = []
    for candidate in entry.effective_candidates():
        if hasattr(candidate, "effective_candidates"):
            found.extend(_formats(candidate))
        elif getattr(candidate, "path", None):
            found.append(candidate.path)
    return found


def _paths(app: Any) -> set[str]:
    paths = {"/", "/nope", "/api", "/api/contracts", "/api/contracts/", "/api/x/y/z"}
    for entry in app.router.routes:
        formats = _formats(entry) if hasattr(entry, "effective_candidates") else [entry.path]
        for fmt in formats:
            path = _PARAM.sub(lambda m: SAMPLES.get(m.group(2), "x"), fmt)
            paths.update({path, path + "/", path.rstrip("/") or "/"})
    return paths


def _resolve(app: Any, scope: dict[str, Any], indexed: bool) -> tuple[int, Match] | None:
    partial = None
    for n, entry in enumerate(app.router.routes):
        # Without the index: the class's own `matches`, as FastAPI defines it.
        match, _ = entry.matches(scope) if indexed else type(entry).matches(entry, scope)
        if match == Match.FULL:
            return n, match
        if match == Match.PARTIAL and partial is None:
            partial = (n, match)
    return partial


async def test_the_index_chooses_the_routes_fastapi_chooses(app: Any) -> None:
    assert sum(hasattr(e.matches, "__wrapped_union__") for e in app.router.routes) > 30
    paths = _paths(app)
    assert len(paths) > 300
    differ = []
    for path in sorted(paths):
        for method in METHODS:
            scope = {"type": "http", "method": method, "path": path, "root_path": "",
                     "headers": [], "query_string": b""}
            if _resolve(app, dict(scope), True) != _resolve(app, dict(scope), False):
                differ.append((method, path))
    assert differ == []


async def test_indexed_requests_still_route(client: httpx.AsyncClient, app: Any) -> None:
    assert index_routes(app) == 0  # already indexed by create_app: not wrapped twice
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/api/auth/me")).status_code == 401
    assert (await client.get("/api/no-such-thing")).status_code == 404
    assert (await client.delete("/api/auth/me")).status_code == 405


def _effective_patterns(entry: Any) -> list[str]:
    found = []
    for candidate in entry.effective_candidates():
        if hasattr(candidate, "effective_candidates"):
            found.extend(_effective_patterns(candidate))
        else:
            found.append(_NAMED.sub("(?:", candidate.path_regex.pattern))
    return found


_NAMED = re.compile(r"\(\?P<[^>]+>")


async def test_each_union_holds_the_expressions_fastapi_derives(app: Any) -> None:
    """The unions are read from the routers' own routes; FastAPI's effective routes, built the
    long way, give the same expressions in the same order."""
    indexed = [e for e in app.router.routes if hasattr(e.matches, "__wrapped_union__")]
    assert len(indexed) > 30
    for entry in indexed:
        assert _path_patterns(entry.original_router, entry.include_context.prefix) \
            == _effective_patterns(entry), entry.original_router


async def test_a_skipped_router_builds_nothing(client: httpx.AsyncClient, app: Any) -> None:
    """Skipping a router must not build its FastAPI state (each route's dependency tree and
    response model): that build, per router and per app, was most of a test's setup."""
    assert (await client.get("/api/auth/me")).status_code == 401
    built = [e for e in app.router.routes if hasattr(e, "effective_candidates")
             and e._effective_candidates_version is not None]
    assert 0 < len(built) <= 2, [e.original_router for e in built]


def _inner(entry: Any, scope: dict[str, Any], indexed: bool) -> Any:
    # With the index: the router's `_match` as create_app left it; without: FastAPI's own.
    match, child, route, context = (entry._match(scope) if indexed
                                    else type(entry)._match(entry, scope))
    return match, route, context, child.get("endpoint"), child.get("path_params")


async def test_the_index_chooses_the_route_fastapi_chooses_inside_a_router(app: Any) -> None:
    """Route by route within each router: the same route, match and path parameters as
    FastAPI's own `_match`, for every path and method (a fresh scope each time, so the reuse
    of a first answer never applies), in every router the index lets a path reach."""
    paths = _paths(app)
    entries = [e for e in app.router.routes if hasattr(e, "effective_candidates")]
    assert sum("_match" in vars(e) for e in entries) > 30
    differ = []
    for path in sorted(paths):
        for method in METHODS:
            scope = {"type": "http", "method": method, "path": path, "root_path": "",
                     "headers": [], "query_string": b""}
            for entry in entries:
                union = entry.matches.__wrapped_union__()
                if union is not None and union.match(path) is None:
                    continue  # never asked for this path (the test above)
                if _inner(entry, dict(scope), True) != _inner(entry, dict(scope), False):
                    differ.append((method, path, entry.original_router.prefix))
    assert differ == []


async def test_a_second_match_reuses_the_first_only_for_the_same_request_path(app: Any) -> None:
    entry = next(e for e in app.router.routes
                 if getattr(getattr(e, "original_router", None), "prefix", "") == "/api/auth")
    scope = {"type": "http", "method": "GET", "path": "/api/auth/me", "root_path": "",
             "headers": [], "query_string": b""}
    first = entry._match(scope)
    assert first[0] == Match.FULL
    assert entry._match(scope) is first  # the handling pass: the same answer, not asked again
    assert entry._match(scope) is not first  # used once
    entry._match(scope)
    scope["method"] = "DELETE"  # another request on the same dict: asked again
    assert entry._match(scope)[0] == Match.PARTIAL


async def test_health_is_the_apps_first_route_and_answers(client: httpx.AsyncClient,
                                                          app: Any) -> None:
    """Liveness probes hit `/health` most: it is the app's own first route (after FastAPI's
    docs routes, as in a bare app), with no included router's entry in between
    (platform/health.py `install`)."""
    from fastapi.routing import APIRoute

    first = next(r for r in app.router.routes if type(r).__name__ != "Route")
    assert isinstance(first, APIRoute) and first.path == "/health"
    assert first.matches({"type": "http", "path": "/health", "method": "GET",
                          "root_path": ""})[0] is Match.FULL
    r = await client.get("/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert (await client.get("/health/ready")).status_code == 200


async def test_routers_before_the_first_that_can_match_are_skipped(app: Any) -> None:
    """One expression finds the app's first entry that can match a path; the indexed routers
    before it answer NONE from the request's memo, whatever their union would say."""
    from mindlinks.platform.routing import _TOP

    scope = {"type": "http", "method": "GET", "path": "/contractor", "root_path": "",
             "headers": [], "query_string": b""}
    found = _resolve(app, scope, True)
    assert found is not None and found[1] is Match.FULL
    assert scope[_TOP][2] == found[0]  # the first entry that can match is the one chosen
    earlier = [e for e in app.router.routes[:found[0]] if hasattr(e.matches, "__wrapped_union__")]
    assert len(earlier) > 30
    # An earlier router asked with a memo saying it comes first is asked for real (and says
    # NONE by its own union): the memo alone decided the skip.
    for entry in earlier:
        assert entry.matches(scope)[0] is Match.NONE


async def test_a_route_added_after_serving_is_routed(client: httpx.AsyncClient, app: Any) -> None:
    """Routes added through FastAPI after the index was built (here to the first included
    router, which the index would otherwise skip for this path) rebuild it."""
    assert (await client.get("/api/nothing-here")).status_code == 404  # the index is built
    entry = next(e for e in app.router.routes if hasattr(e.matches, "__wrapped_union__"))

    async def late() -> dict[str, bool]:
        return {"late": True}

    entry.original_router.add_api_route("/zz-late-route", late, methods=["GET"])
    r = await client.get("/zz-late-route")
    assert r.status_code == 200 and r.json() == {"late": True}
