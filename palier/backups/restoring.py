"""Restore an archive into an empty instance (docs/operations.md, "Backups and restore").

The archive is read and checked whole into a staging folder before anything is touched. Then the
files are put in place (each written beside its destination and renamed; in an S3 bucket, one
object written whole each), then the database:

- SQLite: the staged copy is renamed over the database file (after a checkpoint empties the old
  write-ahead log, which is then removed with the file it belonged to);
- PostgreSQL: ``pg_restore --clean --if-exists --no-owner`` in one transaction;
- ``--portable``: the rows of ``data.jsonl`` replace those of whatever database is configured.

Nothing else is deleted: files of the media storage (folder or bucket) that the archive does not
hold stay.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import call_command
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from palier.backups import archive, portable, snapshot
from palier.backups.services import BackupError, check_database


@dataclass
class RestoreResult:
    engine: str
    files: int
    portable: bool


def instance_is_empty() -> bool:
    """No ticket and no user (the migrations create none): nothing a restore could overwrite."""
    connection = connections["default"]
    if connection.vendor == "sqlite" and not Path(connection.settings_dict["NAME"]).exists():
        return True
    tables = [get_user_model(), apps.get_model("tickets", "Ticket")]
    try:
        with connection.cursor() as cursor:
            present = set(connection.introspection.table_names(cursor))
            for model in tables:
                if model._meta.db_table in present and model._base_manager.exists():
                    return False
    except DatabaseError as exc:
        raise BackupError(f"The configured database cannot be read: {exc}") from exc
    finally:
        connection.close()
    return True


def restore_backup(path: Path, *, force: bool = False, use_portable: bool = False) -> RestoreResult:
    if not force and not instance_is_empty():
        raise BackupError("This Palier already holds tickets or users: restore refuses to overwrite them (--force).")
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=settings.DATA_DIR))
    try:
        found = archive.read(path, extract_to=staging, keep=lambda name: True)
        if found.problems or found.manifest is None:
            raise BackupError("The archive does not match its manifest: " + "; ".join(found.problems[:10]))
        manifest = found.manifest
        engine = connections["default"].vendor
        _check_engine(manifest, engine, use_portable)
        if not use_portable and (problems := check_database(staging, manifest)):
            raise BackupError("; ".join(problems))
        files = _restore_files(staging, manifest)
        if use_portable:
            _restore_portable(staging / archive.PORTABLE, manifest)
        elif engine == "sqlite":
            _restore_sqlite(staging / manifest["database"]["member"])
        else:
            _restore_postgres(staging / manifest["database"]["member"])
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return RestoreResult(engine=engine, files=files, portable=use_portable)


def _check_engine(manifest: dict[str, Any], engine: str, use_portable: bool) -> None:
    source = (manifest.get("database") or {}).get("engine")
    if use_portable and not manifest.get("portable"):
        raise BackupError("This archive has no portable data: make it with `palier backup --portable`.")
    if not use_portable and source != engine:
        raise BackupError(
            f"This archive holds a {source} database and Palier is configured for {engine}: "
            "restore a `palier backup --portable` archive with `palier restore --portable`."
        )


def _restore_files(staging: Path, manifest: dict[str, Any]) -> int:
    """Put each file of the archive in the media storage under its own name; a file already there
    with the same content is left alone. Local folder: written beside and renamed. Other storages
    (S3): written through the storage, one object each (a PUT replaces an object whole)."""
    storage = default_storage
    members = [(name, facts) for name, facts in sorted(manifest["members"].items()) if name.startswith("media/")]
    if isinstance(storage, FileSystemStorage):
        root = Path(storage.location)
        for name, facts in members:
            _restore_local(staging / name, root / name.removeprefix("media/"), name, facts["sha256"])
        return len(members)
    for name, facts in members:
        key = name.removeprefix("media/")
        if storage.exists(key):
            with storage.open(key, "rb") as present:
                if _sha256_stream(present) == facts["sha256"]:
                    continue
            storage.delete(key)  # replaced below: the archive's copy is the one its rows refer to
        with (staging / name).open("rb") as source:
            saved = storage.save(key, File(source, name=key))
        if saved != key:
            raise BackupError(f"{name}: the storage kept it as {saved} (another file took its name meanwhile)")
        if storage.size(key) != facts["size"]:
            raise BackupError(f"{name}: the stored copy does not have the manifest's size")
    return len(members)


def _restore_local(staged: Path, target: Path, name: str, sha256: str) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file() and _sha256(target) == sha256:
        return
    partial = target.with_name(f".{target.name}.restoring")
    shutil.copyfile(staged, partial)
    if _sha256(partial) != sha256:
        partial.unlink()
        raise BackupError(f"{name}: the restored copy does not match the manifest")
    os.replace(partial, target)


def _sha256_stream(source: Any) -> str:
    digest = hashlib.sha256()
    while chunk := source.read(1 << 20):
        digest.update(chunk)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    with path.open("rb") as source:
        return _sha256_stream(source)


def _restore_sqlite(staged: Path) -> None:
    import sqlite3

    connection = connections["default"]
    target = Path(connection.settings_dict["NAME"])
    connections.close_all()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.restoring")
    shutil.move(staged, partial)  # a rename when the staging folder is on the same disk
    os.chmod(partial, 0o600)
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    if target.exists():  # fold the old write-ahead log into the old file, which is then replaced
        old = sqlite3.connect(target)
        try:
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            old.close()
    os.replace(partial, target)
    for suffix in ("-wal", "-shm"):  # the old database's log and index, not the restored one's
        Path(f"{target}{suffix}").unlink(missing_ok=True)


def _restore_postgres(staged: Path) -> None:
    connection = connections["default"]
    connection.ensure_connection()
    tool = snapshot.postgres_tool("pg_restore", connection.pg_version)  # type: ignore[attr-defined]
    env = snapshot.postgres_env(connection.settings_dict)
    connections.close_all()
    command = [tool, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"]
    done = subprocess.run(  # noqa: S603 (our own arguments)
        [*command, f"--dbname={env.get('PGDATABASE', '')}", str(staged)],
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def _restore_portable(data: Path, manifest: dict[str, Any]) -> None:
    connection = connections["default"]
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
            applied = [[app, name] for app, name in cursor.fetchall()]
    except DatabaseError as exc:
        raise BackupError(f"The database cannot be read: {exc}") from exc
    if applied != manifest.get("migrations"):
        raise BackupError(
            "The archive was made by a Palier with other migrations than this one: restore it with the same "
            "version of Palier, then upgrade."
        )
    portable.load(data)
