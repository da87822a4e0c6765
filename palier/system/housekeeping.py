"""Housekeeping jobs: what a desk running for years must clean up by itself.

- Finished background-task results (the database queue keeps one row per job): successful ones
  after ``TASK_RESULTS_KEEP_DAYS``, failed ones after ``FAILED_TASK_RESULTS_KEEP_DAYS`` (kept longer
  so an administrator can look at them).
- Uploaded files that no row refers to: a file is written to storage before its transaction
  commits, so a refused or rolled-back upload (the second file of a reply is too large, say) leaves
  the first one on disk. Files younger than ``ORPHAN_MIN_AGE`` are never touched: their
  transaction may still be running. An orphan is moved to ``trash/<day>/`` and deleted from there
  after ``PALIER_TRASH_DAYS``: a database restored from an older backup, whose newer rows are
  gone, finds its files there. When orphans are abnormally many (``_abnormal``: more than
  ``ALARM_SHARE`` of the files, or files but no row at all: an empty or wrong database) nothing
  is moved and a warning is logged and returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.storage import Storage, default_storage
from django.db import models
from django.utils import timezone

log = logging.getLogger(__name__)

TASK_RESULTS_KEEP_DAYS = 7
FAILED_TASK_RESULTS_KEEP_DAYS = 30
ORPHAN_MIN_AGE = timedelta(hours=6)
BATCH = 1_000
TRASH = "trash"
ALARM_SHARE = 0.2  # more orphans than this share of the files (and at least ALARM_MIN_FILES): stop
ALARM_MIN_FILES = 10


@dataclass
class OrphanSweep:
    moved: int = 0  # orphans moved to the trash
    purged: int = 0  # trashed files older than PALIER_TRASH_DAYS, deleted
    warning: str = ""  # why nothing was moved


@dataclass
class Report:
    task_results: int = 0
    orphan_files: int = 0
    trash_purged: int = 0
    warning: str = ""
    idempotency_keys: int = 0


def _file_fields() -> list[tuple[str, type[models.Model], str]]:
    """(storage folder, model, field) of every uploaded-file column."""
    from palier.kb.models import ArticleFile
    from palier.tickets.models import Attachment

    return [("attachments", Attachment, "file"), ("kb", ArticleFile, "file")]


def prune_task_results(*, now: datetime | None = None) -> int:
    """Delete old finished task results of the database queue. Returns how many went."""
    from django.conf import settings

    if "django_tasks_db" not in settings.INSTALLED_APPS:
        return 0
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    done = DBTaskResult.objects.successful().filter(finished_at__lt=now - timedelta(days=TASK_RESULTS_KEEP_DAYS))
    failed = DBTaskResult.objects.failed().filter(finished_at__lt=now - timedelta(days=FAILED_TASK_RESULTS_KEEP_DAYS))
    total = 0
    for qs in (done, failed):
        while ids := list(qs.values_list("pk", flat=True)[:BATCH]):
            total += DBTaskResult.objects.filter(pk__in=ids).delete()[0]
    return total


def _walk(storage: Storage, folder: str) -> list[str]:
    """Every file name under ``folder`` (storage names, "/"-separated)."""
    try:
        dirs, files = storage.listdir(folder)
    except FileNotFoundError:
        return []
    names = [f"{folder}/{name}" for name in files]
    for sub in dirs:
        names += _walk(storage, f"{folder}/{sub}")
    return names


def _orphans(storage: Storage, horizon: datetime) -> tuple[list[str], int, int]:
    """Files older than ``horizon`` no row refers to, how many files there are, how many rows."""
    orphans: list[str] = []
    total = rows = 0
    for root, model, field in _file_fields():
        rows += model._default_manager.exclude(**{field: ""}).count()
        try:
            months = [f"{root}/{y}/{m}" for y in storage.listdir(root)[0] for m in storage.listdir(f"{root}/{y}")[0]]
        except FileNotFoundError:
            continue
        for folder in months:  # one folder (month) at a time
            names = _walk(storage, folder)
            total += len(names)
            if not names:
                continue
            known = set(
                model._default_manager.filter(**{f"{field}__startswith": folder + "/"}).values_list(field, flat=True)
            )
            orphans += [n for n in names if n not in known and storage.get_modified_time(n) <= horizon]
    return orphans, total, rows


def _abnormal(orphans: int, total: int, rows: int) -> str:
    if orphans and not rows:
        return f"the database has no attachment but the storage has {total} files: is it the right database?"
    if orphans >= ALARM_MIN_FILES and orphans > ALARM_SHARE * total:
        return f"{orphans} of {total} files have no row in the database (a restored older database?)"
    return ""


def remove_orphan_files(*, now: datetime | None = None, storage: Storage | None = None) -> OrphanSweep:
    """Move uploaded files that no row refers to into the trash, unless they are abnormally many;
    empty the trash of what is older than ``PALIER_TRASH_DAYS``."""
    storage = storage or default_storage
    now = now or timezone.now()
    sweep = OrphanSweep(purged=_purge_trash(storage, now))
    orphans, total, rows = _orphans(storage, now - ORPHAN_MIN_AGE)
    sweep.warning = _abnormal(len(orphans), total, rows)
    if sweep.warning:
        log.warning("orphan uploads left in place: %s", sweep.warning)
        return sweep
    day = now.strftime("%Y-%m-%d")
    for name in orphans:
        with storage.open(name) as content:
            storage.save(f"{TRASH}/{day}/{name}", content)
        storage.delete(name)
        sweep.moved += 1
        log.info("moved orphan upload %s to the trash", name)
    return sweep


def _purge_trash(storage: Storage, now: datetime) -> int:
    from django.conf import settings

    limit = (now - timedelta(days=settings.PALIER_TRASH_DAYS)).strftime("%Y-%m-%d")
    try:
        days = storage.listdir(TRASH)[0]
    except FileNotFoundError:
        return 0
    purged = 0
    for day in sorted(days):
        if day >= limit:
            continue
        for name in _walk(storage, f"{TRASH}/{day}"):
            storage.delete(name)
            purged += 1
    return purged


def run(*, now: datetime | None = None) -> Report:
    from palier.core import idempotency

    sweep = remove_orphan_files(now=now)
    return Report(
        task_results=prune_task_results(now=now), orphan_files=sweep.moved, trash_purged=sweep.purged,
        warning=sweep.warning, idempotency_keys=idempotency.prune(),
    )  # fmt: skip
