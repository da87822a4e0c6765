"""CSV and XLSX import: encodings, delimiters, per-row errors, all or nothing, idempotent by tag."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from django.core.management import call_command
from django.core.management.base import CommandError

from palier.assets import importing
from palier.assets.models import Asset, AssetEvent, Licence, Location
from palier.assets.tests.builders import make_asset
from palier.mail import secrets

pytestmark = pytest.mark.django_db


def test_excel_french_csv_builds_the_tree_then_imports_and_reimports_by_tag(agent, requester, triage):
    places = "path;kind\r\nLyon › Bâtiment A › 2e étage;floor\r\nLyon › Bâtiment B;\r\n".encode("cp1252")
    report = importing.run_import(places, kind="locations")
    assert report.written and report.count("created") == 2
    floor = Location.objects.get(name="2e étage")
    assert (floor.path, floor.depth, floor.parent.parent.name) == ("Lyon › Bâtiment A › 2e étage", 2, "Lyon")

    rows = (
        "tag;type;name;serial;assigned_to;location;owner_group;warranty_end;field:memory_mb\r\n"
        f"LT-100;laptop;Portable de Hélène;5CG1;{requester.email};Lyon > Bâtiment A > 2e étage;{triage.name};"
        "2027-03-31;16384\r\n"
        "LT-101;Ordinateur portable;Poste d'accueil;;;;;;\r\n"
    )
    report = importing.run_import(rows.encode("cp1252"), kind="assets", actor=agent)
    assert [r.errors for r in report.rows] == [[], []] and report.count("created") == 2
    laptop = Asset.objects.get(tag="LT-100")
    assert laptop.name == "Portable de Hélène" and laptop.location == floor and laptop.assigned_to == requester
    assert laptop.attributes == {"memory_mb": 16384} and laptop.warranty_end == date(2027, 3, 31)

    # the same file again changes nothing; a changed cell is one "imported" event
    again = importing.run_import(rows.encode("cp1252"), kind="assets", actor=agent)
    assert again.count("unchanged") == 2
    changed = rows.replace("Portable de Hélène", "Portable d'Hélène").replace("LT-100", "lt-100")
    assert importing.run_import(changed.encode("utf-8-sig"), kind="assets", actor=agent).count("updated") == 1
    events = list(Asset.objects.get(tag="LT-100").events.values_list("kind", "data"))
    assert events[-1] == (AssetEvent.Kind.IMPORTED, {"name": ["Portable de Hélène", "Portable d'Hélène"]})


def test_a_bad_file_names_each_problem_and_writes_nothing(agent):
    make_asset("LT-001", by=agent)
    with pytest.raises(importing.ImportRefused, match=re.escape("Unknown columns: “tag|type|name”")):
        importing.run_import(b"tag|type|name\nLT-9|laptop|x\n", kind="assets")
    importing.check_columns("assets", ["tag", "last_inventory_at"])  # the list export's column: read past
    with pytest.raises(importing.ImportRefused, match="“colour”"):
        importing.run_import(b"tag,type,name,colour\n", kind="assets")
    rows = (
        b"tag,type,name,status,purchase_cost\n"
        b"LT-200,laptop,Good one,deployed,1299.90\n"
        b"LT-201,toaster,Bad type,,\n"
        b"lt-200,laptop,Twice,,\n"
        b"LT-202,laptop,Bad cost,,lots\n"
        b"LT-001,laptop,Lifecycle,disposed,\n"
    )
    report = importing.run_import(rows, kind="assets", actor=agent)
    assert not report.written
    assert {r.line: r.errors for r in report.errors} == {
        3: ["type: Unknown type “toaster”."],
        4: ["“lt-200” is already on line 2 of the file."],
        5: ["purchase_cost: Enter a number."],
        6: ["An asset cannot go from “in stock” to “disposed”."],
    }
    assert report.rows[0].action == "not written"
    assert list(Asset.objects.values_list("tag", flat=True)) == ["LT-001"]
    assert Asset.objects.get(tag="LT-001").name == "Asset LT-001"
    # per row: the good one is written, the others reported
    report = importing.run_import(rows, kind="assets", mode="per-row", actor=agent)
    assert report.written and report.count("created") == 1 and len(report.errors) == 4
    assert Asset.objects.get(tag="LT-200").purchase_cost == Decimal("1299.90")


def test_xlsx_round_trip_and_the_command(tmp_path: Path, agent):
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["Tag", "Name", "Product", "Seats", "Key", "Expires_on"])
    sheet.write_row(1, 0, ["LIC-7", "Office 365 E3", "Microsoft 365", 25, "AAAAA-BBBBB-CCCCC"])
    sheet.write_datetime(1, 5, date(2027, 1, 31), day)
    book.close()
    path = tmp_path / "licences.xlsx"
    path.write_bytes(buffer.getvalue())

    call_command("import-assets", str(path), "--kind", "licences", "--dry-run", stdout=io.StringIO())
    assert not Asset.objects.exists()
    out = io.StringIO()
    call_command("import-assets", str(path), "--kind", "licences", stdout=out)
    assert "1 created" in out.getvalue()
    licence = Licence.objects.select_related("asset").get()
    assert (licence.asset.tag, licence.product, licence.seats, licence.expires_on) == (
        "LIC-7",
        "Microsoft 365",
        25,
        date(2027, 1, 31),
    )
    assert "BBBBB-CCCCC" not in licence.key_encrypted and secrets.decrypt(licence.key_encrypted) == "AAAAA-BBBBB-CCCCC"
    (tmp_path / "bad.csv").write_bytes(b"tag,product,seats\nLIC-8,Visio,none\n")
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import-assets", str(tmp_path / "bad.csv"), "--kind", "licences", stderr=io.StringIO())
