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

Inside a router the same holds route by route (`_route_match`): FastAPI asks each route in
turn, each ask a scope update, a call chain and a restore; a route whose path expression does
not match the path answers NONE, so it is skipped after one regular expression test. And
FastAPI matches a request's router twice (once to choose it, once more to handle it, on the
same scope): the second time reuses the first answer.

Across the app's entries (`_TopIndex`): one expression per app finds the first entry that can
match the path, once per request; the indexed routers before it answer NONE from the
request's memo. A page's path sits behind ~40 routers, each ask ~0.7 µs before.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

try:  # FastAPI's private steps of a route match (0.165): without them, routes match as before
    from fastapi.routing import (  # type: ignore[attr-defined,unused-ignore]
        _FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY,
        _SCOPE_MISSING,
        _get_fastapi_scope,
        _restore_fastapi_scope_key,
    )
    _IN_ROUTER = True
except ImportError:  # pragma: no cover - another FastAPI version
    _IN_ROUTER = False
from starlette._utils import get_route_path
from starlette.routing import Match, Route, compile_path

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


def _indexed(entry: Any, top: _TopIndex | None = None) -> None:
    """Replace the entry's `matches` with one that skips the router when the path cannot match.

    The union is built on the first request the router is asked about, not at start-up (a
    few compiled expressions; `create_app` runs once per test of the suite). With `top`, an
    entry before the first of the app's entries that can match the path answers NONE after
    one look at the request's memo (see `_TopIndex`)."""
    ask = entry.matches  # the router's own matching, bound before it is replaced
    state: dict[str, Any] = {}
    # The entry's position among the app's routes, kept by `top` (never skipped unless known);
    # `top` is used once `index_routes` has it watching every change (`in_use`).
    position = top.position_of(entry) if top is not None else [_UNKNOWN]
    in_use: list[_TopIndex | None] = [None]

    def union_of() -> re.Pattern[str] | None:
        if "union" not in state:
            patterns = _path_patterns(entry.original_router, entry.include_context.prefix)
            state["union"] = re.compile("|".join(f"(?:{p})" for p in patterns)) \
                if patterns else None
            state["built"] = _version(entry)
        return state["union"]

    def matches(scope: Any) -> tuple[Match, Any]:
        if scope["type"] == "http":
            if (top := in_use[0]) is not None:
                memo = scope.get(_TOP)
                if memo is None or memo[0] is not scope["path"] \
                        or memo[1] is not scope.get("root_path"):
                    memo = top.first(scope)
                if position[0] < memo[2]:
                    return Match.NONE, {}
            union = union_of()
            if union is not None and union.match(get_route_path(scope)) is None \
                    and _version(entry) == state["built"]:
                return Match.NONE, {}
        return ask(scope)

    matches.__wrapped_union__ = union_of  # type: ignore[attr-defined]
    matches.__top__ = in_use  # type: ignore[attr-defined]
    entry.matches = matches
    if _IN_ROUTER and hasattr(entry, "_match"):
        entry._match = _route_match(entry)


# The answer of a router's first match of a request, for its second (see the module docstring).
_MEMO = "mindlinks.route_match"


def _plain_routes(candidates: list[Any]) -> list[tuple[Any, re.Pattern[str]]] | None:
    """Each candidate with its path expression, when all are plain HTTP routes; else None."""
    plain = []
    for candidate in candidates:
        regex = getattr(candidate, "path_regex", None)
        route = getattr(candidate, "original_route", None)
        # A route class with its own `matches` may answer other than by its path: asked as is.
        if not isinstance(route, APIRoute) or type(route).matches is not APIRoute.matches \
                or getattr(candidate, "starlette_route", None) is not None \
                or not isinstance(regex, re.Pattern):
            return None
        plain.append((candidate, regex))
    return plain


def _route_match(entry: Any) -> Any:
    """The router's `_match` (which route of the router, FULL / PARTIAL / NONE), answering what
    FastAPI's answers: for plain HTTP routes, FastAPI's own steps for each route whose path
    expression matches the path; anything else is asked of FastAPI's `_match` as is."""
    ask = entry._match
    state: dict[str, Any] = {"candidates": None, "plain": None}

    def _match(scope: Any) -> tuple[Match, Any, Any, Any]:
        if scope["type"] != "http":
            return ask(scope)
        route_path = get_route_path(scope)
        method = scope.get("method")
        path_params = scope.get("path_params")
        memo = scope.pop(_MEMO, None)
        if memo is not None and memo[0] is entry and memo[1] == route_path \
                and memo[2] == method and memo[3] is path_params:
            return memo[4]
        candidates = entry.effective_candidates()  # FastAPI's version check, as its own does
        if candidates is not state["candidates"]:
            state["candidates"], state["plain"] = candidates, _plain_routes(candidates)
            state["first"] = _first_path(state["plain"])
        plain = state["plain"]
        if plain is None:
            return ask(scope)
        result = _first_match(scope, route_path, plain, state["first"])
        scope[_MEMO] = (entry, route_path, method, path_params, result)
        return result

    return _match


def _first_path(plain: list[tuple[Any, re.Pattern[str]]] | None) -> re.Pattern[str] | None:
    """One expression for the routes' paths, a group per route in order: the group that matched
    is the first route whose own expression matches (the regex engine tries the branches in
    order), so `_first_match` starts there instead of testing each route before it."""
    if not plain:
        return None
    first = re.compile("|".join(f"({_NAMED_GROUP.sub('(?:', regex.pattern)})"
                                for _candidate, regex in plain))
    return first if first.groups == len(plain) else None  # a route with its own groups


