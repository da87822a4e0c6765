"""``palier import-export PATH``: load a data export (``services.export_data``) into a fresh desk.

Everything is checked before anything is written, in one reading of the archive and one reading
of each staged file:

1. the archive: only regular files with the names the format uses (no ``../``, no absolute path,
   no link, no name twice), each at most ``max_member`` bytes, copied into a private staging
   folder while hashed; then every member compared with the manifest (SHA-256 and size, nothing
   missing, nothing extra), the manifest's format and version;
2. every line of every ``data/<kind>.jsonl``: a JSON object with exactly the keys of
   ``schema.FIELDS``, each value of the right type, length and choice (read from the models);
   ids ascending; natural keys (addresses, names, slugs, numbers) unique; every ``…_id`` naming a
   row of the archive; no category its own ancestor; each attachment's member present with the
   hash and size its row states;
3. with a virus scanner configured, every attached file (one infected file refuses the archive).

``check_export`` stops there (``--check``); ``import_export`` goes on.

Then one transaction loads the rows, kind by kind, with new ids (a map old → new per referenced
kind, applied to every reference, the ids inside history payloads included), keeps the ticket
numbers and moves the numbering past them, copies the files into the storage, writes the
search entries, moves the event-stream cursors to the end (the imported history sends no
notification and runs no rule) and computes the reports' facts. Files copied before a failure
are removed again. SLA clocks are not in an export: imported tickets have none.

A desk that already has tickets is refused: numbers would collide and two histories would mix.
People, organisations, support groups and categories already there are linked by their natural
key (email, name, slug) and left as they are.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from palier.audit import services as audit
from palier.dataexport import assets as asset_rows
from palier.dataexport.schema import FIELDS, FORMAT, KINDS, OPTIONAL_KINDS, VERSION
from palier.lib import antivirus
from palier.lib.text import normalise
from palier.people.models import Department, Membership, Organisation, SupportGroup, User
from palier.reports import facts
from palier.tickets import stream
from palier.tickets.models import (
    Attachment,
    Category,
    Comment,
    SearchEntry,
    Tag,
    Ticket,
    TicketCounter,
    TicketEvent,
    TicketLink,
)

MANIFEST = "manifest.json"
MAX_MEMBER = 8 << 30  # bytes: a larger member is refused before it is read
MAX_LINE = 64 << 20  # bytes of one JSON line
MAX_MANIFEST = 256 << 20  # bytes of manifest.json (read whole)
CHUNK = 2000
_COPY = 1 << 20
_ATTACHMENT = re.compile(r"^files/attachments/[0-9]+-[A-Za-z0-9._-]{1,150}$")

MODELS: dict[str, type[models.Model]] = {
    "organisations": Organisation,
    "departments": Department,
    "users": User,
    "groups": SupportGroup,
    "memberships": Membership,
    "categories": Category,
    "tickets": Ticket,
    "comments": Comment,
    "attachments": Attachment,
    "events": TicketEvent,
    "links": TicketLink,
    **asset_rows.MODELS,
}

# the kind each reference names; checked in this order, so a kind's targets are known before it
REFERENCES: dict[str, dict[str, str]] = {
    "organisations": {},
    "departments": {"organisation_id": "organisations"},
    "users": {"organisation_id": "organisations", "department_id": "departments"},
    "groups": {},
    "memberships": {"group_id": "groups", "user_id": "users"},
    "categories": {"parent_id": "categories"},
    "tickets": {
        "requester_id": "users",
        "organisation_id": "organisations",
        "category_id": "categories",
        "group_id": "groups",
        "assignee_id": "users",
        "created_by_id": "users",
        "watcher_ids": "users",
    },
    "comments": {"ticket_id": "tickets", "author_id": "users"},
    "attachments": {"ticket_id": "tickets", "comment_id": "comments", "uploaded_by_id": "users"},
    "events": {"ticket_id": "tickets", "actor_id": "users"},
    "links": {"source_id": "tickets", "target_id": "tickets"},
    **asset_rows.REFERENCES,
}
ORDER = tuple(REFERENCES)
# the kinds other rows refer to (schema keys or history payloads): their ids are kept in memory
REFERENCED = frozenset({target for refs in REFERENCES.values() for target in refs.values()} | {"attachments"})

# ids inside history payloads (``TicketEvent.data``): the kind they name in the archive, or None
# for rows an export does not carry (SLA clocks, automation rules, time entries): those become null
PAYLOAD_IDS: dict[str, dict[str, str | None]] = {
    TicketEvent.Kind.COMMENTED: {"comment": "comments"},
    TicketEvent.Kind.NOTED: {"comment": "comments"},
    TicketEvent.Kind.ATTACHED: {"attachment": "attachments"},
    TicketEvent.Kind.RULE: {"rule_id": None},
    TicketEvent.Kind.TIME_LOGGED: {"entry": None},
    TicketEvent.Kind.TIME_CHANGED: {"entry": None},
    TicketEvent.Kind.SLA_WARNING: {"clock": None},
    TicketEvent.Kind.SLA_BREACH: {"clock": None},
}


class ImportRefused(Exception):
    """The archive is not loaded (the message says why); nothing was written."""


@dataclass(frozen=True)
class ImportResult:
    counts: dict[str, int]  # rows created per kind
    linked: dict[str, int]  # rows of the archive matched to rows already there, per kind
    files: int


@dataclass
class _Staged:
    folder: Path
    manifest: dict[str, Any]
    hashes: dict[str, dict[str, Any]] = field(default_factory=dict)
    verdicts: dict[str, antivirus.Verdict] = field(default_factory=dict)  # by member, when scanned here

    def data(self, kind: str) -> Path | None:
        path = self.folder / "data" / f"{kind}.jsonl"
        return path if path.exists() else None


# --- reading the archive -----------------------------------------------------------------------------


def _member_name(info: tarfile.TarInfo) -> str:
    name = info.name
    path = PurePosixPath(name)
    if not info.isfile():
        raise ImportRefused(f"{name!r}: not a regular file (links and folders are refused).")
    if path.is_absolute() or any(part in ("", ".", "..") for part in path.parts) or "\\" in name or "\x00" in name:
        raise ImportRefused(f"{name!r}: a member name may not leave the archive.")
    if name == MANIFEST or (name.startswith("data/") and name[5:-6] in FIELDS and name.endswith(".jsonl")):
        return name
    if _ATTACHMENT.match(name):
        return name
    raise ImportRefused(f"{name!r}: not a member of a Palier export.")


def _stage(path: Path, folder: Path, max_member: int) -> _Staged:
    """Copy every member into ``folder`` while hashing it, then compare with the manifest."""
    staged = _Staged(folder=folder, manifest={})
    manifest: Any = None
    try:
        with tarfile.open(path, mode="r|gz") as archive:
            for info in archive:
                name = _member_name(info)
                if name in staged.hashes or (name == MANIFEST and manifest is not None):
                    raise ImportRefused(f"{name}: appears twice in the archive.")
                if info.size > max_member:
                    raise ImportRefused(f"{name}: {info.size:,} bytes, more than the {max_member:,} allowed.")
                if info.size > shutil.disk_usage(folder).free:
                    raise ImportRefused(f"{name}: no room left to stage it in {folder}.")
                source = archive.extractfile(info)
                assert source is not None  # a regular file
                if name == MANIFEST:
                    if info.size > MAX_MANIFEST:
                        raise ImportRefused(f"manifest.json: {info.size:,} bytes, more than {MAX_MANIFEST:,}.")
                    manifest = _read_manifest(source)
                else:
                    staged.hashes[name] = _copy(source, folder / name)
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise ImportRefused(f"{path} cannot be read as a tar.gz archive: {exc}") from exc
    staged.manifest = _compare(manifest, staged.hashes)
    return staged


def _read_manifest(source: IO[bytes]) -> Any:
    try:
        return json.loads(source.read(), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise ImportRefused(f"manifest.json is not valid JSON: {exc}") from exc


def _copy(source: IO[bytes], target: Path) -> dict[str, Any]:
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest, size = hashlib.sha256(), 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(_COPY):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return {"sha256": digest.hexdigest(), "size": size}


def _compare(manifest: Any, hashes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The manifest, once it is known to describe exactly the members read."""
    if not isinstance(manifest, dict):
        raise ImportRefused("The archive has no manifest.json.")
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise ImportRefused(
            f"Not a Palier export of format version {VERSION} "
            f"(format {manifest.get('format')!r}, version {manifest.get('version')!r})."
        )
    listed = manifest.get("members")
    if not isinstance(listed, dict):
        raise ImportRefused("The manifest lists no members.")
    for name in sorted(set(listed) | set(hashes)):
        want, got = listed.get(name), hashes.get(name)
        if want is None:
            raise ImportRefused(f"{name}: in the archive but not in the manifest.")
        if got is None:
            raise ImportRefused(f"{name}: in the manifest but not in the archive.")
        if not isinstance(want, dict) or want.get("sha256") != got["sha256"] or want.get("size") != got["size"]:
            raise ImportRefused(
                f"{name}: its content differs from the manifest (SHA-256 or size): tampered or damaged."
            )
    for kind in KINDS:
        if f"data/{kind}.jsonl" not in hashes and kind not in OPTIONAL_KINDS:
            raise ImportRefused(f"The archive has no data/{kind}.jsonl.")
    if not isinstance(manifest.get("counts"), dict):
        raise ImportRefused("The manifest has no counts.")
    return manifest


