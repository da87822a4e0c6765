"""Exports of the agent queue: the current filters as CSV or XLSX, with the viewer's permissions.

Up to ``PALIER_EXPORT_INLINE_ROWS`` rows the file is streamed at once: CSV chunk by chunk while
the rows are read, XLSX written to a temporary file (constant memory) and then streamed. Longer
exports become a background job: its page shows the progress (htmx polling) and offers the file
to its owner when it is ready.
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.agent import contexts
from palier.agent.workspace_forms import FilterForm
from palier.lib.errors import DomainError
from palier.lib.web import agent_required
from palier.people.http import AuthedRequest
from palier.reports import exports, selectors, services
from palier.reports.models import ExportJob
from palier.tickets import selectors as ticket_selectors

JOB = "agent/reports/export_job.html"


def _filename(fmt: str, now: datetime) -> str:
    return f"tickets-{timezone.localtime(now).strftime('%Y%m%d-%H%M')}.{fmt}"


def _rows(request: AuthedRequest, filters: ticket_selectors.TicketFilters) -> Any:
    chunks = selectors.export_rows(request.user, filters=filters)
    rows = (row for chunk in chunks for row in chunk)
    return exports.ticket_cells(rows, zone=selectors.viewer_zone(request.user))


def _stream_csv(request: AuthedRequest, filters: ticket_selectors.TicketFilters) -> HttpResponseBase:
    response = StreamingHttpResponse(
        exports.csv_chunks(exports.ticket_headers(), _rows(request, filters)), content_type=exports.CONTENT_TYPES["csv"]
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv", timezone.now())}"'
    return response


def _send_xlsx(request: AuthedRequest, filters: ticket_selectors.TicketFilters) -> HttpResponseBase:
    spool = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115 (closed by FileResponse)
    exports.write_xlsx(spool.name, exports.ticket_headers(), _rows(request, filters), sheet=_("Tickets"))
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=_filename("xlsx", timezone.now()),
        content_type=exports.CONTENT_TYPES["xlsx"],
    )


@agent_required
def ticket_export(request: AuthedRequest, fmt: str) -> HttpResponseBase:
    """The queue's current filters as a file; a background job above the inline limit."""
    if fmt not in exports.FORMATS:
        raise Http404("format")
    form = FilterForm(request.GET, choices=contexts.workspace_choices())
    filters = form.to_filters(request.user, my_groups=ticket_selectors.agent_group_ids(request.user))
    limit = settings.PALIER_EXPORT_INLINE_ROWS
    total = selectors.export_count(request.user, filters=filters, cap=limit + 1)
    if total > limit:
        total = selectors.export_count(request.user, filters=filters)
        try:
            job = services.queue_export(owner=request.user, filters=filters, fmt=fmt, total=total)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(f"{reverse('agent:ticket-list')}?{contexts.view_query(request.GET)}")
        return redirect("agent:export-job", job_id=job.pk)
    services.record_export(
        by=request.user, what="tickets", fmt=fmt, rows=total, filters=selectors.filters_to_json(filters)
    )
    return _stream_csv(request, filters) if fmt == "csv" else _send_xlsx(request, filters)


@agent_required
def export_job(request: AuthedRequest, job_id: int) -> HttpResponse:
    """A background export's progress; polled every 2 s until it is ready or failed."""
    job = selectors.get_export_job_for(request.user, job_id)
    context = {"job": job, "polling": job.state in (ExportJob.State.QUEUED, ExportJob.State.RUNNING)}
    if request.htmx:
        return render(request, f"{JOB}#progress", context)
    return render(request, JOB, context)


@agent_required
def export_download(request: AuthedRequest, job_id: int) -> HttpResponseBase:
    """The finished file, for the job's owner only (404 for anyone else, as for a missing job)."""
    job = selectors.get_export_job_for(request.user, job_id)
    if job.state != ExportJob.State.DONE or not job.file or not default_storage.exists(job.file):
        raise Http404("export file")
    return FileResponse(
        default_storage.open(job.file, "rb"),
        as_attachment=True,
        filename=_filename(job.format, job.created_at),
        content_type=exports.CONTENT_TYPES[job.format],
    )
