"""CSV cells that a spreadsheet would run as formulas are neutralised (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import pytest

from mindlinks.platform.spreadsheet import csv_text, safe_cell


@pytest.mark.parametrize("value", ["=1+1", "+1+1", "-1+1", "@SUM(A1:A2)", "\t=1", "\r=1",
                                   "=HYPERLINK(\"http://x.test\",\"click\")",
                                   "=cmd|' /C calc'!A0"])
def test_formula_cells_are_neutralised(value: str) -> None:
    assert safe_cell(value) == "'" + value
    (row,) = csv.reader(io.StringIO(csv_text([[value, "plain"]])))
    assert row == ["'" + value, "plain"]


@pytest.mark.parametrize("value", ["Acme Ltd", "12.50", "", "a=b", "deposit:sandbox:pi_1"])
def test_ordinary_cells_are_unchanged(value: str) -> None:
    assert safe_cell(value) == value


def test_quotes_commas_and_newlines_stay_in_their_cell() -> None:
    text = csv_text([['He said "hi", then left\nthe room', 1, None]])
    assert list(csv.reader(io.StringIO(text))) == [['He said "hi", then left\nthe room', "1", ""]]
