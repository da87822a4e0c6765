"""``palier rotate-secrets``: re-encrypt the stored secrets (mailboxes, sign-in providers,
authenticator apps, the SAML key) under the current SECRET_KEY.

Rotation: set the new ``SECRET_KEY``, put the old one in ``SECRET_KEY_FALLBACKS``, run this
command, then remove the fallback. Exit 1 when a secret could not be decrypted with any key.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Re-encrypt every stored secret (mailboxes, sign-in) under the current SECRET_KEY (old keys in SECRET_KEY_FALLBACKS)."

    def handle(self, *args: Any, **options: Any) -> None:
        from palier.mail import mailboxes, secrets

        rotated, unreadable = mailboxes.rotate_secrets(by=None)  # Palier itself: an operator's command
        self.stdout.write(f"rotate-secrets: {rotated} mailbox(es) re-encrypted under the current key")
        for holder in secrets.holders:  # the sign-in providers, authenticator apps, SAML key…
            count, names = holder()
            rotated += count
            unreadable.extend(names)
        self.stdout.write(f"rotate-secrets: {rotated} secret(s) in all re-encrypted under the current key")
        if unreadable:
            self.stderr.write("rotate-secrets: no known key opens the secrets of: " + ", ".join(unreadable))
            sys.exit(1)
