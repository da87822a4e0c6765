"""Write an export: the whole desk, or one organisation's tickets and everything they name.

The archive is a gzip-compressed tar written under a temporary name and renamed when complete
(mode 0600: it holds every ticket of its scope):

    manifest.json            format, version, scope, time, rows per kind, SHA-256 of every member
    data/<kind>.jsonl        one JSON object per line, keys of ``schema.FIELDS``
    files/attachments/<id>-<name>  every attachment of the exported tickets

Rows are read in chunks and written to a temporary file kind by kind, so memory stays flat
whatever the size of the desk. Only rows created up to the export's start time are taken; on
PostgreSQL the reads share one REPEATABLE READ snapshot.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from palier.dataexport import assets as asset_rows
from palier.dataexport.schema import FIELDS, FORMAT, KINDS, VERSION
from palier.people.models import Department, Membership, Organisation, SupportGroup, User
from palier.tickets.models import Attachment, Category, Comment, Ticket, TicketEvent, TicketLink

CHUNK = 2000


class ExportError(Exception):
    """The export cannot be written (its scope does not exist, the destination is taken)."""


@dataclass
class _Scope:
    """What is exported, and the people and groups the written rows refer to."""

    organisation: Organisation | None
    as_of: datetime
    internal: bool = True  # internal notes, internal events and attachments included
    user_ids: set[int] = field(default_factory=set)
    group_ids: set[int] = field(default_factory=set)

    def name(self, *ids: int | None) -> None:
        self.user_ids.update(i for i in ids if i is not None)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    counts: dict[str, int]
    files: int
    size: int


def _line(row: dict[str, Any], kind: str) -> bytes:
    return (
        json.dumps({key: row[key] for key in FIELDS[kind]}, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"
    ).encode()


def _tickets(scope: _Scope) -> QuerySet[Ticket]:
    tickets = Ticket.objects.filter(created_at__lte=scope.as_of)
    if scope.organisation is not None:
        tickets = tickets.filter(organisation=scope.organisation)
    return tickets


def _of_tickets(model: type[Model], scope: _Scope, ticket_field: str = "ticket") -> QuerySet[Any]:
    rows = model._default_manager.filter(created_at__lte=scope.as_of)
    if not scope.internal:
        rows = rows.filter(is_internal=False)
    if scope.organisation is not None:
        rows = rows.filter(**{f"{ticket_field}__organisation": scope.organisation})
    return rows.order_by("id")


def _values(queryset: QuerySet[Any], *names: str) -> Iterator[dict[str, Any]]:
    yield from queryset.values(*names).iterator(chunk_size=CHUNK)


def organisations(scope: _Scope) -> Iterator[dict[str, Any]]:
    rows = Organisation.objects.order_by("id")
    if scope.organisation is not None:
        rows = rows.filter(pk=scope.organisation.pk)
    return _values(rows, *FIELDS["organisations"])


def departments(scope: _Scope) -> Iterator[dict[str, Any]]:
    rows = Department.objects.order_by("id")
    if scope.organisation is not None:
        rows = rows.filter(organisation=scope.organisation)
    return _values(rows, *FIELDS["departments"])


def categories(scope: _Scope) -> Iterator[dict[str, Any]]:
    return _values(Category.objects.order_by("id"), *FIELDS["categories"])


def tickets(scope: _Scope) -> Iterator[dict[str, Any]]:
    names = [name for name in FIELDS["tickets"] if name not in ("tags", "watcher_ids")]
    queryset = _tickets(scope).order_by("id").prefetch_related("tags", "watchers")
    for ticket in queryset.iterator(chunk_size=CHUNK):
        row = {name: getattr(ticket, name) for name in names}
        row["tags"] = sorted(tag.name for tag in ticket.tags.all())
        row["watcher_ids"] = sorted(user.pk for user in ticket.watchers.all())
        scope.name(ticket.requester_id, ticket.assignee_id, ticket.created_by_id, *row["watcher_ids"])
        if ticket.group_id is not None:
            scope.group_ids.add(ticket.group_id)
        yield row


def comments(scope: _Scope) -> Iterator[dict[str, Any]]:
    for row in _values(_of_tickets(Comment, scope), *FIELDS["comments"]):
        scope.name(row["author_id"])
        yield row


def events(scope: _Scope) -> Iterator[dict[str, Any]]:
    for row in _values(_of_tickets(TicketEvent, scope), *FIELDS["events"]):
        scope.name(row["actor_id"])
        yield row


def attachments(scope: _Scope) -> Iterator[dict[str, Any]]:
    names = [name for name in FIELDS["attachments"] if name != "member"]
    for row in _values(_of_tickets(Attachment, scope), *names, "file"):
        scope.name(row["uploaded_by_id"])
        row["member"] = attachment_member(row["id"], row["filename"])
        yield row


def links(scope: _Scope) -> Iterator[dict[str, Any]]:
    rows = TicketLink.objects.filter(created_at__lte=scope.as_of).order_by("id")
    if scope.organisation is not None:  # both ends in the organisation: nothing of another leaks
        rows = rows.filter(source__organisation=scope.organisation, target__organisation=scope.organisation)
    return _values(rows, *FIELDS["links"])


def groups(scope: _Scope) -> Iterator[dict[str, Any]]:
    rows = SupportGroup.objects.order_by("id")
    if scope.organisation is not None:
        rows = rows.filter(pk__in=sorted(scope.group_ids))
    return _values(rows, *FIELDS["groups"])


def users(scope: _Scope) -> Iterator[dict[str, Any]]:
    rows = User.objects.order_by("id")
    if scope.organisation is not None:
        ids = sorted(scope.user_ids)
        rows = rows.filter(Q(organisation=scope.organisation) | Q(pk__in=ids))
    return _values(rows, *FIELDS["users"])


def memberships(scope: _Scope) -> Iterator[dict[str, Any]]:
    rows = Membership.objects.order_by("id")
    if scope.organisation is not None:  # the exported groups' exported people
        rows = rows.filter(group_id__in=sorted(scope.group_ids)).filter(
            Q(user__organisation=scope.organisation) | Q(user_id__in=sorted(scope.user_ids))
        )
    return _values(rows, *FIELDS["memberships"])


READERS = {
    "organisations": organisations,
    "departments": departments,
    "categories": categories,
    "tickets": tickets,
    "comments": comments,
    "events": events,
    "attachments": attachments,
    "links": links,
    "groups": groups,
    "users": users,
    "memberships": memberships,
    **asset_rows.READERS,
}


def attachment_member(attachment_id: int, filename: str) -> str:
    """The archive member of an attachment: its id keeps names unique, the name is the sanitised
    original one Palier stored."""
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in filename)[:150] or "file"
    return f"files/attachments/{attachment_id}-{safe}"


def find_organisation(name_or_id: str) -> Organisation:
    query = Q(name=name_or_id) | (Q(pk=int(name_or_id)) if name_or_id.isdigit() else Q())
    found = list(Organisation.objects.filter(query)[:2])
    if len(found) != 1:
        raise ExportError(f"No organisation named {name_or_id!r}.")
    return found[0]


@contextlib.contextmanager
def _snapshot() -> Iterator[None]:
    """PostgreSQL: one REPEATABLE READ, read-only snapshot for every read. SQLite: no transaction
    (it would take the write lock for the whole export); the time cut-off keeps rows written
    meanwhile out. Inside a caller's transaction (a test's) the isolation level cannot change any
    more: the reads share that transaction, with the same cut-off."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


