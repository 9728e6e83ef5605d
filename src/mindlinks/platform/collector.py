"""The cyclic garbage collector paused for a bounded piece of work: `with paused(): ...`.

A batch job that allocates a few hundred thousand container objects (rows read, rows to
write, their JSON) triggers a young-generation collection every 700 allocations and a full
one every few hundred items; each scans the batch's live objects again, which are all still
in use - ~15 % of the payroll's client CPU (docs/performance.md "Payroll ... sixth pass").
Paused around one batch (a bounded number of items, one transaction), collections resume
afterwards. Reference counting still frees everything that is not in a cycle meanwhile.

Nested and concurrent uses (two batches interleaved on one event loop) share a count: the
collector is enabled again when the last one ends, and only if it was enabled before the
first began (a process that disabled it itself keeps it disabled).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_enabled
    if _depth == 0:
        _was_enabled = gc.isenabled()
        gc.disable()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _was_enabled:
            gc.enable()
