"""Create notifications, mark them read, and save each user's notification preferences.
``notify`` is called by routing, escalation, the SLA engine, the catalog's approvals and the event
stream consumer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.notifications import permissions
from palier.notifications.models import Notification, NotificationPreference, OutgoingEmail
from palier.people.models import User


def notify(recipients: Iterable[User | None], *, kind: str, ticket: Any = None, key: str = "", **data: Any) -> int:
    """Notify each active recipient once. With ``key``, a repeated call (a retried job) adds nothing.

    Returns how many recipients were addressed (including ones already notified under ``key``).
    """
    seen: set[int] = set()
    rows = []
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(Notification(recipient=user, ticket=ticket, kind=kind, key=key, data=data))
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=bool(key))
    return len(rows)


def event_key(event_id: int, purpose: str) -> str:
    """The key of what one ticket event tells people for one purpose, on both channels. Every app
    notifying about that event uses it, so a person concerned twice (a group manager who is also a
    member of the group) gets one row: the unique (recipient, key) constraint drops the second."""
    return f"event:{event_id}:{purpose}"


def channels_for(users: Iterable[User], *, event: str) -> tuple[list[User], list[User]]:
    """Split ``users`` by their preferences for ``event``: (in the application, by email). No
    preference row means on; one query whatever the number of users."""
    users = list(users)
    off = set(
        NotificationPreference.objects.filter(user__in=users, event=event, enabled=False).values_list(
            "user_id", "channel"
        )
    )
    in_app = [u for u in users if (u.pk, NotificationPreference.Channel.IN_APP) not in off]
    by_mail = [u for u in users if (u.pk, NotificationPreference.Channel.EMAIL) not in off]
    return in_app, by_mail


def mark_read_by_key(keys: Iterable[str]) -> int:
    """Mark read, for everybody, the unread notifications stored under ``keys``: what they asked
    for is done or no longer needed (an approval decided by someone else)."""
    wanted = [key for key in keys if key]
    if not wanted:
        return 0
    return Notification.objects.filter(key__in=wanted, read_at__isnull=True).update(read_at=timezone.now())


def mark_read(user: User, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them when ``ids`` is None)."""
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


@transaction.atomic
def set_preferences(
    user: User, *, enabled: Iterable[tuple[str, str]], events: Iterable[str] = ()
) -> list[NotificationPreference]:
    """Save which (event, channel) pairs reach ``user``: every pair offered to them and not listed is
    turned off. Pairs not offered to this user (an agent event for a requester) are refused, as are
    ``events`` named (switched off) that are not offered."""
    from palier.notifications.selectors import events_for

    offered = {(event, channel) for event in events_for(user) for channel in NotificationPreference.Channel.values}
    wanted = set(enabled)
    refused = (wanted - offered) or (set(events) - set(events_for(user)))
    if refused:
        raise ValidationError({"__all__": _("These notifications are not available to you.")})
    NotificationPreference.objects.filter(user=user).delete()
    rows = [
        NotificationPreference(user=user, event=event, channel=channel, enabled=False)
        for event, channel in sorted(offered - wanted)
    ]
    return NotificationPreference.objects.bulk_create(rows)


@transaction.atomic
def retry_email(*, outgoing_id: int, by: User) -> OutgoingEmail:
    """Queue a failed email again with a fresh set of attempts (administrators, from the outbox)."""
    permissions.require(by, "retry_email")
    row = OutgoingEmail.objects.select_for_update().filter(pk=outgoing_id).first()
    if row is None:
        raise ValidationError({"id": _("This email no longer exists.")})
    if row.state != OutgoingEmail.State.FAILED:
        raise ValidationError({"id": _("Only a failed email can be sent again.")})
    row.state, row.attempts, row.next_attempt_at = OutgoingEmail.State.QUEUED, 0, timezone.now()
    row.save(update_fields=["state", "attempts", "next_attempt_at"])
    transaction.on_commit(lambda: _send_later(row.pk))
    return row


def _send_later(outgoing_id: int) -> None:
    from palier.notifications.tasks import send_email_task

    send_email_task.enqueue(outgoing_id)
