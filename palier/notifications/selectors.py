"""Reads of notifications and notification preferences for the pages and the API."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet

from palier.notifications.models import Notification, NotificationPreference, OutgoingEmail
from palier.people.models import User

P = NotificationPreference.Event
PER_PAGE = 25
REQUESTER_EVENTS = (P.CREATED, P.REPLY, P.STATUS, P.MERGED, P.MENTION, P.APPROVAL)  # anyone may be asked to approve


def inbox(user: User, *, unread_only: bool = False, limit: int = 50) -> QuerySet[Notification]:
    qs = Notification.objects.filter(recipient=user).select_related("ticket")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs[:limit]


def inbox_page(user: User, *, page: str | int | None) -> Page[Notification]:
    """One page of the user's notifications, newest first (two queries whatever the size)."""
    qs = Notification.objects.filter(recipient=user).select_related("ticket")
    return Paginator(qs, PER_PAGE).get_page(page)


def unread_count(user: User, cap: int = 100) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True)[:cap].count()


def events_for(user: User) -> tuple[str, ...]:
    """The event types a user may choose about: requesters only see what concerns their requests."""
    return tuple(P.values) if user.is_agent else tuple(str(e) for e in REQUESTER_EVENTS)


@dataclass(frozen=True)
class PreferenceRow:
    event: str
    label: str
    email: bool
    in_app: bool
    teams: bool = True


def preferences_for(user: User) -> list[PreferenceRow]:
    """Each event offered to the user with its channels (on unless turned off)."""
    off = set(NotificationPreference.objects.filter(user=user, enabled=False).values_list("event", "channel"))
    return [
        PreferenceRow(
            event,
            str(P(event).label),
            (event, "email") not in off,
            (event, "in_app") not in off,
            (event, "teams") not in off,
        )
        for event in events_for(user)
    ]


OUTBOX_FILTERS = ("pending", "failed", "sent", "all")


def outbox_page(*, state: str, page: str | int | None) -> Page[OutgoingEmail]:
    """The outbox for administrators: waiting (queued or sending), failed, sent or everything."""
    qs = OutgoingEmail.objects.select_related("ticket").only(
        "address", "subject", "state", "attempts", "next_attempt_at", "last_error", "created_at", "sent_at",
        "ticket__kind", "ticket__number",
    )  # fmt: skip
    S = OutgoingEmail.State
    if state == "pending":
        qs = qs.filter(state__in=[S.QUEUED, S.SENDING])
    elif state in (S.FAILED, S.SENT):
        qs = qs.filter(state=state)
    return Paginator(qs.order_by("-created_at", "-pk"), PER_PAGE).get_page(page)


def notifications_of(user: User, *, unread: bool = False) -> QuerySet[Notification]:
    """The API's keyset list of ``user``'s own notifications (unread only when asked)."""
    rows = Notification.objects.filter(recipient=user).select_related("ticket")
    return rows.filter(read_at__isnull=True) if unread else rows


def outgoing_emails(*, state: str = "") -> QuerySet[OutgoingEmail]:
    """The outbox for the API: one state when given (pending: queued or sending)."""
    rows = OutgoingEmail.objects.defer("text", "html", "references")
    S = OutgoingEmail.State
    if state == "pending":
        return rows.filter(state__in=[S.QUEUED, S.SENDING])
    return rows.filter(state=state) if state else rows


def get_outgoing_email(outgoing_id: int) -> OutgoingEmail:
    from django.http import Http404

    row = OutgoingEmail.objects.defer("text", "html", "references").filter(pk=outgoing_id).first()
    if row is None:
        raise Http404("email")
    return row