def _lines(staged: _Staged, kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
    path = staged.data(kind)
    if path is None:
        return
    with path.open("rb") as source:
        number = 0
        while raw := source.readline(MAX_LINE + 1):
            number += 1
            where = f"data/{kind}.jsonl line {number}"
            if len(raw) > MAX_LINE:
                raise ImportRefused(f"{where}: longer than {MAX_LINE:,} bytes.")
            yield number, _parse_line(raw, where)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _parse_line(raw: bytes, where: str) -> dict[str, Any]:
    """One line as a JSON object that both databases can store (no NaN, no NUL, no lone surrogate)."""
    try:
        row = json.loads(raw, parse_constant=_no_constant)
        stored = json.dumps(row, ensure_ascii=False)
        stored.encode()
    except (ValueError, RecursionError, UnicodeError) as exc:
        raise ImportRefused(f"{where}: not valid JSON ({exc}).") from exc
    if not isinstance(row, dict):
        raise ImportRefused(f"{where}: not a JSON object.")
    if "\\u0000" in stored:
        raise ImportRefused(f"{where}: holds a NUL character.")
    return row


# --- checking every line -------------------------------------------------------------------------------


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("no time zone")
    return parsed


def _check_special(key: str, value: Any) -> str | None:
    """Why ``value`` cannot be one of the keys that are not a model field, or None."""
    if key == "id":
        return None if type(value) is int and value > 0 else "expected a positive whole number"
    if key == "watcher_ids":
        ok = isinstance(value, list) and all(type(v) is int and v > 0 for v in value)
        return None if ok else "expected a list of ids"
    if key == "tags":
        ok = isinstance(value, list) and all(isinstance(v, str) and 0 < len(v) <= 50 for v in value)
        return None if ok else "expected a list of tag names"
    if key == "member":
        return None if isinstance(value, str) and _ATTACHMENT.match(value) else "not an attachment member name"
    return None if isinstance(value, dict) else "expected a JSON object"  # an event's data


def _check_type(model_field: models.Field[Any, Any], key: str, value: Any) -> str | None:
    """Why ``value`` has not the type of ``model_field``, or None."""
    if isinstance(model_field, models.ForeignKey):
        return None if type(value) is int and value > 0 else "expected an id"
    if isinstance(model_field, models.BooleanField):
        return None if type(value) is bool else "expected true or false"
    if isinstance(model_field, models.DateTimeField):
        try:
            _parse_time(value)
        except (TypeError, ValueError):
            return "expected an ISO 8601 time with its time zone"
        return None
    if isinstance(model_field, (models.DateField, models.DecimalField)):  # a date-time is checked above
        return (
            asset_rows.check_date(value)
            if isinstance(model_field, models.DateField)
            else asset_rows.check_decimal(value)
        )
    if isinstance(model_field, models.IntegerField):
        if type(value) is not int or value < 0:
            return "expected a whole number"
        return "expected a priority from 1 to 4" if key == "priority" and not 1 <= value <= 4 else None
    if isinstance(model_field, (models.CharField, models.TextField)):
        if not isinstance(value, str) or "\x00" in value:
            return "expected a text"
        if key == "sha256" and not re.fullmatch(r"[0-9a-f]{64}", value):
            return "expected a SHA-256 in hexadecimal"
        if value == "" and not model_field.blank:
            return "may not be empty"
    return None


def _check_value(model: type[models.Model], key: str, value: Any) -> str | None:
    """Why ``value`` cannot be the ``key`` of a row of ``model``, or None."""
    if key in SPECIAL_KEYS:
        return _check_special(key, value)
    model_field = model._meta.get_field(key.removesuffix("_id"))
    assert isinstance(model_field, models.Field)
    if value is None:
        return None if model_field.null else "may not be null"
    problem = _check_type(model_field, key, value)
    if problem or isinstance(model_field, (models.ForeignKey, models.DateField, models.DecimalField)) or value == "":
        return problem
    try:
        model_field.run_validators(value)
    except ValidationError as exc:
        return "; ".join(str(message) for message in exc.messages)
    if model_field.choices and value not in {choice for choice, _label in model_field.flatchoices}:
        return f"{value!r} is not one of the allowed values"
    return None


SPECIAL_KEYS = frozenset({"id", "watcher_ids", "tags", "member", "data"})


@dataclass
class _Checked:
    ids: dict[str, set[int]] = field(default_factory=lambda: {kind: set() for kind in ORDER})
    counts: dict[str, int] = field(default_factory=dict)
    department_org: dict[int, int] = field(default_factory=dict)


def _unique(seen: set[Any], value: Any, where: str, what: str) -> None:
    if value in seen:
        raise ImportRefused(f"{where}: {what} appears twice in the archive.")
    seen.add(value)


def _check(staged: _Staged) -> _Checked:
    checked = _Checked()
    for kind in ORDER:
        model, keys = MODELS[kind], FIELDS[kind]
        ids = checked.ids[kind]
        natural: set[Any] = set()
        pending: list[tuple[str, int]] = []  # references to rows of the same kind (category parents)
        count = last = 0
        for number, row in _lines(staged, kind):
            where = f"data/{kind}.jsonl line {number}"
            _check_keys(model, keys, row, where)
            if row["id"] <= last:
                raise ImportRefused(f"{where}: ids must ascend, as the export writes them (id {row['id']}).")
            last = row["id"]
            if kind in REFERENCED:  # only the ids other rows may name are kept
                ids.add(row["id"])
            pending.extend(_check_references(kind, row, where, checked))
            (_check_asset_row if kind in asset_rows.MODELS else _check_natural)(kind, row, where, natural, checked)
            if kind == "attachments":
                _check_file(row, where, staged)
            count += 1
        for where, value in pending:
            if value not in ids:
                raise ImportRefused(f"{where}: parent_id {value} names no row of {kind} in the archive.")
        if kind == "categories":
            _check_tree(staged)
        expected = (staged.manifest.get("counts") or {}).get(kind, 0 if kind in OPTIONAL_KINDS else None)
        if expected != count:
            raise ImportRefused(f"data/{kind}.jsonl has {count} rows, the manifest says {expected}.")
        checked.counts[kind] = count
    return checked


def _check_keys(model: type[models.Model], keys: tuple[str, ...], row: dict[str, Any], where: str) -> None:
    """The row has exactly the schema's keys, each with a value the model accepts."""
    if set(row) != set(keys):
        missing, extra = sorted(set(keys) - set(row)), sorted(set(row) - set(keys))
        raise ImportRefused(f"{where}: keys differ from the schema (missing {missing}, unknown {extra}).")
    for key in keys:
        problem = _check_value(model, key, row[key])
        if problem:
            raise ImportRefused(f"{where}: {key}: {problem}.")


def _check_tree(staged: _Staged) -> None:
    """No category is its own ancestor (the tree's readers would loop)."""
    parent = {row["id"]: row["parent_id"] for _number, row in _lines(staged, "categories")}
    for start in parent:
        seen, node = {start}, parent[start]
        while node is not None:
            if node in seen:
                raise ImportRefused(f"data/categories.jsonl: category {start} is its own ancestor.")
            seen.add(node)
            node = parent[node]


def _check_references(kind: str, row: dict[str, Any], where: str, checked: _Checked) -> list[tuple[str, int]]:
    """Each reference names a row of the archive; those to the same kind are returned for later."""
    pending = []
    for key, target in REFERENCES[kind].items():
        for value in row[key] if key == "watcher_ids" else [row[key]]:
            if value is None:
                continue
            if target == kind:
                pending.append((where, value))
            elif value not in checked.ids[target]:
                raise ImportRefused(f"{where}: {key} {value} names no row of {target} in the archive.")
    return pending


def _check_file(row: dict[str, Any], where: str, staged: _Staged) -> None:
    """An attachment's file is in the archive, with the hash and size its row states."""
    got = staged.hashes.get(row["member"])
    if got is None:
        raise ImportRefused(f"{where}: its file {row['member']} is not in the archive.")
    if got["sha256"] != row["sha256"] or got["size"] != row["size"]:
        raise ImportRefused(f"{where}: its file's SHA-256 or size differs from the row's.")


def _check_asset_row(kind: str, row: dict[str, Any], where: str, seen: set[Any], checked: _Checked) -> None:
    """An asset kind's row: its own rules, and its natural key unique in the archive."""
    problem = asset_rows.row_problem(kind, row)
    if problem:
        raise ImportRefused(f"{where}: {problem}.")
    natural = asset_rows.natural_key(kind, row)
    if natural is not None:
        _unique(seen, natural[0], where, natural[1])


def _check_natural(kind: str, row: dict[str, Any], where: str, seen: set[Any], checked: _Checked) -> None:
    """What must be unique on the desk is unique in the archive."""
    if kind in ("organisations", "groups"):
        _unique(seen, row["name"], where, f"the name {row['name']!r}")
    elif kind == "departments":
        _unique(seen, (row["organisation_id"], row["name"]), where, f"the department {row['name']!r}")
        checked.department_org[row["id"]] = row["organisation_id"]
    elif kind == "users":
        _unique(seen, row["email"].lower(), where, f"the address {row['email']!r}")
        department = row["department_id"]
        if department is not None and checked.department_org[department] != row["organisation_id"]:
            raise ImportRefused(f"{where}: department_id {department} is a department of another organisation.")
    elif kind == "categories":
        _unique(seen, row["slug"], where, f"the slug {row['slug']!r}")
    elif kind == "memberships":
        _unique(seen, (row["group_id"], row["user_id"]), where, "the membership")
    elif kind == "tickets":
        _unique(seen, (row["kind"], row["number"]), where, f"the number {row['kind']} {row['number']}")
    elif kind == "links":
        if row["source_id"] == row["target_id"]:
            raise ImportRefused(f"{where}: a ticket linked to itself.")
        _unique(seen, (row["source_id"], row["target_id"], row["kind"]), where, "the link")


# --- loading -------------------------------------------------------------------------------------------


def _scan(staged: _Staged) -> None:
    """With a virus scanner configured (``PALIER_CLAMD``), every attached file is scanned here: one
    infected file, or no verdict, refuses the whole archive. Without one, files come in unscanned:
    the archive's own verdict is not believed."""
    if not antivirus.enabled():
        return
    for number, row in _lines(staged, "attachments"):
        member = row["member"]
        if member in staged.verdicts:
            continue
        try:
            with (staged.folder / member).open("rb") as source:
                verdict = antivirus.scan(source)
        except antivirus.ScannerUnavailable as exc:
            raise ImportRefused(f"The virus scanner gave no verdict on {member}: {exc}") from exc
        if verdict.infected:
            raise ImportRefused(
                f"data/attachments.jsonl line {number}: its file {member} holds a virus ({verdict.signature})."
            )
        staged.verdicts[member] = verdict


def desk_has_tickets() -> bool:
    return Ticket.objects.exists()


def check_export(path: Path, *, max_member: int = MAX_MEMBER) -> dict[str, int]:
    """Check the archive at ``path`` as the import would, writing nothing; the rows per kind."""
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"{path} is not a file.")
    with tempfile.TemporaryDirectory(prefix="palier-import-") as folder:
        os.chmod(folder, 0o700)
        staged = _stage(path, Path(folder), max_member)
        checked = _check(staged)
        _scan(staged)
    return checked.counts


