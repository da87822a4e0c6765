"""``palier teams-package ADDRESS PATH``: the Teams app package of a Teams bot (docs/teams.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.integrations.models import ChatApp
from palier.teamsbot import package


class Command(BaseCommand):
    help = (
        "Write the Microsoft Teams app package (manifest in English and French, icons, zipped) of the "
        "Teams app at ADDRESS, to upload in Teams (docs/teams.md)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("address", help="The Teams app's address (its slug, as in /hooks/teams/<address>/).")
        parser.add_argument("path", help="The .zip to write; refused if it exists.")
        parser.add_argument("--app-version", default="1.0.0", help="The app version (raise it for each new upload).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if path.exists():
            raise CommandError(f"{path} exists; choose another path.")
        app = ChatApp.objects.filter(kind=ChatApp.Kind.TEAMS, slug=options["address"]).first()
        if app is None:
            raise CommandError(f"No Teams app has the address {options['address']!r}.")
        try:
            data = package.build(app, version=options["app_version"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        path.write_bytes(data)
        self.stdout.write(f"Wrote {path} ({len(data):,} bytes) for bot {app.bot_app_id}.")
