"""``palier backup [PATH]`` writes an archive of the desk; ``palier backup --verify PATH`` checks one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.backups import services


class Command(BaseCommand):
    help = (
        "Write one archive of the database, the attachments and knowledge-base files, and a manifest "
        "(default: $PALIER_DATA_DIR/backups/palier-<UTC time>.tar.gz), or check one with --verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="Where to write the archive (with --verify: the archive to check).")
        parser.add_argument("--verify", action="store_true", help="Check an archive against its manifest.")
        parser.add_argument(
            "--portable", action="store_true", help="Add data.jsonl, to restore into another database engine."
        )
        parser.add_argument(
            "--allow-missing", action="store_true", help="Succeed even when files the database refers to are missing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"]).expanduser().resolve() if options["path"] else None
        if options["verify"]:
            if path is None:
                raise CommandError("--verify needs the path of an archive.")
            self._verify(path)
            return
        if path is not None and path.exists():
            raise CommandError(f"{path} already exists.")
        try:
            result = services.create_backup(
                path=path, portable_data=options["portable"], allow_missing=options["allow_missing"]
            )
        except services.BackupError as exc:
            raise CommandError(str(exc)) from exc
        for name in result.missing:
            self.stderr.write(f"missing: {name}")
        self.stdout.write(f"{result.path} ({result.size} bytes, {result.files} files)")

    def _verify(self, path: Path) -> None:
        if not path.is_file():
            raise CommandError(f"{path} is not a file.")
        problems = services.verify_backup(path)
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(f"{path} is NOT a sound backup ({len(problems)} problem(s) above).")
        self.stdout.write(f"{path}: every member matches the manifest and the database opens.")
