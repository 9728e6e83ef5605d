"""Run every scenario (`python -m bench [name ...]`), each in its own process so one's memory
and threads never disturb another's figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    scenarios = sorted(p.stem for p in HERE.glob("*_bench.py"))
    chosen = [s for s in scenarios if not argv or any(a in s for a in argv)]
    failed = 0
    for name in chosen:
        print(f"== {name}", flush=True)
        result = subprocess.run([sys.executable, "-m", f"bench.{name}"], check=False)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