def _first_match(scope: Any, route_path: str, plain: list[tuple[Any, re.Pattern[str]]],
                 first: re.Pattern[str] | None = None) -> tuple[Match, Any, Any, Any]:
    """FastAPI's `_IncludedRouter._match` for plain HTTP routes, each route asked with the same
    steps, but only those whose path expression matches."""
    start = 0
    if first is not None:
        found = first.match(route_path)
        if found is None or found.lastindex is None:
            return Match.NONE, {}, None, None
        start = found.lastindex - 1
    partial = None
    for index in range(start, len(plain)):
        candidate, regex = plain[index]
        if regex.match(route_path) is None:
            continue  # the route's own `matches` would answer NONE
        fastapi_scope = _get_fastapi_scope(scope)
        previous = fastapi_scope.get(_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY, _SCOPE_MISSING)
        fastapi_scope[_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY] = candidate
        try:
            match, child_scope = candidate.original_route.matches(scope)
        finally:
            _restore_fastapi_scope_key(scope, _FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY, previous)
        if match == Match.FULL:
            return match, child_scope, candidate.original_route, candidate
        if match == Match.PARTIAL and partial is None:
            partial = (child_scope, candidate.original_route, candidate)
    if partial is not None:
        return Match.PARTIAL, partial[0], partial[1], partial[2]
    return Match.NONE, {}, None, None


def index_routes(app: FastAPI) -> int:
    """Index every included router of `app` (call once its routers are included); returns
    how many were wrapped (each builds its union when first asked)."""
    indexed = 0
    top = _TopIndex(app.router)
    for entry in app.router.routes:
        if not hasattr(entry, "effective_candidates"):
            continue  # a plain route (the docs): asked as before, cheaply
        if hasattr(entry.matches, "__wrapped_union__"):
            continue  # indexed already
        if getattr(getattr(entry, "original_router", None), "_low_priority_routes", None):
            continue  # asked as before (see `_path_patterns`)
        _indexed(entry, top)
        indexed += 1
    if indexed and top.watch():
        for entry in app.router.routes:  # only now: an unwatched top index could go stale
            if hasattr(entry.matches, "__wrapped_union__"):
                entry.matches.__top__[0] = top  # type: ignore[attr-defined]
    return indexed


# The app's first entry that can match a request's path, for the entries before it.
_TOP = "mindlinks.first_entry"
_NEVER = "(?!)"
_UNKNOWN = 1 << 62  # an entry whose position is not known is never skipped
# The `matches` of routes that answer NONE exactly when their path expression does not match.
_PATH_ONLY = (Route.matches, APIRoute.matches)


class _TopIndex:
    """Which of the app's entries is the first that can match a path: one expression, a group
    per entry in order (an indexed router's union, a plain route's own path expression,
    anything else "may match"), tried once per request; the indexed routers before that
    entry answer NONE from the request's memo without testing their own union - each such
    ask cost ~0.7 µs, and a page's path (`/contractor`) sits behind some 40 routers.

    Built on the first request; any change to the app's routes or to an indexed router's
    (FastAPI marks each with `_mark_routes_changed`, watched here) rebuilds it."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self.generation = 0
        self.built: tuple[int, int, int] | None = None
        self.regex: re.Pattern[str] | None = None
        self.positions: dict[int, list[int]] = {}

    def position_of(self, entry: Any) -> list[int]:
        return self.positions.setdefault(id(entry), [_UNKNOWN])

    def watch(self) -> bool:
        """Count every change FastAPI marks on the app's router or an included one; False
        (and no top index) when this FastAPI does not mark them as 0.165 does."""
        routers = [self.router] + [e.original_router for e in self.router.routes
                                   if hasattr(e, "original_router")]
        if not all(callable(getattr(r, "_mark_routes_changed", None)) for r in routers):
            return False  # pragma: no cover - another FastAPI version
        for router in routers:
            mark = router._mark_routes_changed

            def marked(mark: Any = mark) -> None:
                self.generation += 1
                mark()

            router._mark_routes_changed = marked
        return True

    def _build(self) -> None:
        routes = self.router.routes
        parts: list[str] = []
        for cell in self.positions.values():
            cell[0] = _UNKNOWN
        for position, entry in enumerate(routes):
            if id(entry) in self.positions and hasattr(entry.matches, "__wrapped_union__"):
                self.positions[id(entry)][0] = position
                patterns = _path_patterns(entry.original_router, entry.include_context.prefix)
                parts.append("|".join(f"(?:{p})" for p in patterns) if patterns else _NEVER)
            elif type(entry).matches in _PATH_ONLY and isinstance(
                    getattr(entry, "path_regex", None), re.Pattern):
                parts.append(_NAMED_GROUP.sub("(?:", entry.path_regex.pattern))
            else:
                parts.append(".*")  # asked as FastAPI asks it: nothing after it is skipped
        regex = re.compile("|".join(f"({part})" for part in parts)) if parts else None
        # A route's own unnamed group would shift the numbering: then nothing is skipped.
        self.regex = regex if regex is not None and regex.groups == len(parts) else None
        self.built = (self.generation, id(routes), len(routes))

    def first(self, scope: Any) -> tuple[Any, Any, int]:
        """The request's memo: its path, root path and the position of the first entry that
        can match it (every indexed entry before it answers NONE)."""
        routes = self.router.routes
        if self.built != (self.generation, id(routes), len(routes)):
            self._build()
        first = len(routes)  # no entry can match: every indexed one is skipped
        if self.regex is None:
            first = -1
        elif (found := self.regex.match(get_route_path(scope))) is not None \
                and found.lastindex is not None:
            first = found.lastindex - 1
        memo = (scope["path"], scope.get("root_path"), first)
        scope[_TOP] = memo
        return memo

