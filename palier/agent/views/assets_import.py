"""Import of assets, locations and licences (administrators), mounted at /agent/assets/import/ as
``assets_import:``: upload → preview (the first rows as read, every row's errors, nothing
written) → confirm (the same file imported as chosen) → the report."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from palier.agent.forms.assets_import import ImportForm
from palier.assets import importing
from palier.lib.web import admin_required
from palier.people.http import AuthedRequest

SESSION_KEY = "asset_import"


def _context(report: importing.ImportReport) -> dict[str, Any]:
    """The report as the templates show it: counts, the first rows' cells, whether to confirm."""
    would_write = any(row.action in ("created", "updated") for row in report.rows)
    return {
        "report": report,
        "created": report.count("created"),
        "updated": report.count("updated"),
        "unchanged": report.count("unchanged"),
        "errors": len(report.errors),
        "preview": [
            {"line": row.line, "values": [row.cells.get(column, "") for column in report.columns]}
            for row in report.preview
        ],
        "can_confirm": would_write and (report.mode == "per-row" or not report.errors),
    }


@admin_required
def upload(request: AuthedRequest) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data, kind, mode = form.cleaned_data["file"], form.cleaned_data["kind"], form.cleaned_data["mode"]
        try:
            report = importing.run_import(data, kind=kind, mode=mode, dry_run=True, actor=request.user)
        except importing.ImportRefused as exc:
            form.add_error("file", str(exc))
        else:
            previous = request.session.pop(SESSION_KEY, None)
            if previous:
                importing.discard(previous.get("token", ""))
            request.session[SESSION_KEY] = {"token": importing.stage(data), "kind": kind, "mode": mode}
            return render(request, "agent/assets_import/preview.html", _context(report))
    return render(request, "agent/assets_import/upload.html", {"form": form})


@require_POST
@admin_required
def confirm(request: AuthedRequest) -> HttpResponse:
    pending = request.session.pop(SESSION_KEY, None) or {}
    data = importing.staged(pending.get("token", ""))
    if data is None:
        return redirect("assets_import:upload")
    try:
        report = importing.run_import(data, kind=pending["kind"], mode=pending["mode"], actor=request.user)
    except importing.ImportRefused as exc:
        return render(request, "agent/assets_import/upload.html", {"form": ImportForm(), "refused": str(exc)})
    finally:
        importing.discard(pending.get("token", ""))
    return render(request, "agent/assets_import/result.html", _context(report))
