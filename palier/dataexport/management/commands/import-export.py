"""``palier import-export PATH``: load a data export into a fresh desk (docs/data-export.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.dataexport.importing import ImportRefused, check_export, import_export


class Command(BaseCommand):
    help = (
        "Load an archive written by `palier export-data` into a desk that has no tickets yet: every "
        "member and line is checked first, then everything is written in one transaction "
        '(docs/data-export.md, "Loading an export").'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The archive (.tar.gz) written by `palier export-data`.")
        parser.add_argument(
            "--check", action="store_true", help="Only check the archive as the import would; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            try:
                counts = check_export(Path(options["path"]))
            except ImportRefused as exc:
                raise CommandError(f"The archive would be refused: {exc}") from exc
            rows = ", ".join(f"{count} {kind}" for kind, count in counts.items())
            self.stdout.write(f"The archive can be imported: {rows}.")
            return
        try:
            result = import_export(Path(options["path"]))
        except ImportRefused as exc:
            raise CommandError(f"Nothing was imported: {exc}") from exc
        created = ", ".join(f"{count} {kind}" for kind, count in result.counts.items() if count)
        linked = ", ".join(f"{count} {kind}" for kind, count in result.linked.items() if count)
        self.stdout.write(f"Imported {created or 'nothing'}; {result.files} files.")
        if linked:
            self.stdout.write(f"Matched to rows already on this desk: {linked}.")
        self.stdout.write(
            "Imported people have no password: they choose one with “Forgot your password?”. "
            "Imported open tickets have no SLA clocks."
        )
