"""The garbage collector's settings of a web process (``palier/wsgi.py``), in one place so the
benchmarks run with what the server runs.

A big page (a month of 2,000 changes, a queue page) allocates hundreds of thousands of objects.
With CPython's default first threshold (700 allocations) that sets off hundreds of young
collections and, every few requests, a full one walking everything alive: the slowest 5 % of the
change calendar's month page took about 180 ms against 90 ms for the median. Two settings:

- ``gc.freeze()`` once start-up is done: modules, settings, URL patterns and translations live as
  long as the process, and no collection walks them again;
- a first threshold of 20,000: a few dozen young collections per big page instead of hundreds,
  for a few megabytes more between collections. Reference cycles are still collected.

Measured with ``bench/changes.py`` on PostgreSQL (docs/changes.md, "Speed"): month page p95
186 ms → 111 ms, p50 102 → 86 ms.
"""

from __future__ import annotations

import gc

FIRST_THRESHOLD = 20_000


def tune_after_start_up() -> None:
    gc.collect()
    gc.freeze()
    _first, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_THRESHOLD, second, third)
