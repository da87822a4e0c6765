"""``palier rotate-secrets`` for the webhooks app: the subscriptions' signing secrets, re-encrypted
under the current ``SECRET_KEY`` (listed in ``SECRET_HOLDERS`` of ``palier/events.py``)."""

from __future__ import annotations

from django.db import transaction

from palier.mail import secrets

from .models import Subscription


@transaction.atomic
def rotate() -> tuple[int, list[str]]:
    rotated, unreadable = 0, []
    for sub in Subscription.objects.order_by("pk").iterator():
        try:
            Subscription.objects.filter(pk=sub.pk).update(secret_encrypted=secrets.rotate(sub.secret_encrypted))
            rotated += 1
        except secrets.SecretError:
            unreadable.append(f"webhook secret of {sub.name}")
    return rotated, unreadable
