"""The export writers: CSV and XLSX bytes from rows, formula injection neutralised, ticket cells in
the viewer's language and time zone, report tables."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils import translation

from palier.reports import exports
from palier.reports.types import Row, Table

PARIS = ZoneInfo("Europe/Paris")


def read_csv(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8")
    assert text.startswith(exports.BOM)
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_text(data: bytes) -> str:
    """The XML of the first sheet and of the shared strings (no spreadsheet reader is installed)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        parts = ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"]
        return "".join(archive.read(n).decode() for n in parts if n in names)


def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe() -> None:
    rows = [["=1+2", "+33 6", "-x", "@SUM(A1)", "\tx", "\rx", "plain", -5, 2.5, None]]
    out = read_csv(b"".join(exports.csv_chunks(["=header", "b"], rows)))
    assert out[0] == ["'=header", "b"]
    # numbers stay numbers (a negative number is not text a spreadsheet evaluates)
    assert out[1] == ["'=1+2", "'+33 6", "'-x", "'@SUM(A1)", "'\tx", "'\rx", "plain", "-5", "2.5", ""]


def test_csv_is_streamed_in_chunks_of_rows() -> None:
    rows = ([str(i)] for i in range(exports.ROWS_PER_CHUNK * 2 + 3))
    chunks = list(exports.csv_chunks(["n"], rows))
    assert len(chunks) == 3  # two full chunks, then the rest
    assert len(read_csv(b"".join(chunks))) == exports.ROWS_PER_CHUNK * 2 + 3 + 1


def test_xlsx_writes_texts_as_strings_never_formulas(tmp_path: Path) -> None:
    path = tmp_path / "out.xlsx"
    when = datetime(2026, 5, 1, 9, 30)
    count = exports.write_xlsx(path, ["Subject", "When", "N"], [['=HYPERLINK("x")', when, 3]], sheet="Tickets")
    assert count == 1
    xml = xlsx_text(path.read_bytes())
    assert "HYPERLINK" in xml and "<f>" not in xml


def test_ticket_cells_use_the_viewers_language_and_time_zone() -> None:
    created = datetime(2026, 5, 31, 22, 30, tzinfo=UTC)  # 1 June, 00:30 in Paris
    row = (7, "incident", 42, "=cmd", "in_progress", 2, "Network", "Réseau", "Desk", 1, "", "lea@desk.test",
           "Alice", "alice@acme.test", "Acme", "email", created, None, None, None)  # fmt: skip
    with translation.override("fr"):
        cells = next(exports.ticket_cells([row], zone=PARIS))
        headers = exports.ticket_headers()
    assert cells[:11] == ["INC-42", "Incident", "=cmd", "En cours", "P2", "Réseau", "Desk (L1)", "lea@desk.test",
                          "Alice", "Acme", "E-mail"]  # fmt: skip
    assert cells[11] == datetime(2026, 6, 1, 0, 30)
    assert cells[12:] == [None, None, None]
    assert headers[0] == "Numéro" and len(headers) == len(cells)
    with translation.override("en"):
        assert next(exports.ticket_cells([row], zone=PARIS))[3] == "In progress"
        made_in_english = exports.ticket_cells([row], zone=PARIS)
    # a streamed response reads its rows after the view returned: labels keep the viewer's language
    with translation.override("fr"):
        assert next(made_in_english)[3] == "In progress"


def test_a_report_table_exports_as_csv_and_xlsx() -> None:
    table = Table(
        key="groups",
        columns=[("open", "Open"), ("resolved", "Resolved")],
        rows=[Row(key="1", label="Desk (L1)", cells=[3, 4]), Row(key="2", label="-Net", cells=[0, None])],
    )
    assert read_csv(exports.export_table(table, "csv")) == [
        ["Name", "Open", "Resolved"],
        ["Desk (L1)", "3", "4"],
        ["'-Net", "0", ""],
    ]
    xml = xlsx_text(exports.export_table(table, "xlsx"))
    assert "Desk (L1)" in xml and "Resolved" in xml
    assert date(2026, 1, 1)  # dates are covered by the ticket cells above
