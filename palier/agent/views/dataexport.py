"""The administrators' Data export page: ask for an export of the desk or of one organisation,
follow it, download the archive (docs/data-export.md)."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from palier.agent.forms.dataexport import DataExportForm
from palier.dataexport import jobs, selectors
from palier.dataexport.models import DataExport
from palier.lib.web import admin_required
from palier.people.http import AuthedRequest


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def data_export(request: AuthedRequest) -> HttpResponse:
    form = DataExportForm(request.POST or None, organisations=selectors.organisation_choices())
    if request.method == "POST" and form.is_valid():
        chosen = form.cleaned_data["organisation"]
        organisation = selectors.get_organisation(chosen) if chosen is not None else None
        jobs.request_export(by=request.user, organisation=organisation, internal=form.cleaned_data["internal"])
        messages.success(request, _("The export is being prepared: it appears below when ready."))
        return redirect("agent:admin-data-export")
    exports = selectors.recent_exports()
    running = any(job.state in (DataExport.State.QUEUED, DataExport.State.RUNNING) for job in exports)
    return render(request, "agent/admin/data_export.html", {"form": form, "exports": exports, "running": running})


@admin_required
@require_safe
def data_export_download(request: AuthedRequest, export_id: int) -> HttpResponseBase:
    job = selectors.get_export(export_id)
    if job.state != DataExport.State.DONE or not job.file or not default_storage.exists(job.file):
        raise Http404("export file")
    jobs.record_download(by=request.user, job=job)
    return FileResponse(
        default_storage.open(job.file, "rb"),
        as_attachment=True,
        filename=f"palier-export-{job.created_at:%Y%m%d-%H%M}.tar.gz",
        content_type="application/gzip",
    )
