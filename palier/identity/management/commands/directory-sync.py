"""``palier directory-sync [--dry-run] [--provider SLUG]``: sync people from the LDAP / Active
Directory providers now (the ``directory-sync`` periodic job does it every hour)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.identity import directory
from palier.identity.models import DirectorySyncRun, Provider


class Command(BaseCommand):
    help = "Create, update and deactivate people from the enabled directories (LDAP / Active Directory)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="List what would change; change nothing.")
        parser.add_argument("--provider", metavar="SLUG", help="Only this directory (default: every enabled one).")

    def handle(self, *args: Any, **options: Any) -> None:
        providers = Provider.objects.filter(kind=Provider.Kind.LDAP).order_by("position", "pk")
        if options["provider"]:
            providers = providers.filter(slug=options["provider"])
            if not providers.exists():
                raise CommandError(f"No directory with the identifier {options['provider']!r}.")
        else:
            providers = providers.filter(enabled=True)
        failed = False
        for provider in providers:
            run = directory.sync(provider, dry_run=options["dry_run"])
            self._report(provider, run)
            failed = failed or run.status != DirectorySyncRun.Status.OK
        if failed:
            raise CommandError("At least one directory was not synced: nothing was changed there.")

    def _report(self, provider: Provider, run: DirectorySyncRun) -> None:
        mode = " (dry run: nothing changed)" if run.dry_run else ""
        self.stdout.write(
            f"{provider.slug}: {run.status}{mode}; {run.found} found, {run.created} created, {run.linked} linked, "
            f"{run.updated} updated, {run.deactivated} deactivated, {run.skipped} skipped"
        )
        if run.error:
            self.stdout.write(f"  {run.error}")
        for line in run.changes:
            self.stdout.write(f"  {line['action']:<10} {line['email']}  {line['detail']}")
