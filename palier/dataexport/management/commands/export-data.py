"""``palier export-data PATH``: the whole desk, or one organisation, as JSON Lines plus files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.dataexport.services import ExportError, export_data, find_organisation


class Command(BaseCommand):
    help = (
        "Export every ticket with its comments, history and attachments, and the people, groups and "
        "categories they name, as one archive of JSON Lines files (docs/data-export.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="The archive to write (.tar.gz); refused if it exists.")
        parser.add_argument("--organisation", help="Only this organisation's tickets (its name or id).")
        parser.add_argument(
            "--no-internal",
            action="store_true",
            help="Leave out internal notes, internal history and internal attachments.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            organisation = find_organisation(options["organisation"]) if options["organisation"] else None
            result = export_data(Path(options["path"]), organisation=organisation, internal=not options["no_internal"])
        except ExportError as exc:
            raise CommandError(str(exc)) from exc
        counts = ", ".join(f"{count} {kind}" for kind, count in result.counts.items())
        self.stdout.write(f"Exported {counts}; {result.files} files; {result.size:,} bytes to {result.path}")
