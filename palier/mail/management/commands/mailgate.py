"""``palier mailgate [--mailbox NAME]``: one RFC 822 message on stdin, for an MTA pipe.

Exit 0 once the raw message is stored (even when processing it then fails: it waits in the
quarantine); exit 75 (EX_TEMPFAIL) when it could not be stored, so the MTA keeps it and retries.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store (then process) one email read from standard input; exit 75 when it cannot be stored."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", default="", help="name of the mailbox the message was sent to")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        try:
            from palier.mail import services
            from palier.mail.models import Mailbox

            mailbox = Mailbox.objects.filter(name=options["mailbox"]).first() if options["mailbox"] else None
            if options["mailbox"] and mailbox is None:
                self.stderr.write(f"mailgate: unknown mailbox {options['mailbox']!r}; stored without one")
            inbound = services.receive(raw, mailbox=mailbox)
        except Exception as exc:
            self.stderr.write(f"mailgate: could not store the message: {type(exc).__name__}: {exc}")
            sys.exit(EX_TEMPFAIL)
        try:
            inbound = services.process(inbound.pk)
        except Exception as exc:
            self.stderr.write(f"mailgate: stored as #{inbound.pk}, processing failed: {exc}")
            return
        self.stdout.write(f"stored #{inbound.pk}: {inbound.state}")
