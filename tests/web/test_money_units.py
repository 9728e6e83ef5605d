"""The money dashboards' SVG bar chart: title/desc for screen readers, escaped labels, bars in
proportion, empty state."""

from __future__ import annotations

import re
from decimal import Decimal

from mindlinks.web.charts import Bar, bar_chart


def test_bar_chart_is_labelled_escaped_and_proportional():
    svg = str(bar_chart("Earnings <by> month", "Amounts & more", [
        Bar("2024-11", Decimal("50"), "50.00 USD"), Bar("<script>", Decimal("100"), "100")]))
    assert 'role="img"' in svg and "<title id=" in svg and "<desc id=" in svg
    assert "Earnings &lt;by&gt; month" in svg and "Amounts &amp; more" in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([0-9.]+)"', svg)]
    assert heights[1] == 2 * heights[0] > 0
    ids = re.findall(r'aria-labelledby="([^"]+)"', svg)[0].split()
    assert all(f'id="{i}"' in svg for i in ids)


def test_empty_chart_says_so():
    svg = str(bar_chart("Earnings", "None yet", [], "No earnings in this period."))
    assert "<rect" not in svg and "No earnings in this period." in svg
