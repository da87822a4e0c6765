"""Housekeeping jobs: what a desk running for years must clean up by itself.

- Finished background-task results (the database queue keeps one row per job): successful ones
  after ``TASK_RESULTS_KEEP_DAYS``, failed ones after ``FAILED_TASK_RESULTS_KEEP_DAYS`` (kept longer
  so an administrator can look at them).
- Uploaded files that no row refers to: a file is written to storage before its transaction
  commits, so a refused or rolled-back upload (the second file of a reply is too large, say) leaves
  the first one on disk. Files younger than ``ORPHAN_MIN_AGE`` are never touched: their
  transaction may still be running.
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


@dataclass
class Report:
    task_results: int = 0
    orphan_files: int = 0


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


def remove_orphan_files(*, now: datetime | None = None, storage: Storage | None = None) -> int:
    """Delete uploaded files that no attachment refers to, one folder (month) at a time."""
    storage = storage or default_storage
    horizon = (now or timezone.now()) - ORPHAN_MIN_AGE
    removed = 0
    for root, model, field in _file_fields():
        try:
            months = [f"{root}/{y}/{m}" for y in storage.listdir(root)[0] for m in storage.listdir(f"{root}/{y}")[0]]
        except FileNotFoundError:
            continue
        for folder in months:
            names = _walk(storage, folder)
            if not names:
                continue
            known = set(
                model._default_manager.filter(**{f"{field}__startswith": folder + "/"}).values_list(field, flat=True)
            )
            for name in names:
                if name in known or storage.get_modified_time(name) > horizon:
                    continue
                storage.delete(name)
                removed += 1
                log.info("removed orphan upload %s", name)
    return removed


def run(*, now: datetime | None = None) -> Report:
    return Report(task_results=prune_task_results(now=now), orphan_files=remove_orphan_files(now=now))
