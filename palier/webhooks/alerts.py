"""The administrators' notice when a subscription is turned off after repeated failures: one email
each, keyed on the moment it was disabled (a retried job adds nothing)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from palier.notifications.email import base_url, queue_email
from palier.people.models import User

from .models import Subscription


def subscription_disabled(subscription: Subscription) -> None:
    admins = list(
        User.objects.filter(role=User.Role.ADMIN, is_active=True, is_system=False).exclude(email__endswith=".invalid")
    )
    stamp = subscription.disabled_at.isoformat() if subscription.disabled_at else ""
    key = f"webhooks:disabled:{subscription.pk}:{stamp}"
    url = base_url() + reverse("webhooks:detail", args=[subscription.pk])
    for admin in admins:
        with translation.override(admin.language or None):
            subject = translation.gettext("Webhook %(name)s was turned off") % {"name": subscription.name}
            text = translation.gettext(
                "Palier failed %(count)s times in a row to deliver to the webhook %(name)s (%(url)s) and turned "
                "it off. Its deliveries are kept and wait.\n\nFix the receiver, then turn the subscription back "
                "on: %(page)s\n"
            ) % {
                "count": subscription.consecutive_failures,
                "name": subscription.name,
                "url": subscription.url,
                "page": url,
            }
        queue_email(to=[admin], subject=subject, text=text, key=key, automatic=True, reply_to_thread=False)
