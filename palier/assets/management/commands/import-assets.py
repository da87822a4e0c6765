"""``palier import-assets FILE``: import assets, locations or licences from CSV or XLSX
(docs/assets.md, "Import and export")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.assets.importing import KINDS, MAX_BYTES, MODES, ImportRefused, run_import


class Command(BaseCommand):
    help = (
        "Import assets, locations or licences from a CSV or XLSX file. Rows name assets by tag (then "
        "serial number): existing ones are updated, new ones created. By default all or nothing: one "
        "error and nothing is written."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A .csv (comma, semicolon or tab; UTF-8 or Windows-1252) or .xlsx file.")
        parser.add_argument("--kind", choices=KINDS, default="assets", help="What the file holds (default: assets).")
        parser.add_argument(
            "--mode",
            choices=MODES,
            default="all-or-nothing",
            help="all-or-nothing (default): any error and nothing is written; per-row: write the good rows.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check every row as the import would; write nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            if path.stat().st_size > MAX_BYTES:
                raise CommandError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB.")
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        try:
            report = run_import(data, kind=options["kind"], mode=options["mode"], dry_run=options["dry_run"])
        except ImportRefused as exc:
            raise CommandError(f"Nothing was imported: {exc}") from exc
        for row in report.errors:
            self.stderr.write(f"line {row.line} ({row.key or '-'}): " + " ".join(row.errors))
        counts = ", ".join(
            f"{report.count(action)} {action}" for action in ("created", "updated", "unchanged", "error")
        )
        if report.dry_run:
            self.stdout.write(f"Dry run, nothing written: {counts}.")
        elif report.written:
            self.stdout.write(f"Imported: {counts}.")
        else:
            raise CommandError(f"Nothing was imported ({counts}): fix the lines above, or use --mode per-row.")
