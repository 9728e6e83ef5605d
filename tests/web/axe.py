"""axe-core inside the test browser: every page a browser test visits is checked, in the
light and the dark colour scheme (contrast differs), and any serious or critical violation
fails the test with the rule, the impact and the offending elements.

axe-core **4.14.1** is vendored from the npm package `axe-core@4.14.1` (`axe.min.js`, sha256
below; MPL-2.0, licence beside it). It is injected with `page.evaluate` (DevTools, so the
page's CSP, which forbids inline scripts, does not apply) and never served by the app.
To upgrade: `npm pack axe-core@X`, copy `package/axe.min.js` to `vendor/axe-core-X.min.js`,
change AXE_FILE and AXE_SHA256.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

AXE_FILE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
FAILING_IMPACTS = {"serious", "critical"}
_source: str | None = None


def axe_source() -> str:
    global _source
    if _source is None:
        data = AXE_FILE.read_bytes()
        assert hashlib.sha256(data).hexdigest() == AXE_SHA256, "vendored axe-core changed"
        _source = data.decode("utf-8")
    return _source


async def violations(page: Any) -> list[dict[str, Any]]:
    """axe's serious/critical violations of the page as it is now."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(axe_source())
    result = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [v for v in result if v.get("impact") in FAILING_IMPACTS]


async def _javascript_enabled(page: Any) -> bool:
    """Every page of the app loads htmx: with scripting off it never ran (a synchronous
    evaluate still works there; promises and timers do not)."""
    return bool(await page.evaluate("typeof window.htmx !== 'undefined'"))


async def check(page: Any, name: str) -> None:
    """No serious or critical violation in light nor dark mode; the page is left in light.
    A page in a context without JavaScript (where axe's timers never fire) is checked as a
    copy: its HTML set in a scripted page of the same origin (so the stylesheet applies)."""
    if not await _javascript_enabled(page):
        html, url = await page.content(), page.url
        context = await page.context.browser.new_context()
        try:
            copy = await context.new_page()
            # The copy runs no page script either (axe's own code is injected by DevTools).
            html = re.sub(r"<script\b[^>]*>.*?</script>", "", html, flags=re.S)
            origin = "/".join(url.split("/")[:3])
            await copy.goto(origin + "/static/htmx-LICENSE.txt")  # same origin: CSS loads
            await copy.set_content(html)
            await _check_scripted(copy, name)
        finally:
            await context.close()
        return
    await _check_scripted(page, name)


async def _check_scripted(page: Any, name: str) -> None:
    found: dict[str, list[dict[str, Any]]] = {}
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        if problems := await violations(page):
            found[scheme] = [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
                              "nodes": [n["target"] for n in v["nodes"][:5]]}
                             for v in problems]
    await page.emulate_media(color_scheme="light")
    assert not found, f"accessibility violations on {name} ({page.url}):\n" + json.dumps(
        found, indent=1, ensure_ascii=False)
