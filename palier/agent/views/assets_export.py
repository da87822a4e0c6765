"""The asset list exported with its filters (desk staff), mounted at /agent/assets/export/ as
``assets_export:``: streamed CSV, or XLSX written in constant memory; the columns are those the
import reads, so an exported file, edited, imports back."""

from __future__ import annotations

import tempfile
from itertools import islice

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from palier.assets import exporting
from palier.lib.web import agent_required
from palier.people.http import AuthedRequest
from palier.reports import exports


def _name(extension: str) -> str:
    return f'attachment; filename="assets-{timezone.localdate():%Y%m%d}.{extension}"'


@agent_required
def export_csv(request: AuthedRequest) -> StreamingHttpResponse:
    filters = exporting.filters_from_query(request.GET)
    columns = exporting.export_columns(filters)
    response = StreamingHttpResponse(
        exports.csv_chunks(columns, exporting.export_rows(request.user, filters, columns)),
        content_type=exports.CONTENT_TYPES["csv"],
    )
    response["Content-Disposition"] = _name("csv")
    return response


@agent_required
def export_xlsx(request: AuthedRequest) -> FileResponse:
    filters = exporting.filters_from_query(request.GET)
    columns = exporting.export_columns(filters)
    # a named file: XlsxWriter's constant-memory mode flushes rows to it; removed when FileResponse closes it
    target = tempfile.NamedTemporaryFile(suffix=".xlsx")  # noqa: SIM115
    rows = islice(exporting.export_rows(request.user, filters, columns), exports.XLSX_MAX_ROWS)
    exports.write_xlsx(target.name, columns, rows, sheet="assets")
    target.seek(0)
    response = FileResponse(target, content_type=exports.CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = _name("xlsx")
    return response
