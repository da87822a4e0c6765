"""``palier check``: Django's ``check`` with Palier's deployment checks (``palier/system/checks.py``).

With ``--deploy`` a warning fails the command too (``--fail-level WARNING`` unless given):
every deployment message names something unsafe, and a script or a container's start-up must
be able to stop on it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.core.management.commands import check

import palier.system.checks  # noqa: F401  registers Palier's deployment checks


class Command(check.Command):
    help = "Check the project; with --deploy, also the deployment settings (fails on any warning)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(fail_level=None)

    def handle(self, *app_labels: list[str], **options: Any) -> None:
        if options["fail_level"] is None:
            options["fail_level"] = "WARNING" if options["deploy"] else "ERROR"
        super().handle(*app_labels, **options)
