"""Reads on major incidents for the pages (agent workspace and portal). Requesters see only what
is published: the headline, the status note and the updates sent to the portal; never the
internal notes nor the agents' ticket."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from palier.lib.errors import NotFound
from palier.lib.text import normalise
from palier.people.models import User
from palier.problems import permissions
from palier.problems.models import MajorIncident, MajorIncidentLink, MajorIncidentSubscriber, MajorIncidentUpdate
from palier.tickets.models import Ticket

PAGE = 25
LOG_LIMIT = 200
HOME_LIMIT = 5
MATCH_LIMIT = 3
LIVE_SCAN = 50  # ongoing published outages read to match typed words (there are never many)
MIN_WORD = 3
STOP_WORDS = frozenset({
    "the", "and", "for", "not", "with", "from", "this", "that", "are", "was", "have", "has", "can", "cannot",
    "does", "dont", "don", "les", "des", "une", "est", "pas", "pour", "avec", "dans", "sur", "qui", "que",
    "mon", "mes", "nos", "vos", "par", "plus",
})  # fmt: skip


@dataclass(frozen=True)
class Page:
    items: list[MajorIncident]
    number: int
    has_next: bool


def _is_desk(user: User) -> bool:
    return permissions.can(user, "view")


def major_page(user: User, *, number: int = 1) -> Page:
    """Ongoing first, then the most recent; ``PAGE`` a page."""
    if not _is_desk(user):
        return Page([], 1, False)
    number = max(1, number)
    start = (number - 1) * PAGE
    rows = list(
        MajorIncident.objects.select_related("ticket", "declared_by")
        .order_by("state", "-declared_at", "-id")[start : start + PAGE + 1]
    )  # fmt: skip
    return Page(rows[:PAGE], number, len(rows) > PAGE)


def major_for(user: User, major_id: int) -> MajorIncident:
    """The agent's view of one major incident, with its counts."""
    if not _is_desk(user):
        raise NotFound("major incident")
    major = (
        MajorIncident.objects.select_related("ticket", "declared_by", "reviewed_by")
        .annotate(
            subscriber_count=Count("subscribers", distinct=True),
            affected_count=Count("subscribers", filter=Q(subscribers__affected_at__isnull=False), distinct=True),
            attached_count=Count("incident_links", distinct=True),
        )
        .filter(pk=major_id)
        .first()
    )
    if major is None:
        raise NotFound("major incident")
    return major


def attached_page(major: MajorIncident, *, number: int = 1) -> Page:
    """The attached tickets, newest first (a page of links, each with its ticket)."""
    number = max(1, number)
    start = (number - 1) * PAGE
    rows = list(
        MajorIncidentLink.objects.filter(major=major)
        .select_related("ticket", "ticket__requester")
        .order_by("-linked_at", "-id")[start : start + PAGE + 1]
    )
    return Page(rows[:PAGE], number, len(rows) > PAGE)  # type: ignore[arg-type]


def communication_log(major: MajorIncident) -> list[MajorIncidentUpdate]:
    """The latest ``LOG_LIMIT`` updates, newest first, every channel (agents only)."""
    return list(
        MajorIncidentUpdate.objects.filter(major=major).select_related("author").order_by("-at", "-id")[:LOG_LIMIT]
    )


# --- the ticket page's banner --------------------------------------------------------------------------


@dataclass(frozen=True)
class Banner:
    major: MajorIncident | None
    own: bool  # the ticket is the major incident itself (else: attached to it)


def banner_for(ticket: Ticket) -> Banner:
    """The major incident this ticket is, or is attached to. One query."""
    major = (
        MajorIncident.objects.filter(Q(ticket_id=ticket.pk) | Q(incident_links__ticket_id=ticket.pk))
        .only("id", "headline", "state", "ticket_id")
        .first()
    )
    return Banner(major, major is not None and major.ticket_id == ticket.pk)


# --- the portal ------------------------------------------------------------------------------------------


def live_outages(user: User, *, limit: int = HOME_LIMIT) -> list[MajorIncident]:
    """Ongoing published outages, the latest news first. One query."""
    if not user.is_authenticated:
        return []
    return list(
        MajorIncident.objects.filter(state=MajorIncident.State.ACTIVE, published=True)
        .only("id", "headline", "status_note", "note_updated_at", "state")
        .order_by("-note_updated_at", "-id")[:limit]
    )


def outage_for(user: User, major_id: int) -> MajorIncident:
    """A published outage as the portal shows it (agents see unpublished ones too)."""
    query = MajorIncident.objects.filter(pk=major_id)
    if not _is_desk(user):
        query = query.filter(published=True)
    major = query.only(
        "id", "headline", "status_note", "note_updated_at", "state", "declared_at", "resolved_at", "published"
    ).first()
    if major is None or not user.is_authenticated:
        raise NotFound("outage")
    return major


def portal_updates(major: MajorIncident, *, limit: int = 50) -> list[MajorIncidentUpdate]:
    """What was published to the portal, newest first: never the internal notes."""
    return list(
        MajorIncidentUpdate.objects.filter(major=major, channel=MajorIncidentUpdate.Channel.PORTAL)
        .only("id", "message", "at")
        .order_by("-at", "-id")[:limit]
    )


def subscription_of(major: MajorIncident, user: User) -> MajorIncidentSubscriber | None:
    return MajorIncidentSubscriber.objects.filter(major=major, user_id=user.pk).first()


def words_of(text: str) -> set[str]:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in normalise(text))
    return {w for w in cleaned.split() if len(w) >= MIN_WORD and w not in STOP_WORDS}


def match_outages(user: User, text: str, *, limit: int = MATCH_LIMIT) -> list[MajorIncident]:
    """Ongoing published outages sharing words with ``text`` (accent- and case-insensitive), the
    most shared words first. One query, none when fewer than one usable word was typed."""
    wanted = words_of(text[:2000])
    if not wanted or not user.is_authenticated:
        return []
    rows = list(
        MajorIncident.objects.filter(state=MajorIncident.State.ACTIVE, published=True)
        .only("id", "headline", "status_note", "note_updated_at", "search_text")
        .order_by("-note_updated_at", "-id")[:LIVE_SCAN]
    )
    scored = [(len(wanted & words_of(row.search_text)), row) for row in rows]
    scored = [(score, row) for score, row in scored if score]
    scored.sort(key=lambda pair: -pair[0])
    return [row for _score, row in scored[:limit]]
