"""``palier rotate-secrets``: re-encrypt the mailbox secrets under the current SECRET_KEY.

Rotation: set the new ``SECRET_KEY``, put the old one in ``SECRET_KEY_FALLBACKS``, run this
command, then remove the fallback. Exit 1 when a secret could not be decrypted with any key.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Re-encrypt every stored mailbox secret under the current SECRET_KEY (old keys in SECRET_KEY_FALLBACKS)."

    def handle(self, *args: Any, **options: Any) -> None:
        from palier.mail import mailboxes

        rotated, unreadable = mailboxes.rotate_secrets(by=None)  # Palier itself: an operator's command
        self.stdout.write(f"rotate-secrets: {rotated} mailbox(es) re-encrypted under the current key")
        if unreadable:
            self.stderr.write("rotate-secrets: no known key opens the secrets of: " + ", ".join(unreadable))
            sys.exit(1)
