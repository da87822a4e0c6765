"""``palier restore PATH`` puts an archive of ``palier backup`` back, into an empty instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.backups import restoring, services


class Command(BaseCommand):
    help = (
        "Restore an archive of `palier backup` into this (empty) Palier: its database and its files. "
        "Stop the web processes and workers first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The archive to restore.")
        parser.add_argument(
            "--force", action="store_true", help="Replace the database even though it holds tickets or users."
        )
        parser.add_argument(
            "--portable",
            action="store_true",
            help="Load the archive's data.jsonl into the configured database (SQLite <-> PostgreSQL).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"]).expanduser().resolve()
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        try:
            result = restoring.restore_backup(path, force=options["force"], use_portable=options["portable"])
        except services.BackupError as exc:
            raise CommandError(str(exc)) from exc
        how = "portable data" if result.portable else "database"
        self.stdout.write(f"Restored {path}: {how} into {result.engine}, {result.files} files.")
