"""Mailbox health: what each poll records, and the alert when a mailbox keeps failing.

A failure increments ``consecutive_failures`` (the first one of a streak sets ``failing_since``);
from the ``ALERT_AFTER``-th failure in a row every listener in ``failing_listeners`` (filled from
``MAILBOX_FAILING`` in ``palier/events.py``) is called with the mailbox, in the same transaction:
today ``notifications.alerts.mailbox_failing``, which tells every active admin once per streak (keyed on
``streak_key``, so a retried job or the next failing poll adds nothing). A success clears the
streak; a later streak alerts again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from palier.mail.models import Mailbox

logger = logging.getLogger("palier.mail")
ALERT_AFTER = 3


def record_attempt(*, mailbox_id: int) -> None:
    Mailbox.objects.filter(pk=mailbox_id).update(last_attempt_at=timezone.now())


def record_success(*, mailbox_id: int) -> None:
    Mailbox.objects.filter(pk=mailbox_id).update(
        last_success_at=timezone.now(), consecutive_failures=0, failing_since=None, last_error=""
    )


def record_failure(*, mailbox_id: int, error: str) -> Mailbox:
    """Count one failed poll; alert from the ``ALERT_AFTER``-th failure of the streak on."""
    now = timezone.now()
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox_id, failing_since__isnull=True).update(failing_since=now)
        Mailbox.objects.filter(pk=mailbox_id).update(
            consecutive_failures=F("consecutive_failures") + 1, last_error=error[:2000]
        )
        mailbox = Mailbox.objects.get(pk=mailbox_id)
        failing = mailbox.consecutive_failures >= ALERT_AFTER
        if failing:
            _alert(mailbox)
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


# called with the Mailbox in the failing poll's transaction; filled by palier.events.wire()
failing_listeners: list[Callable[[Mailbox], None]] = []


def _alert(mailbox: Mailbox) -> None:
    """Tell whoever listens (``palier/events.py`` ``MAILBOX_FAILING``: the admins, by notifications)."""
    for listener in failing_listeners:
        listener(mailbox)
