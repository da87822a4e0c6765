"""Export writers: rows in, bytes out, no database.

- ``csv_chunks`` turns rows into UTF-8 CSV (with a byte-order mark, so spreadsheet programs read
  the accents), one bytes chunk per batch of rows, for a ``StreamingHttpResponse``.
- ``write_xlsx`` writes rows into an XLSX file with XlsxWriter's ``constant_memory`` mode (each
  row is flushed to disk once written), for a ``FileResponse`` or a background job's file.
- ``ticket_headers`` / ``ticket_cells`` turn the rows ``reports.selectors.export_rows`` reads into
  cells in the viewer's language and time zone; ``export_table`` writes any report ``Table``.

Spreadsheet formula injection: a CSV text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading apostrophe, so a spreadsheet shows it as text and never runs it.
In XLSX every text is written as a string cell (never a formula), so it needs no prefix.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from palier.reports.types import Table
from palier.tickets.models import Ticket

Cell = str | int | float | datetime | date | None

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(CONTENT_TYPES)
DANGEROUS_STARTS = ("=", "+", "-", "@", "\t", "\r")
_DANGEROUS = frozenset(DANGEROUS_STARTS)
BOM = "\ufeff"
ROWS_PER_CHUNK = 500
XLSX_MAX_ROWS = 1_048_575  # a worksheet's 1,048,576 rows, less the header
DATE_FORMAT = "yyyy-mm-dd hh:mm"


def neutralise(value: str) -> str:
    """A text a spreadsheet will not read as a formula."""
    return "'" + value if value.startswith(DANGEROUS_STARTS) else value


def _csv_cell(value: Cell) -> str | int | float:
    # the hot loop of every CSV export: the commonest type first
    if isinstance(value, str):
        return "'" + value if value[:1] in _DANGEROUS else value
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """The CSV file, in chunks of ``ROWS_PER_CHUNK`` rows (the header and BOM come first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([neutralise(h) for h in headers])
    for count, row in enumerate(rows, start=1):
        writer.writerow([_csv_cell(v) for v in row])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def write_xlsx(
    target: str | Path | IO[bytes], headers: Sequence[str], rows: Iterable[Sequence[Cell]], *, sheet: str
) -> int:
    """Write one sheet (``constant_memory``: rows go to disk as they are written); returns the row
    count. Dates are written as the spreadsheet's own dates, without a time zone (already local)."""
    import xlsxwriter  # type: ignore[import-untyped]  # here: 10 MB less in every web process

    if isinstance(target, str | Path):  # a file: rows are flushed to it as they are written
        workbook = xlsxwriter.Workbook(str(target), {"constant_memory": True, "remove_timezone": True})
    else:  # an in-memory file (small report tables)
        workbook = xlsxwriter.Workbook(target, {"in_memory": True, "remove_timezone": True})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    when = workbook.add_format({"num_format": DATE_FORMAT})
    day = workbook.add_format({"num_format": "yyyy-mm-dd"})
    for col, header in enumerate(headers):
        worksheet.write_string(0, col, header, bold)
    count = 0
    for count, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            _xlsx_cell(worksheet, count, col, value, when, day)
    worksheet.freeze_panes(1, 0)
    workbook.close()
    return count


def _xlsx_cell(sheet: Any, row: int, col: int, value: Cell, when: Any, day: Any) -> None:
    if value is None:
        return
    if isinstance(value, datetime):
        sheet.write_datetime(row, col, value, when)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime.combine(value, datetime.min.time()), day)
    elif isinstance(value, str):
        sheet.write_string(row, col, value)
    else:
        sheet.write_number(row, col, value)


# --- ticket lists ------------------------------------------------------------------------------------


def ticket_headers() -> list[str]:
    """The column titles, in the active language."""
    return [
        _("Number"),
        _("Type"),
        _("Subject"),
        _("Status"),
        _("Priority"),
        _("Category"),
        _("Group"),
        _("Assignee"),
        _("Requester"),
        _("Organisation"),
        _("Channel"),
        _("Created"),
        _("First response"),
        _("Resolved"),
        _("SLA due"),
    ]


def _labels(choices: type[Any]) -> dict[str, str]:
    """Value -> label of a choices class, translated once per export (not once per row)."""
    return {str(value): str(label) for value, label in choices.choices}


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return moment.astimezone(zone).replace(tzinfo=None) if moment is not None else None


def ticket_cells(rows: Iterable[Sequence[Any]], *, zone: ZoneInfo) -> Iterator[list[Cell]]:
    """Rows of ``reports.selectors.ROW_FIELDS`` as export cells: references, translated labels,
    names, and local times in ``zone``. Labels are translated now, in the active language (the
    viewer's), although a streamed response consumes the rows after the view has returned."""
    labels = Labels(
        french=(get_language() or "").startswith("fr"),
        kinds=_labels(Ticket.Kind),
        statuses=_labels(Ticket.Status),
        channels=_labels(Ticket.Channel),
    )
    return (_ticket_cells(r, labels, zone) for r in rows)


@dataclass(frozen=True)
class Labels:
    french: bool
    kinds: dict[str, str]
    statuses: dict[str, str]
    channels: dict[str, str]


def _ticket_cells(r: Sequence[Any], labels: Labels, zone: ZoneInfo) -> list[Cell]:
    (_id, kind, number, subject, status, priority, cat_en, cat_fr, group, level) = r[:10]
    (assignee_name, assignee_email, requester_name, requester_email, organisation, channel) = r[10:16]
    created, responded, resolved, due = r[16:20]
    return [
        f"{Ticket.PREFIXES.get(kind, 'TKT')}-{number}",
        labels.kinds.get(kind, kind),
        subject,
        labels.statuses.get(status, status),
        f"P{priority}",
        (cat_fr if labels.french else cat_en) or None,
        f"{group} (L{level})" if group else None,
        (assignee_name or assignee_email) or None,
        requester_name or requester_email,
        organisation,
        labels.channels.get(channel, channel),
        _local(created, zone),
        _local(responded, zone),
        _local(resolved, zone),
        _local(due, zone),
    ]


# --- report tables -----------------------------------------------------------------------------------


def table_rows(table: Table) -> tuple[list[str], list[list[Cell]]]:
    """A report table as headers and rows: the row label first, then its cells."""
    headers = [str(_("Name")), *(str(label) for _key, label in table.columns)]
    return headers, [[row.label, *row.cells] for row in table.rows]


def export_table(table: Table, fmt: str) -> bytes:
    """Any report ``Table`` as a CSV or XLSX file (tables are small: the bytes at once)."""
    headers, rows = table_rows(table)
    if fmt == "csv":
        return b"".join(csv_chunks(headers, rows))
    if fmt == "xlsx":
        out = io.BytesIO()
        write_xlsx(out, headers, rows, sheet=table.key or "report")
        return out.getvalue()
    raise ValueError(fmt)
