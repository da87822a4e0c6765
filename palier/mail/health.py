"""Mailbox health: what each poll records, and the alert to admins when a mailbox keeps failing.

A failure increments ``consecutive_failures`` (the first one of a streak sets ``failing_since``);
from the ``ALERT_AFTER``-th failure in a row every active admin gets one in-app notification and
one email per streak (both keyed on the streak's start, so a retried job or the next failing poll
adds nothing). A success clears the streak; a later streak alerts again.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation

from palier.mail.models import Mailbox
from palier.people.models import User

logger = logging.getLogger("palier.mail")
ALERT_AFTER = 3
ALERT_KIND = "mailbox_failing"


def record_attempt(*, mailbox_id: int) -> None:
    Mailbox.objects.filter(pk=mailbox_id).update(last_attempt_at=timezone.now())


def record_success(*, mailbox_id: int) -> None:
    Mailbox.objects.filter(pk=mailbox_id).update(
        last_success_at=timezone.now(), consecutive_failures=0, failing_since=None, last_error=""
    )


def record_failure(*, mailbox_id: int, error: str) -> Mailbox:
    """Count one failed poll; alert the admins once the streak reaches ``ALERT_AFTER``."""
    now = timezone.now()
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox_id, failing_since__isnull=True).update(failing_since=now)
        Mailbox.objects.filter(pk=mailbox_id).update(
            consecutive_failures=F("consecutive_failures") + 1, last_error=error[:2000]
        )
        mailbox = Mailbox.objects.get(pk=mailbox_id)
        failing = mailbox.consecutive_failures >= ALERT_AFTER
        if failing:
            _alert_admins(mailbox)
    logger.log(
        logging.ERROR if failing else logging.WARNING,
        "mailbox %s failed %s time(s) in a row: %s",
        mailbox.name,
        mailbox.consecutive_failures,
        error,
    )
    return mailbox


def streak_key(mailbox: Mailbox) -> str:
    started = mailbox.failing_since.isoformat() if mailbox.failing_since else "?"
    return f"mailbox:{mailbox.pk}:streak:{started}"


def _alert_admins(mailbox: Mailbox) -> None:
    from palier.notifications.email import queue_email
    from palier.notifications.services import notify

    admins = list(
        User.objects.filter(role=User.Role.ADMIN, is_active=True, is_system=False).exclude(email__endswith=".invalid")
    )
    if not admins:
        return
    key = streak_key(mailbox)
    notify(
        admins,
        kind=ALERT_KIND,
        key=key,
        mailbox=mailbox.name,
        failures=mailbox.consecutive_failures,
        error=mailbox.last_error[:500],
    )
    for admin in admins:
        subject, text = _alert_text(mailbox, admin)
        queue_email(to=[admin], subject=subject, text=text, key=key, automatic=True, reply_to_thread=False)


def _alert_text(mailbox: Mailbox, admin: User) -> tuple[str, str]:
    from palier.notifications.email import base_url

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
