"""Print the suite's coverage after `make test` - lines and branches separately, since the
combined figure hides weak branch coverage - and fail under the minimum given as argument."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import coverage


def main() -> int:
    minimum = float(sys.argv[1]) if len(sys.argv) > 1 else 0.0
    cov = coverage.Coverage()
    cov.load()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        cov.json_report(outfile=str(out))
        t = json.loads(out.read_text())["totals"]
    print(f"coverage: lines {t['percent_statements_covered']:.1f}% "
          f"({t['covered_lines']}/{t['num_statements']}), "
          f"branches {t['percent_branches_covered']:.1f}% "
          f"({t['covered_branches']}/{t['num_branches']}), "
          f"combined {t['percent_covered']:.1f}%")
    if t["percent_covered"] < minimum:
        print(f"coverage is under the minimum of {minimum}% (COVERAGE_MIN in the Makefile)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
