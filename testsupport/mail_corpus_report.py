"""``python -m testsupport.mail_corpus_report [--misses]``: the corpus pass rate per source and expectation."""

from __future__ import annotations

import sys
from collections import Counter

from testsupport.mail_corpus import corpus_path, run


def main(argv: list[str]) -> int:
    root = corpus_path()
    if not (root / "INDEX.json").exists():
        print(f"email corpus missing at {root} (set PALIER_EMAIL_CORPUS)")
        return 1
    outcomes = run(root)
    errors = [o for o in outcomes if o.error]
    met: Counter[tuple[str, str]] = Counter()
    total: Counter[tuple[str, str]] = Counter()
    misses: list[str] = []
    for outcome in outcomes:
        for check in outcome.checks:
            total[(outcome.source, check.name)] += 1
            met[(outcome.source, check.name)] += check.ok
            if not check.ok:
                misses.append(f"{outcome.path}: {check.name}: {check.detail}")
    all_met, all_total = sum(met.values()), sum(total.values())
    print(f"messages: {len(outcomes)}, processed without exception: {len(outcomes) - len(errors)}")
    for outcome in errors:
        print(f"  ERROR {outcome.path}: {outcome.error}")
    print(f"expectations met: {all_met}/{all_total} ({100 * all_met / max(all_total, 1):.1f}%)")
    print(f"{'source':32} {'expectation':20} {'met':>5} {'total':>5}")
    for key in sorted(total):
        print(f"{key[0]:32} {key[1]:20} {met[key]:5} {total[key]:5}")
    if "--misses" in argv:
        print(f"misses ({len(misses)}):")
        for line in misses:
            print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