def import_export(path: Path, *, max_member: int = MAX_MEMBER) -> ImportResult:
    """Check the archive at ``path`` completely, then load it in one transaction."""
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"{path} is not a file.")
    if desk_has_tickets():
        raise ImportRefused(
            "This desk already has tickets: an export is loaded into a fresh desk only "
            "(ticket numbers would collide and two histories would mix)."
        )
    with tempfile.TemporaryDirectory(prefix="palier-import-") as folder:
        os.chmod(folder, 0o700)
        staged = _stage(path, Path(folder), max_member)
        _check(staged)
        _scan(staged)
        saved: list[str] = []
        try:
            with transaction.atomic():
                if desk_has_tickets():  # created meanwhile
                    raise ImportRefused("This desk got tickets during the import: nothing was loaded.")
                result = _Loader(staged, saved).load()
        except BaseException:
            for name in saved:
                default_storage.delete(name)
            raise
    return result


class _Loader:
    def __init__(self, staged: _Staged, saved: list[str]) -> None:
        self.staged = staged
        self.saved = saved  # storage names written, removed again if the transaction fails
        self.maps: dict[str, dict[int, int]] = {kind: {} for kind in ORDER}
        self.counts: Counter[str] = Counter()
        self.linked: Counter[str] = Counter()
        self.files = 0
        self.now = timezone.now()

    def rows(self, kind: str) -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        for _number, row in _lines(self.staged, kind):
            batch.append(row)
            if len(batch) >= CHUNK:
                yield batch
                batch = []
        if batch:
            yield batch

    def ref(self, kind: str, old: int | None) -> int | None:
        return None if old is None else self.maps[kind][old]

    def need(self, kind: str, old: int) -> int:
        return self.maps[kind][old]

    def load(self) -> ImportResult:
        first_ticket = (Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
        self._by_natural_key("organisations", "name", self._organisation)
        self._departments()
        self._users()
        self._by_natural_key("groups", "name", self._group)
        self._memberships()
        self._categories()
        self._tickets()
        self._comments()
        self._attachments()
        self._events()
        self._links()
        asset_rows.load(self)
        self._continue_numbering()
        stream.skip_to_end()  # imported history is not news: no notification, no rule, no survey
        facts.recompute_from(first_ticket)
        audit.record(
            "import.data",
            actor=None,
            target_type="dataexport.archive",
            target_label=str(self.staged.manifest.get("scope"))[:200],
            changes={"created": dict(self.counts), "linked": dict(self.linked)},
        )
        return ImportResult(counts=dict(self.counts), linked=dict(self.linked), files=self.files)

    def _create(self, kind: str, olds: list[int], objects: Sequence[models.Model]) -> None:
        model = MODELS[kind]
        created = model._default_manager.bulk_create(objects)
        if kind in REFERENCED:
            for old, obj in zip(olds, created, strict=True):
                self.maps[kind][old] = obj.pk
        self.counts[kind] += len(created)

    def _by_natural_key(self, kind: str, key: str, build: Callable[[dict[str, Any]], models.Model]) -> None:
        model = MODELS[kind]
        for batch in self.rows(kind):
            existing = dict(
                model._default_manager.filter(**{f"{key}__in": [r[key] for r in batch]}).values_list(key, "pk")
            )
            new = [r for r in batch if r[key] not in existing]
            for r in batch:
                if r[key] in existing:
                    self.maps[kind][r["id"]] = existing[r[key]]
                    self.linked[kind] += 1
            self._create(kind, [r["id"] for r in new], [build(r) for r in new])

    def _organisation(self, r: dict[str, Any]) -> models.Model:
        return Organisation(
            name=r["name"],
            email_domain=r["email_domain"],
            share_tickets=r["share_tickets"],
            created_at=_parse_time(r["created_at"]),
        )

    def _group(self, r: dict[str, Any]) -> models.Model:
        return SupportGroup(
            name=r["name"],
            level=r["level"],
            is_vendor=r["is_vendor"],
            vendor_company=r["vendor_company"],
            email=r["email"],
        )

    def _departments(self) -> None:
        for batch in self.rows("departments"):
            olds, new = [], []
            for r in batch:
                organisation = self.need("organisations", r["organisation_id"])
                found = Department.objects.filter(organisation_id=organisation, name=r["name"]).first()
                if found is not None:
                    self.maps["departments"][r["id"]] = found.pk
                    self.linked["departments"] += 1
                    continue
                olds.append(r["id"])
                new.append(Department(organisation_id=organisation, name=r["name"]))
            self._create("departments", olds, new)

    def _users(self) -> None:
        unusable = make_password(None)  # people claim a password through the reset flow
        for batch in self.rows("users"):
            emails = [r["email"].lower() for r in batch]
            existing = {
                email.lower(): pk for email, pk in User.objects.filter(email__in=emails).values_list("email", "pk")
            }
            for r in batch:  # addresses stored with capitals
                if r["email"].lower() not in existing:
                    found = User.objects.filter(email__iexact=r["email"]).values_list("pk", flat=True).first()
                    if found is not None:
                        existing[r["email"].lower()] = found
            olds, new = [], []
            for r in batch:
                email = r["email"].lower()
                if email in existing:
                    self.maps["users"][r["id"]] = existing[email]
                    self.linked["users"] += 1
                    continue
                olds.append(r["id"])
                new.append(
                    User(
                        email=email,
                        full_name=r["full_name"],
                        role=r["role"],
                        language=r["language"],
                        phone=r["phone"],
                        organisation_id=self.ref("organisations", r["organisation_id"]),
                        department_id=self.ref("departments", r["department_id"]),
                        is_active=r["is_active"],
                        date_joined=_parse_time(r["date_joined"]),
                        password=unusable,
                    )
                )
            self._create("users", olds, new)

    def _memberships(self) -> None:
        for batch in self.rows("memberships"):
            pairs = [(self.need("groups", r["group_id"]), self.need("users", r["user_id"]), r) for r in batch]
            groups = {g for g, _u, _r in pairs}
            there = set(Membership.objects.filter(group_id__in=groups).values_list("group_id", "user_id"))
            olds, new = [], []
            for group, user, r in pairs:
                if (group, user) in there:
                    self.linked["memberships"] += 1
                    continue
                olds.append(r["id"])
                new.append(Membership(group_id=group, user_id=user, joined_at=_parse_time(r["joined_at"])))
            self._create("memberships", olds, new)

    def _categories(self) -> None:
        parents: dict[int, int | None] = {}  # new category → old parent, set once all exist
        for batch in self.rows("categories"):
            existing = dict(Category.objects.filter(slug__in=[r["slug"] for r in batch]).values_list("slug", "pk"))
            olds, new = [], []
            for r in batch:
                if r["slug"] in existing:
                    self.maps["categories"][r["id"]] = existing[r["slug"]]
                    self.linked["categories"] += 1
                    continue
                olds.append(r["id"])
                new.append(
                    Category(slug=r["slug"], name_en=r["name_en"], name_fr=r["name_fr"], is_active=r["is_active"])
                )
            self._create("categories", olds, new)
            parent_of = {r["id"]: r["parent_id"] for r in batch}
            for old in olds:
                parents[self.maps["categories"][old]] = parent_of[old]
        children = [Category(pk=pk, parent_id=self.ref("categories", old)) for pk, old in parents.items() if old]
        Category.objects.bulk_update(children, ["parent"], batch_size=CHUNK)

    def _tickets(self) -> None:
        tags: dict[str, int] = {}
        for batch in self.rows("tickets"):
            tickets = [self._ticket(r) for r in batch]
            self._create("tickets", [r["id"] for r in batch], tickets)
            names = {name for r in batch for name in r["tags"]} - set(tags)
            if names:
                Tag.objects.bulk_create([Tag(name=name) for name in sorted(names)], ignore_conflicts=True)
                tags.update(Tag.objects.filter(name__in=names).values_list("name", "pk"))
            Ticket.tags.through.objects.bulk_create(
                [
                    Ticket.tags.through(ticket_id=t.pk, tag_id=tags[name])
                    for t, r in zip(tickets, batch, strict=True)
                    for name in set(r["tags"])
                ]
            )
            Ticket.watchers.through.objects.bulk_create(
                [
                    Ticket.watchers.through(ticket_id=t.pk, user_id=self.maps["users"][old])
                    for t, r in zip(tickets, batch, strict=True)
                    for old in set(r["watcher_ids"])
                ]
            )
            SearchEntry.objects.bulk_create(
                [SearchEntry(ticket_id=t.pk, text=normalise(f"{t.subject}\n{t.description}")) for t in tickets]
            )

    def _ticket(self, r: dict[str, Any]) -> Ticket:
        times = {
            name: (_parse_time(r[name]) if r[name] else None)
            for name in ("created_at", "updated_at", "first_response_at", "resolved_at", "closed_at")
        }
        return Ticket(
            kind=r["kind"],
            number=r["number"],
            subject=r["subject"],
            description=r["description"],
            requester_id=self.need("users", r["requester_id"]),
            organisation_id=self.ref("organisations", r["organisation_id"]),
            category_id=self.ref("categories", r["category_id"]),
            impact=r["impact"],
            urgency=r["urgency"],
            priority=r["priority"],
            status=r["status"],
            group_id=self.ref("groups", r["group_id"]),
            assignee_id=self.ref("users", r["assignee_id"]),
            channel=r["channel"],
            created_by_id=self.ref("users", r["created_by_id"]),
            vendor_reference=r["vendor_reference"],
            resolved_level=r["resolved_level"],
            **times,
        )

    def _comments(self) -> None:
        for batch in self.rows("comments"):
            comments = [
                Comment(
                    ticket_id=self.need("tickets", r["ticket_id"]),
                    author_id=self.need("users", r["author_id"]),
                    body=r["body"],
                    is_internal=r["is_internal"],
                    channel=r["channel"],
                    created_at=_parse_time(r["created_at"]),
                )
                for r in batch
            ]
            self._create("comments", [r["id"] for r in batch], comments)
            SearchEntry.objects.bulk_create(
                [
                    SearchEntry(
                        ticket_id=c.ticket_id, comment_id=c.pk, is_internal=c.is_internal, text=normalise(c.body)
                    )
                    for c in comments
                ]
            )

    def _attachments(self) -> None:
        file_field = Attachment._meta.get_field("file")
        for batch in self.rows("attachments"):
            attachments = []
            for r in batch:
                attachment = Attachment(
                    ticket_id=self.need("tickets", r["ticket_id"]),
                    comment_id=self.ref("comments", r["comment_id"]),
                    filename=r["filename"],
                    content_type=r["content_type"],
                    size=r["size"],
                    sha256=r["sha256"],
                    is_internal=r["is_internal"],
                    uploaded_by_id=self.need("users", r["uploaded_by_id"]),
                    created_at=_parse_time(r["created_at"]),
                    **self._verdict(r["member"]),
                )
                name = file_field.generate_filename(attachment, r["member"].split("-", 1)[1])
                with (self.staged.folder / r["member"]).open("rb") as source:
                    stored = default_storage.save(name, File(source))
                self.saved.append(stored)
                attachment.file.name = stored
                attachments.append(attachment)
            self._create("attachments", [r["id"] for r in batch], attachments)
            self.files += len(attachments)

    def _verdict(self, member: str) -> dict[str, Any]:
        verdict = self.staged.verdicts.get(member)
        if verdict is None:
            return {"scan_status": Attachment.Scan.UNSCANNED}
        return {"scan_status": verdict.status, "scanned_at": self.now}

    def _payload(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """The event's payload with the ids it holds remapped (or nulled: rows an export lacks)."""
        names = PAYLOAD_IDS.get(kind)
        if not names:
            return data
        data = dict(data)
        for key, target in names.items():
            if key in data:
                old = data[key]
                data[key] = self.maps[target].get(old) if target and type(old) is int else None
        return data

    def _events(self) -> None:
        for batch in self.rows("events"):
            events = [
                TicketEvent(
                    ticket_id=self.need("tickets", r["ticket_id"]),
                    kind=r["kind"],
                    actor_id=self.ref("users", r["actor_id"]),
                    is_internal=r["is_internal"],
                    data=self._payload(r["kind"], r["data"]),
                    created_at=_parse_time(r["created_at"]),
                )
                for r in batch
            ]
            self._create("events", [r["id"] for r in batch], events)

    def _links(self) -> None:
        for batch in self.rows("links"):
            links = [
                TicketLink(
                    source_id=self.need("tickets", r["source_id"]),
                    target_id=self.need("tickets", r["target_id"]),
                    kind=r["kind"],
                    created_at=_parse_time(r["created_at"]),
                )
                for r in batch
            ]
            self._create("links", [r["id"] for r in batch], links)

    def _continue_numbering(self) -> None:
        """New tickets get numbers after the highest imported one, per kind."""
        for kind, last in Ticket.objects.values("kind").annotate(last=Max("number")).values_list("kind", "last"):
            if connection.vendor == "postgresql":  # never backwards: numbers once handed out stay used
                sequence = f"tickets_number_{kind}_seq"
                with connection.cursor() as cursor:
                    # the kind is one of Ticket.Kind (checked), not free text
                    cursor.execute(f"SELECT setval(%s, GREATEST(%s, last_value)) FROM {sequence}", [sequence, last])  # noqa: S608
            else:
                counter, _created = TicketCounter.objects.get_or_create(kind=kind, defaults={"last": 0})
                TicketCounter.objects.filter(kind=kind).update(last=max(counter.last, last))
