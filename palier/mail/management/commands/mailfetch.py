"""``palier mailfetch [--mailbox NAME]``: fetch the IMAP mailboxes once, now (all active ones, or
the named one, due or not), and print what each gave. For a first setup, a cron job or a check;
the scheduler's ``mail-poll`` job does the same every 15 s for the mailboxes that are due.

Exit 0 when every mailbox was read, 1 when one failed (its error is printed and kept on its health).
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Fetch the IMAP mailboxes once (all active ones, or --mailbox NAME) and process what came."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--mailbox", default="", help="name of the one mailbox to fetch")

    def handle(self, *args: Any, **options: Any) -> None:
        from palier.mail import imap
        from palier.mail.models import Mailbox

        boxes = Mailbox.objects.exclude(imap_host="")
        if options["mailbox"]:
            boxes = boxes.filter(name=options["mailbox"])
            if not boxes.exists():
                raise CommandError(f"no IMAP mailbox named {options['mailbox']!r}")
        else:
            boxes = boxes.filter(is_active=True)
        failed = False
        for mailbox in boxes.order_by("name"):
            result = imap.fetch_mailbox(mailbox)
            if result.error:
                failed = True
                self.stderr.write(f"{mailbox.name}: {result.error}")
            else:
                self.stdout.write(f"{mailbox.name}: {result.fetched} message(s)")
        if failed:
            sys.exit(1)
