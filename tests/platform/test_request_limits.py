"""Every input the API accepts is bounded and typed, checked by walking the API itself, so a
new route or schema that forgets a limit fails here the day it is added.

- Each string of a request body or a path/query parameter has a `maxLength` (or is an enum, a
  constant, a fixed format such as a UUID or a date, an upload, or a pattern that is anchored
  and has no unbounded repetition); each array has `maxItems`; each map has `maxProperties`;
  each integer has a `maximum` (at most 2^63-1, what the databases hold); no value is untyped.
- Request models declare booleans and integers strict (`StrictBool`/`StrictInt`): `0`, `"no"`
  or `false` never pass for a flag or a number; decimals carry `max_digits`.
"""

from __future__ import annotations

import decimal
import importlib
import pkgutil
import re
import typing
from typing import Any

import pytest
from pydantic import BaseModel

import mindlinks
from mindlinks.platform.api import MAX_INT64, CamelModel, ResponseModel
from mindlinks.settings import Settings

BOUNDED_FORMATS = {"uuid", "date", "date-time", "email", "binary", "time"}
UNBOUNDED_REPEAT = re.compile(r"(?<!\\)[*+]|\{\d+,\}")


def _bounded_pattern(pattern: str) -> bool:
    return (pattern.startswith("^") and pattern.endswith("$")
            and not UNBOUNDED_REPEAT.search(pattern))


def _problems(schema: dict[str, Any], where: str, components: dict[str, Any],
              seen: frozenset[str] = frozenset()) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return [] if name in seen else _problems(components[name], name, components,
                                                 seen | {name})
    out: list[str] = []
    branches = schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", [])
    # A decimal is `number | string`: its length is bounded by `max_digits`, checked on the
    # models below (JSON Schema has no word for it).
    decimal_like = any(b.get("type") == "number" for b in branches)
    for branch in branches:
        if decimal_like and branch.get("type") == "string" and len(branch) == 1:
            continue
        out += _problems(branch, where, components, seen)
    kind = schema.get("type")
    if kind is None and not branches and not ({"const", "enum", "$ref"} & schema.keys()):
        out.append(f"{where}: untyped value")
    if kind == "string" and not (
        {"maxLength", "enum", "const", "contentMediaType"} & schema.keys()
        or schema.get("format") in BOUNDED_FORMATS
        or _bounded_pattern(schema.get("pattern", ""))
    ):
        out.append(f"{where}: string without maxLength")
    # FastAPI writes bounds as floats: 2^63-1 and 2^63 are the same float, hence `<=`.
    if kind == "integer" and not schema.get("maximum", float("inf")) <= float(MAX_INT64):
        out.append(f"{where}: integer without maximum <= 2^63-1")
    if kind == "array":
        if "maxItems" not in schema:
            out.append(f"{where}: array without maxItems")
        out += _problems(schema.get("items", {}), f"{where}[]", components, seen)
    if kind == "object" or "properties" in schema:
        for name, sub in schema.get("properties", {}).items():
            out += _problems(sub, f"{where}.{name}", components, seen)
        extra = schema.get("additionalProperties")
        if (extra is not False and not schema.get("properties")) or isinstance(extra, dict):
            if "maxProperties" not in schema:
                out.append(f"{where}: map without maxProperties")
            if isinstance(extra, dict):
                out += _problems(extra, f"{where}.*", components, seen)
            keys = schema.get("propertyNames")
            if keys is None or "maxLength" not in keys:
                out.append(f"{where}: map keys without maxLength")
    return out


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from mindlinks.app import create_app

    root = tmp_path_factory.mktemp("limits")
    settings = Settings(env="test", data_dir=root / "var",
                        database_url=f"sqlite+aiosqlite:///{root / 'x.db'}", redis_url=None,
                        _env_file=None)  # type: ignore[call-arg]
    return create_app(settings).openapi()


def test_every_request_input_is_bounded(openapi: dict[str, Any]) -> None:
    components = openapi["components"]["schemas"]
    problems, operations = [], 0
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            operations += 1
            where = f"{method.upper()} {path}"
            for param in operation.get("parameters", []):
                problems += _problems(param.get("schema", {}),
                                      f"{where} {param['in']} {param['name']}", components)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                problems += _problems(content.get("schema", {}), f"{where} body", components)
    assert operations > 50  # the walk saw the API
    assert sorted(set(problems)) == [], "\n".join(sorted(set(problems)))


def test_the_walk_finds_a_missing_limit() -> None:
    """The checker itself: an unbounded string, list, map and integer are each reported."""
    schema = {"type": "object", "properties": {
        "s": {"type": "string"}, "l": {"type": "array", "items": {"type": "string",
                                                                  "maxLength": 3}},
        "m": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 1}},
        "i": {"type": "integer", "minimum": 0}, "a": {},
        "p": {"type": "string", "pattern": "^[a-z]+$"},
        "ok": {"type": "string", "pattern": "^[A-Z]{3}$"},
    }, "additionalProperties": False}
    found = _problems(schema, "X", {})
    assert {f.split(":")[0] for f in found} == {"X.s", "X.l", "X.m", "X.i", "X.a", "X.p"}


def _request_models() -> list[type[BaseModel]]:
    for module in pkgutil.walk_packages(mindlinks.__path__, "mindlinks."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found: list[type[BaseModel]] = []
    stack: list[type[BaseModel]] = [CamelModel]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            # The application's models (tests declare their own probes).
            if not issubclass(sub, ResponseModel) and sub.__module__.startswith("mindlinks."):
                found.append(sub)
    return found


def _loose_types(annotation: Any) -> set[Any]:
    """Plain `bool`/`int` anywhere inside an annotation (unions, lists, dicts)."""
    if annotation in (bool, int):
        return {annotation}
    if typing.get_origin(annotation) is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        if base in (bool, int) and any(getattr(m, "strict", None) for m in meta):
            return set()
        return _loose_types(base)
    out: set[Any] = set()
    for arg in typing.get_args(annotation):
        out |= _loose_types(arg)
    return out


def test_request_models_use_strict_booleans_and_integers() -> None:
    models = _request_models()
    assert len(models) > 30
    loose, unbounded_decimals = [], []
    for model in models:
        for name, field in model.model_fields.items():
            # A field of its own `StrictInt = Field(...)` has its `Strict` moved into metadata.
            strict = any(getattr(m, "strict", None) for m in field.metadata)
            if _loose_types(field.annotation) and not (
                strict and field.annotation in (bool, int)
            ):
                loose.append(f"{model.__module__}.{model.__name__}.{name}")
            inner = [field.annotation, *typing.get_args(field.annotation)]
            if decimal.Decimal in inner and not any(
                getattr(m, "max_digits", None) for m in field.metadata
            ):
                unbounded_decimals.append(f"{model.__name__}.{name}")
    assert loose == []
    assert unbounded_decimals == []


def test_the_strictness_check_sees_plain_types() -> None:
    assert _loose_types(bool | None) == {bool}
    assert _loose_types(list[int]) == {int}
    from pydantic import StrictBool, StrictInt
    assert _loose_types(StrictBool | None) == set()
    assert _loose_types(dict[str, list[StrictInt]]) == set()