class _Hashing:
    """A file object that hashes and counts what goes through it."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.target.write(data)


def export_data(destination: Path, *, organisation: Organisation | None = None, internal: bool = True) -> ExportResult:
    """Write the archive at ``destination`` (refused when it exists); ``internal=False`` leaves out
    internal notes, internal history events and internal attachments."""
    destination = Path(destination)
    if destination.exists():
        raise ExportError(f"{destination} already exists.")
    if not destination.parent.is_dir():
        raise ExportError(f"{destination.parent} is not a folder.")
    scope = _Scope(organisation=organisation, as_of=timezone.now(), internal=internal)
    partial = destination.with_name(f".{destination.name}.partial")
    members: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    files = 0
    with tempfile.TemporaryDirectory(prefix="palier-export-") as staging, _snapshot():
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                for kind in KINDS:
                    counts[kind] = _write_kind(archive, Path(staging), kind, READERS[kind](scope), members)
                files = _write_files(archive, scope, members)
                _write_manifest(archive, scope, counts, members)
            os.replace(partial, destination)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return ExportResult(path=destination, counts=counts, files=files, size=destination.stat().st_size)


def _write_kind(
    archive: tarfile.TarFile, staging: Path, kind: str, rows: Iterable[dict[str, Any]], members: dict[str, Any]
) -> int:
    path = staging / f"{kind}.jsonl"
    count = 0
    with path.open("wb") as out:
        hashing = _Hashing(out)
        for row in rows:
            hashing.write(_line(row, kind))
            count += 1
    name = f"data/{kind}.jsonl"
    archive.add(path, arcname=name, recursive=False, filter=_plain)
    members[name] = {"sha256": hashing.digest.hexdigest(), "size": hashing.size}
    path.unlink()
    return count


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


def _write_files(archive: tarfile.TarFile, scope: _Scope, members: dict[str, Any]) -> int:
    """Every attachment's bytes, streamed from the storage into the archive."""
    written = 0
    for row in _values(_of_tickets(Attachment, scope), "id", "filename", "file", "created_at"):
        name = attachment_member(row["id"], row["filename"])
        with default_storage.open(row["file"], "rb") as source:
            info = _plain(tarfile.TarInfo(name))
            info.size = default_storage.size(row["file"])
            info.mtime = int(row["created_at"].timestamp())
            digest = hashlib.sha256()
            archive.addfile(info, _Tee(source, digest))
        members[name] = {"sha256": digest.hexdigest(), "size": info.size}
        written += 1
    return written


class _Tee:
    """Reads from ``source`` while hashing what was read (tarfile reads exactly ``size`` bytes)."""

    def __init__(self, source: IO[bytes], digest: Any) -> None:
        self.source = source
        self.digest = digest

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


def _write_manifest(archive: tarfile.TarFile, scope: _Scope, counts: dict[str, int], members: dict[str, Any]) -> None:
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": scope.as_of,
        "scope": (
            {"organisation": {"id": scope.organisation.pk, "name": scope.organisation.name}}
            if scope.organisation is not None
            else "desk"
        ),
        "internal": scope.internal,
        "counts": counts,
        "members": members,
    }
    data = json.dumps(manifest, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()
    info = _plain(tarfile.TarInfo("manifest.json"))
    info.size = len(data)
    info.mtime = int(scope.as_of.timestamp())
    archive.addfile(info, io.BytesIO(data))
