"""``palier rotate-secrets`` for the assets app: the licence keys, re-encrypted under the current
``SECRET_KEY`` (listed in ``SECRET_HOLDERS`` of ``palier/events.py``, which the command calls)."""

from __future__ import annotations

from django.db import transaction

from palier.mail import secrets

from .models import Licence


@transaction.atomic
def rotate() -> tuple[int, list[str]]:
    """How many licence keys were rewritten, and the licences whose key no known key opens."""
    rotated, unreadable = 0, []
    for licence in Licence.objects.exclude(key_encrypted="").select_related("asset").order_by("pk").iterator():
        try:
            Licence.objects.filter(pk=licence.pk).update(key_encrypted=secrets.rotate(licence.key_encrypted))
            rotated += 1
        except secrets.SecretError:
            unreadable.append(f"licence key of {licence.asset.tag}")
    return rotated, unreadable
