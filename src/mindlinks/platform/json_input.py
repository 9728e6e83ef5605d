"""Parsing JSON that arrives as raw bytes (webhook bodies, token headers), bounded in depth.

The standard library's parser recurses once per nesting level: a validly signed webhook
nested 100,000 deep ends in `RecursionError`, which no `except ValueError` catches (a 500).
orjson refuses anything deeper than 1024 levels with a `JSONDecodeError`; the walk below then
holds the parsed value to `MAX_DEPTH`, so code that recurses over the result later (schema
validation, canonical JSON, logging) stays far from Python's recursion limit. Every parser of
raw bodies goes through `parse_json`.
"""

from __future__ import annotations

from typing import Any

import orjson

# No payload we receive nests deeper than a handful of levels.
MAX_DEPTH = 64


class JsonTooDeep(ValueError):
    """A `ValueError`, so callers that already refuse malformed JSON refuse this too."""


def json_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a parsed value (a scalar is 0), counted without recursion; stops
    counting once past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth) for child in children)
    return deepest


def parse_json(raw: bytes | bytearray | memoryview | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """The decoded value; `ValueError` (`orjson.JSONDecodeError` or `JsonTooDeep`) when `raw`
    is not JSON or nests deeper than `max_depth`."""
    value = orjson.loads(raw)
    if json_depth(value, max_depth) > max_depth:
        raise JsonTooDeep(f"JSON nested deeper than {max_depth} levels")
    return value
