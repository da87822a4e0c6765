"""What the intake's durable commit costs on SQLite: one INSERT of a 6 KB raw message per
transaction, as ``palier mailgate`` does, in WAL mode with synchronous=NORMAL (the desk's setting)
and with synchronous=FULL (the intake's commit since issue 16). Plain sqlite3, a temporary file.

    .venv/bin/python bench/mailgate_durability.py [--messages 500] [--dir /var/lib/palier]

Run it on the disk the database lives on: the figure is the disk's fsync time.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time


def run(folder: str, messages: int, synchronous: str) -> list[float]:
    path = os.path.join(folder, f"bench-{synchronous}.sqlite3")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE inbound (id INTEGER PRIMARY KEY, dedupe_key TEXT UNIQUE, raw BLOB)")
    raw = os.urandom(6000)
    times = []
    for n in range(messages):
        start = time.perf_counter()
        db.execute(f"PRAGMA synchronous={synchronous}")
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO inbound (dedupe_key, raw) VALUES (?, ?)", (f"m{n}@bench", raw))
        db.execute("COMMIT")
        db.execute("PRAGMA synchronous=NORMAL")
        times.append(time.perf_counter() - start)
    db.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--dir", default=None, help="folder on the database's disk (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for level in ("NORMAL", "FULL"):
            times = sorted(run(folder, args.messages, level))
            median, p95 = statistics.median(times), times[int(len(times) * 0.95)]
            print(f"synchronous={level:6}  median {median * 1000:.2f} ms  p95 {p95 * 1000:.2f} ms per message")


if __name__ == "__main__":
    main()
