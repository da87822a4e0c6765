"""``palier identity load-config [--file PATH] [--dry-run]``: the sign-in providers of the
configuration file (``PALIER_IDENTITY_CONFIG``) into the database (docs/identity.md,
"Configuration file"). ``palier up`` runs it before starting the server when the variable is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.identity import config


class Command(BaseCommand):
    help = "Sign-in providers: load-config reads the PALIER_IDENTITY_CONFIG file into the database."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load-config", help="Load the providers of the configuration file.")
        load.add_argument("--file", help="The TOML file (default: PALIER_IDENTITY_CONFIG).")
        load.add_argument("--dry-run", action="store_true", help="Say what would change, change nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options.get("file") or settings.PALIER_IDENTITY_CONFIG
        if not name:
            raise CommandError("No file: set PALIER_IDENTITY_CONFIG or pass --file.")
        try:
            loaded = config.load(Path(name), dry_run=options["dry_run"])
        except config.ConfigError as exc:
            raise CommandError(f"{name} was not loaded, nothing changed:\n  " + "\n  ".join(exc.errors)) from exc
        prefix = "would be " if options["dry_run"] else ""
        for label, slugs in (
            ("created", loaded.created),
            ("updated", loaded.updated),
            ("unchanged", loaded.unchanged),
            ("switched off (no longer in the file)", loaded.switched_off),
        ):
            if slugs:
                self.stdout.write(f"{prefix if label != 'unchanged' else ''}{label}: {', '.join(slugs)}")
