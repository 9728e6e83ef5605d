"""One registry of error codes: each code has one status and one title, a second declaration
with another status fails at import time, and every code is documented in docs/api.md."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import mindlinks
from mindlinks.platform.errors import (
    ERROR_CODES,
    Conflict,
    DuplicateErrorCode,
    ErrorCode,
    NotFound,
    register_code,
)

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"
_ROW = re.compile(r"^\|\s*`(\w+)`\s*\|\s*(\d{3})\s*\|", re.M)


def _all_codes() -> dict[str, ErrorCode]:
    """Every code the application can answer with: import every module (a code is registered
    when its class is created), keep the ones declared by the application itself."""
    for module in pkgutil.walk_packages(mindlinks.__path__, "mindlinks."):
        if not module.name.startswith("mindlinks.migrations"):
            importlib.import_module(module.name)
    return {code: entry for code, entry in ERROR_CODES.items()
            if entry.module.startswith("mindlinks.")}


def test_a_code_declared_again_with_another_status_fails_at_class_creation() -> None:
    importlib.import_module("mindlinks.contracts.service")
    with pytest.raises(DuplicateErrorCode, match="contract_not_found"):
        class ClashingNotFound(Conflict):  # 409 where the code is 404
            code, title = "contract_not_found", "Not found"
    with pytest.raises(DuplicateErrorCode):
        register_code("not_found", 410, "Not found")


def test_the_same_declaration_twice_is_one_entry() -> None:
    class Again(NotFound):
        pass
    assert ERROR_CODES["not_found"].status == 404


def test_every_error_code_is_documented_with_its_status() -> None:
    codes = _all_codes()
    assert len(codes) > 100  # the walk found the domains' errors, not just the platform's
    documented = {code: int(status) for code, status in _ROW.findall(API_MD.read_text())}
    missing = sorted(set(codes) - set(documented))
    assert not missing, "add to docs/api.md: " + ", ".join(missing)
    wrong = {c: (documented[c], e.status) for c, e in codes.items() if documented[c] != e.status}
    assert not wrong, f"docs/api.md status differs (doc, code): {wrong}"
    stale = sorted(set(documented) - set(codes))
    assert not stale, "docs/api.md lists codes nothing raises: " + ", ".join(stale)
