"""``palier demo --tickets N [--seed S]``: load the demo data set (see ``palier.demo.tickets``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from palier.demo.tickets import DEMO_LOGINS, DEMO_PASSWORD, run_demo
from palier.system.demo_accounts import demo_accounts_exposed, lock_demo_accounts


class Command(BaseCommand):
    help = (
        "Create demo organisations, support groups, about 50 agents, 2,000 requesters and N tickets "
        "with conversations. Run again, it adds tickets only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tickets", type=int, default=500, help="how many tickets to add (default 500)")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for a reproducible data set")
        parser.add_argument("--batch", type=int, default=2_000, help="tickets per transaction (default 2000)")
        parser.add_argument(
            "--logins", action="store_true", help="only print the demo logins, if the demo people exist"
        )
        parser.add_argument(
            "--lock",
            action="store_true",
            help="give every account that has the demo's published password an unusable password",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["logins"]:
            self._logins()
            return
        if options["lock"]:
            locked = lock_demo_accounts()
            self.stdout.write(f"{locked:,} accounts had the demo password; none can sign in with it now.")
            return
        tickets, batch = options["tickets"], options["batch"]
        if tickets < 0 or batch < 1:
            raise CommandError("--tickets must be 0 or more and --batch 1 or more.")
        verbose = options["verbosity"] >= 1

        def progress(done: int, total: int) -> None:
            if verbose and (done == total or done % (batch * 10) == 0):
                self.stdout.write(f"  {done:,}/{total:,} tickets")

        result = run_demo(tickets=tickets, seed=options["seed"], batch=batch, progress=progress)
        # the other domains' demo setup: routing and escalation once, SLA clocks for every ticket
        from palier.demo import routing as routing_demo
        from palier.people.models import User
        from palier.sla.services import settle_clocks_for_ended_tickets, start_clocks_for_open_tickets
        from palier.sla.services.sweep import settle_without_actions

        admin = User.objects.filter(email=DEMO_LOGINS["admin"]).first()
        if result.people_created and admin is not None:
            routing_demo.configure(admin)
        from palier.demo import assets as assets_demo

        cmdb = assets_demo.populate(seed=options["seed"])  # before the clocks: SLAs see the linked services
        from palier.demo import changes as changes_demo
        from palier.demo import problems as problems_demo

        manager = User.objects.filter(email=DEMO_LOGINS["manager"]).first()
        problems = problems_demo.populate(admin=admin, manager=manager)
        changes = changes_demo.populate(admin=admin, manager=manager, seed=options["seed"])
        clocks = start_clocks_for_open_tickets(batch=batch)
        settled = settle_clocks_for_ended_tickets(batch=batch)  # the dashboards' SLA history
        settle_without_actions(batch=batch)  # old tickets' past breaches are history, not alerts
        if not result.people_created:
            self.stdout.write("Demo people already present: added tickets only.")
        self.stdout.write(f"CMDB: {cmdb.assets:,} assets added, {cmdb.linked_tickets:,} tickets linked to a device.")
        if problems.problems or changes.changes:
            self.stdout.write(
                f"Problems: {problems.problems} added with {problems.linked_incidents} incidents linked, "
                f"{problems.major_incidents} major incident; changes: {changes.changes} added."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo: {result.tickets:,} tickets, {result.comments:,} comments, {result.events:,} events "
                f"in {result.seconds:.1f} s; SLA clocks started for {clocks:,} open tickets, "
                f"settled for {settled:,} resolved ones."
            )
        )
        if verbose:  # `palier up` runs the demo quietly and prints the logins in its own banner
            self.stdout.write(f"Logins (password “{DEMO_PASSWORD}”):")
            for role, email in DEMO_LOGINS.items():
                self.stdout.write(f"  {role:<10} {email}")

    def _logins(self) -> None:
        """The lines ``palier up`` shows in its banner (it calls this command by name), while the
        demo accounts still have the published password."""
        if demo_accounts_exposed():
            self.stdout.write(f"Demo logins (password: {DEMO_PASSWORD}):")
            for role, email in DEMO_LOGINS.items():
                self.stdout.write(f"  {role:<10} {email}")
