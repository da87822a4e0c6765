"""The backup archive: a gzip-compressed tar written in one pass, its ``manifest.json`` last.

Members::

    database/palier.sqlite3   SQLite: the online-backup copy (journal mode DELETE, one file)
    database/palier.pgdump    PostgreSQL: ``pg_dump --format=custom``
    data.jsonl                with --portable: every row of every model, one JSON object a line
    media/<storage name>      every attachment and knowledge-base file the database refers to
    manifest.json             Palier version, migrations, row counts, SHA-256 and size of each member

The archive is written to a temporary name next to its destination (mode 0600) and renamed into
place once complete, so a half-written archive never carries the final name. Reading checks every
member's name (no absolute path, no ``..``, only the folders above), so nothing outside the
restore's own folder is ever written.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

MANIFEST = "manifest.json"
PORTABLE = "data.jsonl"
FORMAT = 1
_TOP = frozenset({"database", "media"})
_MAX_MANIFEST = 256 * 1024 * 1024
_CHUNK = 1 << 20


class ArchiveError(Exception):
    """The archive cannot be written or read; the message says why."""


def safe_name(name: str) -> str | None:
    """The member name if it may be read or written, else None."""
    path = PurePosixPath(name)
    if name in (MANIFEST, PORTABLE):
        return name
    if path.is_absolute() or len(path.parts) < 2 or path.parts[0] not in _TOP:
        return None
    if any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in path.parts):
        return None
    return str(path)


class _Hashing:
    """A reader that hashes and counts what goes through it."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source, self.digest, self.size = source, hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        data = self.source.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data


class Writer:
    """Write an archive member by member; ``finish()`` adds the manifest and renames it into place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.name}.partial")
        fd = os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._tar = tarfile.open(fileobj=self._file, mode="w:gz", compresslevel=6)  # noqa: SIM115
        self.members: dict[str, dict[str, Any]] = {}

    def add(self, name: str, source: IO[bytes], size: int) -> None:
        if safe_name(name) is None or name == MANIFEST or name in self.members:
            raise ArchiveError(f"invalid member name {name!r}")
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = size, int(time.time()), 0o600
        reader = _Hashing(source)
        try:
            self._tar.addfile(info, reader)
        except OSError as exc:  # the file shrank while it was read
            raise ArchiveError(f"{name}: {exc}") from exc
        if source.read(1):  # the file grew while it was read
            raise ArchiveError(f"{name}: changed while it was read")
        self.members[name] = {"sha256": reader.digest.hexdigest(), "size": reader.size}

    def add_path(self, name: str, path: Path) -> None:
        with path.open("rb") as source:
            self.add(name, source, path.stat().st_size)

    def finish(self, manifest: dict[str, Any]) -> int:
        """Add the manifest (with the members' hashes), flush to disk, rename; returns the size."""
        body = json.dumps({**manifest, "members": self.members}, indent=1, sort_keys=True).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(body), int(time.time()), 0o600

        self._tar.addfile(info, io.BytesIO(body))
        self._tar.close()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self.partial, self.path)
        return self.path.stat().st_size

    def abort(self) -> None:
        for closing in (self._tar.close, self._file.close):
            with contextlib.suppress(OSError, ValueError, tarfile.TarError):
                closing()
        self.partial.unlink(missing_ok=True)


@dataclass
class Contents:
    """What one reading pass found: the manifest, each member's hash and size, the problems."""

    manifest: dict[str, Any] | None = None
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def read(path: Path, *, extract_to: Path | None = None, keep: Callable[[str], bool] = lambda name: False) -> Contents:
    """Read the archive once: hash every member, extract those ``keep`` accepts under
    ``extract_to``, and compare everything with the manifest."""
    found = Contents()
    try:
        with tarfile.open(path, mode="r|*") as tar:
            for member in tar:
                _read_member(tar, member, found, extract_to, keep)
    except (OSError, tarfile.TarError, EOFError) as exc:
        found.problems.append(f"the archive cannot be read: {exc}")
        return found
    _compare(found)
    return found


def _read_member(
    tar: tarfile.TarFile, member: tarfile.TarInfo, found: Contents, extract_to: Path | None, keep: Callable[[str], bool]
) -> None:
    name = safe_name(member.name)
    if name is None or not member.isfile():
        found.problems.append(f"unexpected member {member.name!r}")
        return
    if name in found.seen or (name == MANIFEST and found.manifest is not None):
        found.problems.append(f"member {name} appears twice")
        return
    source = tar.extractfile(member)
    assert source is not None  # a regular file
    if name == MANIFEST:
        if member.size > _MAX_MANIFEST:
            found.problems.append("the manifest is too large")
            return
        try:
            found.manifest = json.loads(source.read())
        except ValueError as exc:
            found.problems.append(f"the manifest is not valid JSON: {exc}")
        return
    reader = _Hashing(source)
    if extract_to is not None and keep(name):
        target = extract_to / name
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while chunk := reader.read(_CHUNK):
                out.write(chunk)
    else:
        while reader.read(_CHUNK):
            pass
    found.seen[name] = {"sha256": reader.digest.hexdigest(), "size": reader.size}


def _compare(found: Contents) -> None:
    manifest = found.manifest
    if manifest is None:
        found.problems.append("the archive has no manifest.json")
        return
    if manifest.get("format") != FORMAT:
        found.problems.append(f"unknown archive format {manifest.get('format')!r}")
    listed = manifest.get("members") or {}
    for name in sorted(set(listed) | set(found.seen)):
        want, got = listed.get(name), found.seen.get(name)
        if want is None:
            found.problems.append(f"{name}: in the archive but not in the manifest")
        elif got is None:
            found.problems.append(f"{name}: in the manifest but not in the archive")
        elif want.get("sha256") != got["sha256"] or want.get("size") != got["size"]:
            found.problems.append(f"{name}: content differs from the manifest (SHA-256 or size)")
