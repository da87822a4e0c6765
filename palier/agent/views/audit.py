"""The audit log page (administrators): search by who, action and dates, newest first, keyset
pages, and the CSV export of what the search selects (itself recorded in the log)."""

from __future__ import annotations

import json
from collections.abc import Iterator

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from palier.agent.forms.audit import AuditFilterForm
from palier.audit import selectors
from palier.audit import services as audit
from palier.audit.models import AuditEvent
from palier.lib.web import admin_required
from palier.people.http import AuthedRequest
from palier.reports import exports

PAGE = 50
HEADERS = ("at", "actor", "ip", "action", "target_type", "target_id", "target", "changes")


@admin_required
def audit_log(request: AuthedRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET)
    filters = form.to_filters()
    page = selectors.audit_page(filters, before=form.cursor(), limit=PAGE)
    params = request.GET.copy()
    params["before"] = str(page.next_before or "")
    export = request.GET.copy()
    export.pop("before", None)
    context = {
        "form": form,
        "events": page.items,
        "next_query": params.urlencode() if page.next_before else "",
        "first_query": export.urlencode(),
        "first_page": form.cursor() is None,
        "export_query": export.urlencode(),
        "actions": selectors.ACTIONS,
    }
    return render(request, "agent/audit/log.html", context)


def _cells(events: Iterator[AuditEvent]) -> Iterator[list[str | None]]:
    for event in events:
        yield [
            timezone.localtime(event.at).isoformat(timespec="seconds"),
            event.actor_email,
            event.ip,
            event.action,
            event.target_type,
            event.target_id,
            event.target_label,
            json.dumps(event.changes, ensure_ascii=False, sort_keys=True) if event.changes else "",
        ]


@admin_required
def audit_export(request: AuthedRequest) -> StreamingHttpResponse:
    form = AuditFilterForm(request.GET)
    filters = form.to_filters()
    audit.record(
        "export.audit",
        actor=request.user,
        target_type="export",
        target_label="audit.csv",
        changes={"filters": [None, {k: v for k, v in request.GET.items() if k != "before"}]},
    )
    response = StreamingHttpResponse(
        exports.csv_chunks(HEADERS, _cells(selectors.export_rows(filters))), content_type=exports.CONTENT_TYPES["csv"]
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{timezone.localdate():%Y%m%d}.csv"'
    return response
