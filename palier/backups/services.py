"""Backups: write, verify and restore an archive of the desk (docs/operations.md, "Backups and
restore"), and the scheduled backup with its retention."""

from __future__ import annotations

import logging
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.db import DatabaseError
from django.utils import timezone

from palier.backups import archive, snapshot
from palier.backups.models import BackupRecord

log = logging.getLogger(__name__)

NAME_FORMAT = "palier-%Y%m%dT%H%M%SZ.tar.gz"
# the scheduled job runs hourly and backs up when the last scheduled backup is older than this, so a
# restarted scheduler (which runs its jobs at start) does not add a backup each time
SCHEDULED_EVERY = timedelta(hours=23, minutes=30)


class BackupError(Exception):
    """A backup, a verification or a restore failed; the message says why."""


@dataclass
class BackupResult:
    path: Path
    size: int
    files: int
    missing: list[str] = field(default_factory=list)


def default_path(now: datetime | None = None) -> Path:
    return Path(settings.DATA_DIR) / "backups" / (now or timezone.now()).astimezone(UTC).strftime(NAME_FORMAT)


def create_backup(
    *, path: Path | None = None, portable_data: bool = False, allow_missing: bool = False, kind: str = "manual"
) -> BackupResult:
    """Write one archive of the database and the files its rows refer to. Files referred to but
    absent are listed in the manifest as missing; the archive is still written, but the backup only
    counts as successful (recorded, no error) when nothing is missing or ``allow_missing``."""
    path = path or default_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(prefix="palier-backup-") as work:
        data = Path(work) / archive.PORTABLE if portable_data else None
        try:
            snap = snapshot.take(Path(work), portable_path=data)
        except (snapshot.SnapshotError, DatabaseError) as exc:
            raise BackupError(str(exc)) from exc
        try:
            writer = archive.Writer(path)
        except FileExistsError as exc:
            raise BackupError(
                f"{path} is being written by another backup (or a crashed one left {exc.filename})"
            ) from exc
        try:
            writer.add_path(snap.member, snap.path)
            if data is not None:
                writer.add_path(archive.PORTABLE, data)
            missing = _add_files(writer, snap.files)
            size = writer.finish(_manifest(snap, missing))
        except BaseException:
            writer.abort()
            raise
    result = BackupResult(path=path, size=size, files=len(snap.files) - len(missing), missing=missing)
    if missing and not allow_missing:
        raise BackupError(
            f"{len(missing)} file(s) the database refers to are missing (listed in the manifest of {path}): "
            + ", ".join(missing[:5])
        )
    BackupRecord.objects.create(finished_at=timezone.now(), kind=kind, path=str(path), size=size, files=result.files)
    return result


def _add_files(writer: archive.Writer, names: list[str]) -> list[str]:
    """Add each file; those that cannot be opened are returned as missing. A file that changes
    while it is read stops the backup (the archive would not match the database)."""
    missing = []
    for name in names:
        if archive.safe_name(f"media/{name}") is None:
            missing.append(name)
            continue
        try:
            source = default_storage.open(name, "rb")
        except (FileNotFoundError, SuspiciousFileOperation):
            missing.append(name)
            continue
        with source:
            try:
                writer.add(f"media/{name}", source, default_storage.size(name))
            except archive.ArchiveError as exc:
                raise BackupError(str(exc)) from exc
    return missing


def _version() -> str:
    try:
        return metadata.version("palier")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


def _manifest(snap: snapshot.Snapshot, missing: list[str]) -> dict[str, Any]:
    return {
        "format": archive.FORMAT,
        "palier_version": _version(),
        "created_at": timezone.now().astimezone(UTC).isoformat(),
        "database": {"engine": snap.engine, "member": snap.member},
        "portable": snap.portable_rows is not None,
        "portable_rows": snap.portable_rows,
        "migrations": snap.migrations,
        "row_counts": snap.row_counts,
        "files": len(snap.files) - len(missing),
        "missing": missing,
    }


# --- verify ---------------------------------------------------------------------------------------


