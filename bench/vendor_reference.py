#!/usr/bin/env python3
"""The vendor reference pattern (``palier/lib/refpattern.py``): what one search costs, and how
long a catastrophic pattern holds the intake before it is cut short.

    .venv/bin/python bench/vendor_reference.py
    .venv/bin/python bench/vendor_reference.py --rounds 50

No database: the search runs in the process on the ``regex`` package, with its time limit. Prints
the median and p95 of a good pattern on a 4 KB body, of saving it (the worst-case probes), and the
time a backtracking pattern takes to be stopped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palier.settings")


def _timed(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    runs = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    return statistics.median(runs), runs[max(0, round(0.95 * len(runs)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    import django

    django.setup()
    from palier.lib import refpattern

    body = ("Hello, we looked at the controller logs again. " * 90)[:4000] + " Case #55123"
    median, p95 = _timed(
        lambda: refpattern.search(r"Case #(\d+)", subject="RE: [INC-1042] SAN controller", body=body), args.rounds
    )
    print(f"search, good pattern, 4 KB body: median {median:.0f} ms, p95 {p95:.0f} ms")
    median, p95 = _timed(lambda: refpattern.check(r"Case #(\d+)"), args.rounds)
    print(f"check when saved (worst-case probes): median {median:.0f} ms, p95 {p95:.0f} ms")
    median, p95 = _timed(lambda: refpattern.search(r"(a+)+$", subject="a" * 60 + "!", body=""), 3)
    print(f"catastrophic pattern cut short after: median {median:.0f} ms (limit {refpattern.RUN_SECONDS:.0f} s)")


if __name__ == "__main__":
    main()
