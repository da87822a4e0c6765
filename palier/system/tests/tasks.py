"""A task for the worker tests: each run leaves its own file, so a task run twice is seen."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django_tasks import task


@task()
def record_run_task(key: str) -> str:
    runs = Path(os.environ["PALIER_TEST_RUNS_DIR"])
    (runs / f"{key}.{os.getpid()}.{uuid.uuid4().hex}").touch()
    return key


def runs_by_key(folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in folder.iterdir():
        key = path.name.split(".", 1)[0]
        counts[key] = counts.get(key, 0) + 1
    return counts