def verify_backup(path: Path) -> list[str]:
    """Every difference between the archive and its manifest, and whether its database opens;
    an empty list when the archive is sound."""
    with tempfile.TemporaryDirectory(prefix="palier-verify-") as work:
        found = archive.read(path, extract_to=Path(work), keep=lambda name: name.startswith("database/"))
        problems = list(found.problems)
        if found.manifest is not None and not problems:
            problems += check_database(Path(work), found.manifest)
    return problems


def check_database(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Whether the database member extracted under ``folder`` opens (empty list) or what is wrong."""
    database = manifest.get("database") or {}
    member = folder / str(database.get("member", ""))
    if not member.is_file():
        return ["the archive holds no database"]
    if database.get("engine") == "sqlite":
        try:
            copy = sqlite3.connect(f"file:{member}?mode=ro", uri=True)
            try:
                result = [row[0] for row in copy.execute("PRAGMA integrity_check")]
            finally:
                copy.close()
        except sqlite3.DatabaseError as exc:
            return [f"the SQLite database does not open: {exc}"]
        return [] if result == ["ok"] else [f"the SQLite database is damaged: {'; '.join(result[:5])}"]
    tool = shutil.which("pg_restore")
    if tool is None:
        return ["pg_restore is not installed: the PostgreSQL dump cannot be checked"]
    done = subprocess.run([tool, "--list", str(member)], capture_output=True, text=True, errors="replace")  # noqa: S603
    return [] if done.returncode == 0 else [f"the PostgreSQL database dump does not open: {done.stderr.strip()}"]


# --- scheduled backups and retention -------------------------------------------------------------


def scheduled_backup(*, now: datetime | None = None) -> BackupResult | None:
    """The periodic job: one backup into ``PALIER_BACKUP_DIR`` then the retention; nothing when that
    setting is empty or the last scheduled backup is recent."""
    folder = str(settings.PALIER_BACKUP_DIR or "").strip()
    now = now or timezone.now()
    recent = BackupRecord.objects.filter(kind=BackupRecord.Kind.SCHEDULED, finished_at__gt=now - SCHEDULED_EVERY)
    if not folder or recent.exists():
        return None
    # a file gone from the disk cannot come back by retrying: the archive lists it and still counts
    result = create_backup(
        path=Path(folder) / default_path(now).name, allow_missing=True, kind=BackupRecord.Kind.SCHEDULED
    )
    if result.missing:
        log.warning(
            "scheduled backup %s: %d referenced file(s) missing: %s",
            result.path,
            len(result.missing),
            ", ".join(result.missing[:10]),
        )
    prune_backups(
        Path(folder), keep_daily=settings.PALIER_BACKUP_KEEP_DAILY, keep_weekly=settings.PALIER_BACKUP_KEEP_WEEKLY
    )
    return result


def _stamp(path: Path) -> datetime | None:
    try:
        return datetime.strptime(path.name, NAME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def backups_to_prune(names: list[Path], *, keep_daily: int, keep_weekly: int) -> list[Path]:
    """The archives past the retention: the newest of each of the last ``keep_daily`` days and of
    each of the last ``keep_weekly`` ISO weeks stay. Only files named like Palier's archives count."""
    dated = sorted(((stamp, path) for path in names if (stamp := _stamp(path))), reverse=True)
    keep: set[Path] = set()
    days: set[object] = set()
    weeks: set[object] = set()
    for stamp, path in dated:
        day, week = stamp.date(), stamp.isocalendar()[:2]
        if day not in days and len(days) < keep_daily:
            days.add(day)
            keep.add(path)
        if week not in weeks and len(weeks) < keep_weekly:
            weeks.add(week)
            keep.add(path)
    return [path for _stamp_, path in dated if path not in keep]


def prune_backups(folder: Path, *, keep_daily: int, keep_weekly: int) -> list[Path]:
    gone = backups_to_prune(list(folder.iterdir()), keep_daily=keep_daily, keep_weekly=keep_weekly)
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def last_backup() -> BackupRecord | None:
    return BackupRecord.objects.order_by("-finished_at").first()
