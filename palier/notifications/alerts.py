"""Alerts to admins about the desk's own health.

``mailbox_failing`` is called by mail's health check (``mail/health.py``, through
``MAILBOX_FAILING`` in ``palier/events.py``) once a mailbox has failed ``ALERT_AFTER`` polls in a row:
every active admin gets one in-app notification and one email per failure streak (both keyed on
the streak's start, so a retried job or the next failing poll adds nothing).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from palier.mail.health import streak_key
from palier.mail.models import Mailbox
from palier.notifications.email import base_url, queue_email
from palier.notifications.models import Notification
from palier.notifications.services import notify
from palier.people.models import User


def mailbox_failing(mailbox: Mailbox) -> None:
    admins = list(
        User.objects.filter(role=User.Role.ADMIN, is_active=True, is_system=False).exclude(email__endswith=".invalid")
    )
    if not admins:
        return
    key = streak_key(mailbox)
    notify(
        admins,
        kind=Notification.Kind.MAILBOX_FAILING,
        key=key,
        mailbox=mailbox.name,
        failures=mailbox.consecutive_failures,
        error=mailbox.last_error[:500],
    )
    for admin in admins:
        subject, text = _mailbox_text(mailbox, admin)
        queue_email(to=[admin], subject=subject, text=text, key=key, automatic=True, reply_to_thread=False)


def _mailbox_text(mailbox: Mailbox, admin: User) -> tuple[str, str]:
    with translation.override(admin.language or None):
        subject = translation.gettext("Mailbox %(name)s cannot be read") % {"name": mailbox.name}
        text = translation.gettext(
            "Palier failed %(count)s times in a row to read the mailbox %(name)s (%(address)s).\n\n"
            "Last error: %(error)s\n\nPalier keeps trying. Mailbox settings and health: %(url)s\n"
        ) % {
            "count": mailbox.consecutive_failures,
            "name": mailbox.name,
            "address": mailbox.address,
            "error": mailbox.last_error,
            "url": base_url() + reverse("mail:mailboxes"),
        }
    return subject, text
