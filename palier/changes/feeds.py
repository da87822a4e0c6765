"""The iCalendar feeds of the change calendar (docs/changes.md, "Calendar feeds").

A feed is read by a calendar application with no session, through a signed link: the token holds
the person who made it, the support group it is for (or none: the person's own feed) and that
person's feed generation. Regenerating the links (``services/feeds.py``) raises the generation, so
every older link of the person answers 404. A link stops working too when its person leaves the
agents, is deactivated, or leaves the group.

Content: the open changes with a window between 30 days ago and 180 days ahead where the person is
the implementer, the requester or in the change's group (a person's feed), or the group's changes
(a group's feed). Built with the ``icalendar`` package (RFC 5545).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.db.models import Q
from django.utils import timezone

from palier.changes.models import CalendarFeedKey, Change
from palier.lib.errors import NotFound
from palier.people import selectors as people_selectors
from palier.people.models import SupportGroup, User

SALT = "palier.changes.feed"
PAST_DAYS = 30
FUTURE_DAYS = 180
MAX_EVENTS = 2000
CLOSED = (Change.Status.CLOSED, Change.Status.REJECTED)


@dataclass(frozen=True)
class Feed:
    user: User
    group: SupportGroup | None

    @property
    def name(self) -> str:
        return self.group.name if self.group is not None else (self.user.full_name or self.user.email)


def generation_of(user: User) -> int:
    row = CalendarFeedKey.objects.filter(user_id=user.pk).values_list("generation", flat=True).first()
    return int(row or 1)


def token_for(user: User, group_id: int | None = None, *, generation: int | None = None) -> str:
    value = {"u": user.pk, "g": group_id, "n": generation if generation is not None else generation_of(user)}
    # no time stamp in it: the same link every time the page shows it, until it is regenerated
    return signing.Signer(salt=SALT).sign_object(value, compress=True)


def open_feed(token: str) -> Feed:
    """The feed a token names; ``NotFound`` for a tampered, revoked or no longer allowed link."""
    try:
        value = signing.Signer(salt=SALT).unsign_object(token)
        user_id, group_id, generation = int(value["u"]), value.get("g"), int(value["n"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise NotFound("feed") from None
    user = people_selectors.find_active_user(user_id)
    if user is None or not user.is_agent or generation != generation_of(user):
        raise NotFound("feed")
    group: SupportGroup | None = None
    if group_id is not None:
        group = people_selectors.find_group(int(group_id))
        if group is None or (int(group_id) not in people_selectors.group_ids_of(user) and not user.is_admin):
            raise NotFound("feed")
    return Feed(user=user, group=group)


def changes_of(feed: Feed) -> list[Change]:
    now = timezone.now()
    changes = Change.objects.exclude(status__in=CLOSED).filter(
        planned_start__isnull=False,
        planned_end__gt=now - timedelta(days=PAST_DAYS),
        planned_start__lt=now + timedelta(days=FUTURE_DAYS),
    )
    if feed.group is not None:
        changes = changes.filter(group_id=feed.group.pk)
    else:
        groups = people_selectors.group_ids_of(feed.user)
        changes = changes.filter(
            Q(implementer_id=feed.user.pk) | Q(requested_by_id=feed.user.pk) | Q(group_id__in=groups)
        )
    return list(
        changes.select_related("group")
        .only(
            "number",
            "title",
            "description",
            "kind",
            "status",
            "risk",
            "planned_start",
            "planned_end",
            "updated_at",
            "group__name",
        )
        .order_by("planned_start", "id")[:MAX_EVENTS]
    )


def ical(feed: Feed, changes: list[Change], *, link_for: object = None, host: str = "palier") -> bytes:
    """The feed as text/calendar. ``link_for(change)`` gives each change's page address."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//Palier//Change calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Palier: {feed.name}")
    stamp = timezone.now()
    for change in changes:
        event = Event()
        event.add("uid", f"change-{change.pk}@{host}")
        event.add("dtstamp", stamp)
        event.add("last-modified", change.updated_at)
        event.add("dtstart", change.planned_start)
        event.add("dtend", change.planned_end)
        event.add("summary", f"{change.reference} {change.title}")
        details = [
            f"{Change.Kind(change.kind).label} · {Change.Status(change.status).label} · {change.get_risk_display()}"
        ]
        if change.group is not None:
            details.append(change.group.name)
        if change.description:
            details.append(change.description[:2000])
        event.add("description", "\n".join(str(d) for d in details))
        event.add(
            "status",
            "CONFIRMED" if change.status in (Change.Status.SCHEDULED, Change.Status.IMPLEMENTING) else "TENTATIVE",
        )
        if callable(link_for):
            event.add("url", link_for(change))
        calendar.add_component(event)
    return bytes(calendar.to_ical())
