"""Writes of the reports app: background exports (queue, run, clean up). The figures themselves
are reads; only the export jobs and their files are written here.

A job runs once: the worker claims it with a conditional UPDATE (queued -> running), so a task
delivered twice, or two workers, never write two files. Its file lives in the default storage
under ``exports/`` for ``KEEP_DAYS`` days; the ``reports-exports-prune`` periodic job removes
older jobs and their files. A worker that dies mid-export (killed, machine restarted) leaves its
job "running" with no sign of life: ``recover_stalled_exports`` (the ``reports-exports-recover``
periodic job) queues it again, up to ``MAX_ATTEMPTS`` runs, then marks it failed with a message.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation

from palier.audit import services as audit
from palier.lib.errors import DomainError, PermissionDenied
from palier.people.models import User
from palier.reports import exports, selectors
from palier.reports.models import ExportJob
from palier.tickets.selectors import TicketFilters

log = logging.getLogger(__name__)

KEEP_DAYS = 7
FOLDER = "exports"
STALL_MINUTES = 10  # a running job silent this long lost its worker (progress is written every chunk)
MAX_ATTEMPTS = 3


def record_export(
    *, by: User | None, what: str, fmt: str, rows: int | None = None, filters: dict[str, object] | None = None
) -> None:
    """The audit log's trace of an export (``export.tickets`` or ``export.report``): who took
    which data out, in which format, with which filters. Every export path calls it."""
    audit.record(
        "export.report" if what.startswith("report") else "export.tickets",
        actor=by,
        target_type="export",
        target_label=f"{what}.{fmt}",
        changes={"rows": [None, rows], "filters": [None, filters or {}]},
    )


def queue_export(*, owner: User, filters: TicketFilters, fmt: str, total: int) -> ExportJob:
    """Record a background export of the tickets ``owner`` may see matching ``filters``; a worker
    writes the file after commit."""
    if fmt not in exports.FORMATS:
        raise ValueError(fmt)
    if not (owner.is_active and owner.is_agent):
        raise PermissionDenied("export")
    check_export_size(fmt=fmt, total=total)
    with transaction.atomic():
        job = ExportJob.objects.create(
            owner=owner, filters=selectors.filters_to_json(filters), format=fmt, rows_total=total
        )
        record_export(by=owner, what="tickets", fmt=fmt, rows=total, filters=job.filters)
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def check_export_size(*, fmt: str, total: int) -> None:
    """A spreadsheet holds about a million rows: a longer XLSX export is refused (CSV has no limit)."""
    if fmt == "xlsx" and total > exports.XLSX_MAX_ROWS:
        raise DomainError(
            translation.gettext("%(n)s tickets do not fit in a spreadsheet (at most %(max)s rows): export CSV.")
            % {"n": total, "max": exports.XLSX_MAX_ROWS},
            field="format",
        )


def _enqueue(job_id: int) -> None:
    from palier.reports.tasks import run_export_task

    run_export_task.enqueue(job_id)


def _claim(job_id: int) -> bool:
    with transaction.atomic():
        return bool(
            ExportJob.objects.filter(pk=job_id, state=ExportJob.State.QUEUED).update(
                state=ExportJob.State.RUNNING, attempts=F("attempts") + 1, updated_at=timezone.now()
            )
        )


def run_export(*, job_id: int) -> ExportJob | None:
    """Write the job's file (idempotent: a job already claimed, finished or gone is left alone)."""
    if not _claim(job_id):
        return selectors.get_export_job(job_id)
    job = selectors.get_export_job(job_id)
    assert job is not None
    try:
        name = _write(job)
    except Exception as exc:  # the owner sees that it failed; the worker's log has the details
        log.exception("export %s failed", job_id)
        _finish(job, state=ExportJob.State.FAILED, error=str(exc)[:1000])
        return job
    _finish(job, state=ExportJob.State.DONE, file=name)
    return job


def _finish(job: ExportJob, *, state: str, file: str = "", error: str = "") -> None:
    job.state, job.file, job.error, job.finished_at = state, file, error, timezone.now()
    with transaction.atomic():
        job.save(update_fields=["state", "file", "error", "finished_at", "rows_done"])


def _progress(job: ExportJob, chunks: Iterable[list[selectors.TicketRow]]) -> Iterator[selectors.TicketRow]:
    """The rows of every chunk, recording after each chunk how many were written."""
    for chunk in chunks:
        yield from chunk
        job.rows_done += len(chunk)
        with transaction.atomic():
            ExportJob.objects.filter(pk=job.pk).update(rows_done=job.rows_done, updated_at=timezone.now())


def _write(job: ExportJob) -> str:
    """Write the export into a temporary file, then into the storage; returns the storage name."""
    owner = job.owner
    filters = selectors.filters_from_json(job.filters)
    job.rows_done = 0
    with (
        translation.override(owner.language or settings.LANGUAGE_CODE),
        tempfile.TemporaryDirectory() as folder,
    ):
        path = Path(folder) / f"export.{job.format}"
        rows = _progress(job, selectors.export_rows(owner, filters=filters))
        cells = exports.ticket_cells(rows, zone=selectors.viewer_zone(owner))
        headers = exports.ticket_headers()
        if job.format == ExportJob.Format.XLSX:
            exports.write_xlsx(path, headers, cells, sheet=str(translation.gettext("Tickets")))
        else:
            with path.open("wb") as out:
                for chunk in exports.csv_chunks(headers, cells):
                    out.write(chunk)
        name = f"{FOLDER}/{owner.pk}/{secrets.token_hex(12)}.{job.format}"
        with path.open("rb") as src:
            return default_storage.save(name, File(src))


def recover_stalled_exports(*, now: datetime | None = None) -> int:
    """Queue again the running jobs whose worker went silent (or fail them after ``MAX_ATTEMPTS``
    runs). Returns how many were queued again."""
    now = now or timezone.now()
    stalled = ExportJob.objects.filter(
        state=ExportJob.State.RUNNING, updated_at__lt=now - timedelta(minutes=STALL_MINUTES)
    )
    with transaction.atomic():
        stalled.filter(attempts__gte=MAX_ATTEMPTS).update(
            state=ExportJob.State.FAILED,
            finished_at=now,
            error="The export was interrupted several times (the worker stopped); start it again.",
        )
        ids = list(stalled.values_list("pk", flat=True))
        ExportJob.objects.filter(pk__in=ids, state=ExportJob.State.RUNNING).update(
            state=ExportJob.State.QUEUED, rows_done=0, updated_at=now
        )
        for job_id in ids:
            transaction.on_commit(lambda job_id=job_id: _enqueue(job_id))  # type: ignore[misc]
    return len(ids)


def prune_exports(*, now: datetime | None = None) -> int:
    """Remove export jobs older than ``KEEP_DAYS`` days and their files. Returns how many went."""
    horizon = (now or timezone.now()) - timedelta(days=KEEP_DAYS)
    removed = 0
    while jobs := selectors.old_export_jobs(before=horizon):
        for job in jobs:
            if job.file and default_storage.exists(job.file):
                default_storage.delete(job.file)
        with transaction.atomic():
            removed += ExportJob.objects.filter(pk__in=[j.pk for j in jobs]).delete()[0]
    return removed
