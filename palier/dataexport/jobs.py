"""Exports asked for on the administrators' Data export page: recorded, run once by a worker, the
archive kept in the default storage under ``data-exports/`` for download.

The worker claims a job with a conditional UPDATE (queued -> running), so a task delivered twice
never writes two archives. The ``data-exports-prune`` periodic job removes exports older than
``KEEP_DAYS`` with their archives, and fails a job whose worker died. Every request is in the audit log (``export.data``), and so is every
download.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.dataexport.models import DataExport
from palier.dataexport.services import export_data
from palier.people.models import Organisation, User
from palier.people.permissions import require_admin

log = logging.getLogger(__name__)

FOLDER = "data-exports"


def request_export(*, by: User, organisation: Organisation | None, internal: bool) -> DataExport:
    """Record an export of the desk or of ``organisation``; a worker writes it after commit."""
    require_admin(by, message=_("Only administrators export the desk's data."))
    from palier.dataexport.tasks import run_data_export_task

    with transaction.atomic():
        job = DataExport.objects.create(requested_by=by, organisation=organisation, internal=internal)
        audit.record(
            "export.data",
            actor=by,
            target_type="export",
            target_id=job.pk,
            target_label=organisation.name if organisation is not None else "desk",
            changes={"internal": [None, internal]},
        )
        transaction.on_commit(lambda: run_data_export_task.enqueue(job.pk))
    return job


def run_export(export_id: int) -> None:
    """Write the archive of one queued job (nothing when another run took it)."""
    claimed = DataExport.objects.filter(pk=export_id, state=DataExport.State.QUEUED).update(
        state=DataExport.State.RUNNING
    )
    if not claimed:
        return
    job = DataExport.objects.select_related("organisation").get(pk=export_id)
    try:
        with tempfile.TemporaryDirectory(prefix="palier-data-export-") as folder:
            result = export_data(Path(folder) / "export.tar.gz", organisation=job.organisation, internal=job.internal)
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            with result.path.open("rb") as archive:
                name = default_storage.save(
                    f"{FOLDER}/palier-export-{stamp}-{secrets.token_hex(8)}.tar.gz", File(archive)
                )
    except Exception as exc:
        log.exception("data export %s failed", export_id)
        DataExport.objects.filter(pk=export_id).update(
            state=DataExport.State.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        return
    DataExport.objects.filter(pk=export_id).update(
        state=DataExport.State.DONE, file=name, size=result.size, counts=result.counts, finished_at=timezone.now()
    )


def record_download(*, by: User, job: DataExport) -> None:
    require_admin(by, message=_("Only administrators export the desk's data."))
    audit.record(
        "export.data_downloaded",
        actor=by,
        target_type="export",
        target_id=job.pk,
        target_label=job.organisation.name if job.organisation is not None else "desk",
    )


KEEP_DAYS = 7
STALL_HOURS = 6  # a job still running after this long lost its worker


def prune_exports(*, now: datetime | None = None) -> int:
    """Remove exports older than ``KEEP_DAYS`` (rows and archives), and mark failed a job whose
    worker died mid-run (it would show "Running" for ever); the ``data-exports-prune`` job."""
    now = now or timezone.now()
    DataExport.objects.filter(state=DataExport.State.RUNNING, created_at__lt=now - timedelta(hours=STALL_HOURS)).update(
        state=DataExport.State.FAILED, error="The worker stopped before the export was written.", finished_at=now
    )
    old = list(DataExport.objects.filter(created_at__lt=now - timedelta(days=KEEP_DAYS)).values_list("pk", "file"))
    for _pk, name in old:
        if name:
            default_storage.delete(name)  # missing already: nothing to do
    DataExport.objects.filter(pk__in=[pk for pk, _name in old]).delete()
    return len(old)
