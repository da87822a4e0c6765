"""CSV and XLSX import of assets, locations and licences (docs/assets.md, "Import and export").

``read_table`` turns the uploaded bytes into a header and rows: an XLSX workbook (its first sheet,
read with the standard library: the zip's members and their XML), or a CSV whose encoding is
UTF-8 with or without byte-order mark, else Windows-1252 (Excel's French export), and whose
delimiter is sniffed among comma, semicolon and tab. ``run_import`` checks the columns (an
unknown one is refused by name), refuses a tag twice in the file, then goes row by row through
the asset services: a row names an existing asset by its tag (then by its serial number) and
updates it (one ``imported`` event), or creates it. Every row's errors are reported with its line.

Modes: ``all-or-nothing`` (one transaction: any error and nothing is written) and ``per-row``
(each good row is written, the others reported). ``dry_run`` runs everything and writes nothing:
the preview of the upload page. A cell left empty leaves the asset's value as it is.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.lib.errors import DomainError
from palier.people.models import Organisation, SupportGroup, User

from . import licences
from .models import Asset, AssetEvent, AssetType, Location, Supplier
from .selectors import LOCATION_SEPARATOR, asset_for_import
from .services import assets as asset_services

KINDS = ("assets", "locations", "licences")
MODES = ("all-or-nothing", "per-row")
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
# the XML inside a 10 MB workbook may not unpack to more than this (a zip bomb is refused)
MAX_UNPACKED = 120 * 1024 * 1024
PREVIEW_ROWS = 20

ASSET_COLUMNS = (
    "tag",
    "type",
    "name",
    "serial",
    "manufacturer",
    "model",
    "status",
    "assigned_to",
    "location",
    "organisation",
    "owner_group",
    "supplier",
    "purchase_date",
    "purchase_cost",
    "warranty_end",
    "notes",
)
LOCATION_COLUMNS = ("path", "kind", "address", "organisation")
LICENCE_COLUMNS = (
    "tag",
    "name",
    "type",
    "product",
    "publisher",
    "seats",
    "key",
    "expires_on",
    "status",
    "owner_group",
    "organisation",
    "supplier",
    "purchase_date",
    "purchase_cost",
    "notes",
)
# columns the asset list's export writes that an import reads past (they are not set by hand)
IGNORED = frozenset({"last_inventory_at"})
COLUMNS = {"assets": ASSET_COLUMNS, "locations": LOCATION_COLUMNS, "licences": LICENCE_COLUMNS}
REQUIRED = {"assets": ("tag",), "locations": ("path",), "licences": ("tag", "product")}
FIELD_PREFIX = "field:"
DATE_COLUMNS = frozenset({"purchase_date", "warranty_end", "expires_on"})
# "Lyon › Bâtiment A" or, typed on a keyboard, "Lyon > Bâtiment A"
PATH_SPLIT = re.compile(r"\s*[›>]\s*")


class ImportRefused(Exception):
    """The file as a whole cannot be imported (size, format, columns); nothing was read further."""


@dataclass
class RowResult:
    line: int
    key: str
    cells: dict[str, str]
    action: str = ""  # created, updated, unchanged, error
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    kind: str
    mode: str
    dry_run: bool
    columns: list[str]
    rows: list[RowResult]
    written: bool = False

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def errors(self) -> list[RowResult]:
        return [row for row in self.rows if row.errors]

    @property
    def preview(self) -> list[RowResult]:
        return self.rows[:PREVIEW_ROWS]


# --- reading the file -------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (with or without a byte-order mark), else Windows-1252 (Excel's French CSV)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:
        counts = {d: header.count(d) for d in ",;\t"}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise ImportRefused(_("Line %(n)d cannot be read: %(error)s") % {"n": reader.line_num, "error": exc}) from None


def _cell_text(value: Any) -> str:
    """A cell as the import reads it: dates as ISO days (Excel stores them as numbers, openpyxl
    gives them back as dates from the cell's format), whole numbers without ".0"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """The first worksheet's rows as text, read by openpyxl in read-only mode (values, never
    formulas; its XML goes through defusedxml when installed, which Palier depends on)."""
    # imported here: openpyxl weighs about 15 MB in every web process otherwise (docs/performance.md)
    import openpyxl  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        if sum(info.file_size for info in archive.infolist()) > MAX_UNPACKED:
            raise ImportRefused(_("The workbook is too large once unpacked."))
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, InvalidFileException) as exc:
        raise ImportRefused(_("The workbook cannot be read: %(error)s") % {"error": exc}) from None
    try:
        if not workbook.worksheets:
            raise ImportRefused(_("The workbook has no worksheet."))
        sheet = workbook.worksheets[0]
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, [_cell_text(value) for value in row]
    except (KeyError, ValueError, TypeError) as exc:
        raise ImportRefused(_("The workbook cannot be read: %(error)s") % {"error": exc}) from None
    finally:
        workbook.close()


def read_table(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header (lower-cased names) and an iterator of (line, cells)."""
    if len(data) > MAX_BYTES:
        raise ImportRefused(_("The file is larger than %(n)d MB.") % {"n": MAX_BYTES // (1024 * 1024)})
    if not data.strip():
        raise ImportRefused(_("The file is empty."))
    rows = _xlsx_rows(data) if data.startswith(b"PK\x03\x04") else _csv_rows(data)
    for _line, header in rows:
        if any(cell.strip() for cell in header):
            return [cell.strip().lower() for cell in header], rows
    raise ImportRefused(_("The file has no header line."))


def check_columns(kind: str, header: list[str]) -> None:
    allowed = COLUMNS[kind]
    unknown = [
        name
        for name in header
        if name
        and name not in allowed
        and not (kind == "assets" and (name.startswith(FIELD_PREFIX) or name in IGNORED))
    ]
    if unknown:
        raise ImportRefused(
            _("Unknown columns: %(names)s. The columns are: %(allowed)s (separated by a comma, a semicolon or a tab).")
            % {"names": ", ".join(f"“{n}”" for n in unknown), "allowed": ", ".join(allowed)}
        )
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        raise ImportRefused(_("Columns given twice: %(names)s.") % {"names": ", ".join(duplicated)})
    missing = [name for name in REQUIRED[kind] if name not in header]
    if missing:
        raise ImportRefused(_("Missing columns: %(names)s.") % {"names": ", ".join(missing)})


# --- the references a row names -----------------------------------------------------------------------


class References:
    """The types, places, organisations, groups, suppliers and people rows name, read once."""

    def __init__(self, emails: set[str]) -> None:
        self.types = {t.slug: t for t in AssetType.objects.all()}
        for asset_type in list(self.types.values()):
            self.types.setdefault(asset_type.name_fr.lower(), asset_type)
            self.types.setdefault(asset_type.name_en.lower(), asset_type)
        self.locations = {loc.path.lower(): loc for loc in Location.objects.all()}
        self.organisations = {o.name.lower(): o for o in Organisation.objects.all()}
        self.groups = {g.name.lower(): g for g in SupportGroup.objects.all()}
        self.suppliers = {s.name.lower(): s for s in Supplier.objects.all()}
        self.users = {u.email.lower(): u for u in User.objects.filter(email__in=sorted(emails))} if emails else {}

    def find(self, table: dict[str, Any], value: str, column: str, errors: dict[str, str]) -> Any:
        found = table.get(value.strip().lower())
        if found is None:
            errors[column] = _("Unknown %(column)s “%(value)s”.") % {"column": column, "value": value}
        return found


def _normalise_path(value: str) -> str:
    return LOCATION_SEPARATOR.join(part for part in PATH_SPLIT.split(value.strip()) if part)


def _cell_date(value: str) -> str:
    """An ISO date, or a spreadsheet's day number (days since 1899-12-30) as one."""
    if re.fullmatch(r"\d{5}(\.\d+)?", value):
        return (date(1899, 12, 30) + timedelta(days=int(float(value)))).isoformat()
    return value


def _asset_values(cells: dict[str, str], refs: References, errors: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    attributes: dict[str, str] = {}
    for column, raw in cells.items():
        value = raw.strip()
        if not value or column in IGNORED or column in ("status", "product", "publisher", "seats", "key", "expires_on"):
            continue
        if column.startswith(FIELD_PREFIX):
            attributes[column[len(FIELD_PREFIX) :]] = value
        elif column == "type":
            values["type"] = refs.find(refs.types, value, column, errors)
        elif column == "assigned_to":
            values["assigned_to"] = refs.find(refs.users, value, column, errors)
        elif column == "location":
            values["location"] = refs.find(refs.locations, _normalise_path(value), column, errors)
        elif column == "organisation":
            values["organisation"] = refs.find(refs.organisations, value, column, errors)
        elif column == "owner_group":
            values["owner_group"] = refs.find(refs.groups, value, column, errors)
        elif column == "supplier":
            values["supplier"] = refs.find(refs.suppliers, value, column, errors)
        elif column in DATE_COLUMNS:
            values[column] = _cell_date(value)
        else:
            values[column] = value
    if attributes:
        values["attributes"] = attributes
    return values


def _messages(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [
                f"{name}: {message}" if name != "__all__" else str(message)
                for name, messages in exc.message_dict.items()
                for message in messages
            ]
        return [str(m) for m in exc.messages]
    if isinstance(exc, DomainError):
        return [exc.message]
    return [str(exc)]


# --- the rows ---------------------------------------------------------------------------------------


def _keep_tag(existing: Asset, values: dict[str, Any]) -> None:
    """A row naming an asset by its tag in another case does not rename it."""
    if str(values.get("tag", "")).lower() == existing.tag.lower():
        values.pop("tag", None)


def _import_asset(actor: User | None, row: RowResult, refs: References) -> None:
    errors: dict[str, str] = {}
    values = _asset_values(row.cells, refs, errors)
    status = row.cells.get("status", "").strip()
    if status and status not in Asset.Status.values:
        errors["status"] = _("Unknown status “%(value)s”; use one of: %(all)s.") % {
            "value": status,
            "all": ", ".join(Asset.Status.values),
        }
    if errors:
        raise ValidationError(errors)
    existing = asset_for_import(values.get("tag", ""), row.cells.get("serial", "").strip())
    if existing is None:
        for column in ("type", "name"):
            if column not in values:
                raise ValidationError({column: _("A new asset needs a %(column)s.") % {"column": column}})
        asset_services.create_asset(
            actor, values, status=status or Asset.Status.IN_STOCK, event_kind=AssetEvent.Kind.IMPORTED
        )
        row.action = "created"
        return
    _keep_tag(existing, values)
    before = existing.version
    updated = asset_services.update_asset(actor, existing, values, event_kind=AssetEvent.Kind.IMPORTED)
    if status and status != updated.status:
        updated = asset_services.change_status(actor, updated, status, note=_("import"))
    row.action = "updated" if updated.version != before else "unchanged"


def _import_licence(actor: User | None, row: RowResult, refs: References) -> None:
    errors: dict[str, str] = {}
    values = _asset_values(row.cells, refs, errors)
    terms = {
        column: row.cells[column].strip()
        for column in ("product", "publisher", "seats", "key", "expires_on")
        if row.cells.get(column, "").strip()
    }
    if "expires_on" in terms:
        terms["expires_on"] = _cell_date(terms["expires_on"])
    if errors:
        raise ValidationError(errors)
    existing = asset_for_import(values.get("tag", ""), "")
    if existing is None:
        if "name" not in values:
            raise ValidationError({"name": _("A new licence needs a name.")})
        status = row.cells.get("status", "").strip() or Asset.Status.DEPLOYED
        licences.create_licence(actor, values, terms, status=status, event_kind=AssetEvent.Kind.IMPORTED)
        row.action = "created"
        return
    if existing.type.family != AssetType.Family.LICENCE:
        raise ValidationError({"tag": _("%(tag)s is not a licence.") % {"tag": existing.tag}})
    _keep_tag(existing, values)
    before = existing.version
    updated = asset_services.update_asset(actor, existing, values, event_kind=AssetEvent.Kind.IMPORTED)
    licences.update_terms(actor, updated, terms, event_kind=AssetEvent.Kind.IMPORTED)
    after = Asset.objects.values_list("version", flat=True).get(pk=existing.pk)
    row.action = "updated" if after != before else "unchanged"


def _kind_of_level(depth: int) -> str:
    kinds = (Location.Kind.SITE, Location.Kind.BUILDING, Location.Kind.FLOOR)
    return kinds[depth] if depth < len(kinds) else Location.Kind.ROOM


def _import_location(actor: User | None, row: RowResult, refs: References) -> None:
    """Create every place of the path that does not exist yet; the row's kind, address and
    organisation go to the last one."""
    parts = [p for p in PATH_SPLIT.split(row.cells.get("path", "").strip()) if p]
    if not parts:
        raise ValidationError({"path": _("Give the location's path, e.g. “Lyon › Bâtiment A”.")})
    if any(len(p) > 120 for p in parts) or len(parts) > 8:
        raise ValidationError({"path": _("At most 8 levels of 120 characters each.")})
    kind = row.cells.get("kind", "").strip()
    if kind and kind not in Location.Kind.values:
        raise ValidationError({"kind": _("Use one of: %(all)s.") % {"all": ", ".join(Location.Kind.values)}})
    errors: dict[str, str] = {}
    organisation = row.cells.get("organisation", "").strip()
    org = refs.find(refs.organisations, organisation, "organisation", errors) if organisation else None
    if errors:
        raise ValidationError(errors)
    parent: Location | None = None
    created = False
    for depth, name in enumerate(parts):
        path = LOCATION_SEPARATOR.join(parts[: depth + 1])
        place = refs.locations.get(path.lower())
        if place is None:
            place = Location.objects.create(
                parent=parent, name=name, kind=_kind_of_level(depth), path=path, depth=depth
            )
            refs.locations[path.lower()] = place
            created = True
        parent = place
    assert parent is not None
    changes = {"kind": kind, "address": row.cells.get("address", "").strip()[:300], "organisation": org}
    changed = [name for name, value in changes.items() if value and getattr(parent, name) != value]
    for name in changed:
        setattr(parent, name, changes[name])
    if changed:
        parent.save(update_fields=changed)
    row.action = "created" if created else ("updated" if changed else "unchanged")


IMPORTERS = {"assets": _import_asset, "locations": _import_location, "licences": _import_licence}


class _Rollback(Exception):
    pass


def _collect(kind: str, header: list[str], rows: Iterator[tuple[int, list[str]]]) -> list[RowResult]:
    key_column = "path" if kind == "locations" else "tag"
    results: list[RowResult] = []
    first_line: dict[str, int] = {}
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        if len(results) >= MAX_ROWS:
            raise ImportRefused(_("The file has more than %(n)d rows: split it.") % {"n": MAX_ROWS})
        row = RowResult(line=line, key="", cells={name: "" for name in header if name})
        if len(cells) > len(header):
            extra = [c for c in cells[len(header) :] if c.strip()]
            if extra:
                row.errors.append(_("More cells than columns (is the delimiter right?)."))
        for name, value in zip(header, cells, strict=False):
            if name:
                row.cells[name] = value
        row.key = row.cells.get(key_column, "").strip()
        normal = row.key.lower() if kind != "locations" else _normalise_path(row.key).lower()
        if normal:
            if normal in first_line:
                row.errors.append(
                    _("“%(key)s” is already on line %(line)d of the file.")
                    % {"key": row.key, "line": first_line[normal]}
                )
            else:
                first_line[normal] = line
        results.append(row)
    return results


def run_import(
    data: bytes, *, kind: str, mode: str = "all-or-nothing", dry_run: bool = False, actor: User | None = None
) -> ImportReport:
    """Import a CSV or XLSX file; see the module's docstring. Raises ``ImportRefused`` for a file
    refused as a whole; row errors are in the report."""
    if kind not in KINDS:
        raise ImportRefused(_("Unknown kind of import."))
    if mode not in MODES:
        raise ImportRefused(_("Unknown mode."))
    header, rows = read_table(data)
    check_columns(kind, header)
    results = _collect(kind, header, rows)
    report = ImportReport(kind=kind, mode=mode, dry_run=dry_run, columns=[h for h in header if h], rows=results)
    emails = {r.cells.get("assigned_to", "").strip().lower() for r in results} - {""}
    try:
        with transaction.atomic():
            _apply(IMPORTERS[kind], actor, results, References(emails))
            if dry_run or (report.errors and mode == "all-or-nothing"):
                raise _Rollback
            counts = {action: report.count(action) for action in ("created", "updated", "unchanged", "error")}
            audit.record(f"import.{kind}", actor=actor, target_type="import", changes=counts)
        report.written = True
    except _Rollback:
        if report.errors and not dry_run:
            for row in results:
                if row.action != "error":
                    row.action = "not written"
    return report


def _apply(importer: Any, actor: User | None, results: list[RowResult], refs: References) -> None:
    for row in results:
        if row.errors:
            row.action = "error"
            continue
        try:
            with transaction.atomic():
                importer(actor, row, refs)
        except (ValidationError, DomainError) as exc:
            row.action = "error"
            row.errors.extend(_messages(exc))


# --- the upload page's file, kept between the preview and the confirmation ----------------------------

STAGING = "asset-imports"


def stage(data: bytes) -> str:
    """Keep an uploaded file for its confirmation; returns its token (random, 32 hex digits)."""
    token = secrets.token_hex(16)
    default_storage.save(f"{STAGING}/{token}", ContentFile(data))
    return token


def staged(token: str) -> bytes | None:
    if not re.fullmatch(r"[0-9a-f]{32}", token or ""):
        return None
    try:
        with default_storage.open(f"{STAGING}/{token}", "rb") as handle:
            return bytes(handle.read(MAX_BYTES + 1))
    except (FileNotFoundError, OSError):
        return None


def discard(token: str) -> None:
    if re.fullmatch(r"[0-9a-f]{32}", token or ""):
        default_storage.delete(f"{STAGING}/{token}")
