"""Reads for tickets, always scoped by ``permissions.visible``. The category reads, open to everyone
signed in, live in ``tickets.categories`` and are re-exported here for the interface packages."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from palier.people.models import User
from palier.tickets import permissions, search
from palier.tickets.categories import CategoryNode as CategoryNode
from palier.tickets.categories import active_categories as active_categories
from palier.tickets.categories import active_categories_by_slug as active_categories_by_slug
from palier.tickets.categories import all_categories as all_categories
from palier.tickets.categories import categories_by_id as categories_by_id
from palier.tickets.categories import category_choices as category_choices
from palier.tickets.categories import category_tree as category_tree
from palier.tickets.categories import find_category as find_category
from palier.tickets.categories import get_category_for_admin as get_category_for_admin
from palier.tickets.categories import top_level_categories as top_level_categories
from palier.tickets.models import (
    Attachment,
    Comment,
    ReplyDraft,
    SavedFilter,
    Tag,
    Ticket,
    TicketEvent,
    TicketLink,
    TicketViewer,
)

# sort name -> ordered fields (the last one is always the unique id)
SORTS: dict[str, tuple[str, ...]] = {
    "priority": ("priority", "created_at", "id"),  # most urgent first, oldest first
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "-updated": ("-updated_at", "-id"),
    "updated": ("updated_at", "id"),
    "-priority": ("-priority", "-created_at", "-id"),
    "sla": ("sla_due_at", "id"),  # soonest SLA due first; tickets without a running clock last
    "-sla": ("-sla_due_at", "-id"),
}
DEFAULT_SORT = "-created"
# fields that may be NULL: NULLs sort last in both directions (and so do their keyset pages)
NULLABLE_SORT_FIELDS = {"sla_due_at"}


def _order_by(sort: str) -> list[Any]:
    order: list[Any] = []
    for name in SORTS[sort]:
        bare = name.lstrip("-")
        if bare in NULLABLE_SORT_FIELDS:
            expr = F(bare)
            order.append(expr.desc(nulls_last=True) if name.startswith("-") else expr.asc(nulls_last=True))
        else:
            order.append(name)
    return order


def tickets_visible_to(user: User) -> QuerySet[Ticket]:
    return Ticket.objects.filter(permissions.visible(user))


def get_ticket_for(user: User, ticket_id: int, *, action: permissions.Action = "view") -> Ticket:
    """Fetch a ticket the user may act on, or raise 404 (never 403: invisible means absent)."""
    ticket = (
        tickets_visible_to(user)
        .select_related(
            "requester",
            "organisation",
            "category",
            "group",
            "assignee",
            "requester__organisation",
            "requester__department",
        )
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None or not permissions.can(user, action, ticket, seen=True):
        raise Http404("ticket")
    return ticket


def get_ticket_by_reference(user: User, reference: str) -> Ticket | None:
    prefix, _dash, number = reference.strip().upper().partition("-")
    kinds = {v: k for k, v in Ticket.PREFIXES.items()}
    if prefix not in kinds or not number.isdigit():
        return None
    return tickets_visible_to(user).filter(kind=kinds[prefix], number=int(number)).first()


@dataclass
class TicketFilters:
    status: list[str] = field(default_factory=list)
    kind: str | None = None
    priority: list[int] = field(default_factory=list)
    group: int | None = None
    assignee: int | None = None
    unassigned: bool = False
    requester: int | None = None
    category: int | None = None
    organisation: int | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    open_only: bool = False
    q: str = ""
    groups: list[int] | None = None  # several groups ("my groups"); None: any group, []: none
    channel: str | None = None
    levels: list[int] = field(default_factory=list)  # support levels of the ticket's group (1-5)
    resolved_after: datetime | None = None
    resolved_before: datetime | None = None


def _apply_filters(qs: QuerySet[Ticket], f: TicketFilters, user: User, sort: str | None = None) -> QuerySet[Ticket]:
    exact = {
        "kind": f.kind,
        "group_id": f.group,
        "assignee_id": f.assignee,
        "requester_id": f.requester,
        "category_id": f.category,
        "organisation_id": f.organisation,
        "created_at__gte": f.created_after,
        "created_at__lt": f.created_before,
        "channel": f.channel,
        "resolved_at__gte": f.resolved_after,
        "resolved_at__lt": f.resolved_before,
    }
    qs = qs.filter(**{k: v for k, v in exact.items() if v is not None})
    if f.status:
        qs = qs.filter(status__in=f.status)
    elif f.open_only:
        qs = qs.filter(status__in=Ticket.OPEN_STATUSES)
    if f.priority:
        qs = qs.filter(priority__in=f.priority)
    if f.groups is not None:
        qs = qs.filter(group_id__in=f.groups)
    if f.levels:
        qs = qs.filter(group__level__in=f.levels)
    if f.unassigned:
        qs = qs.filter(assignee__isnull=True)
    if f.q.strip():
        hidden = permissions.own_requests(user)
        newest_first = sort in search.NEWEST_FIRST_SORTS
        qs = qs.filter(
            search.matching(f.q, include_internal=user.is_agent, hide_internal_of=hidden, newest_first=newest_first)
        )
    return qs


def tickets_matching(user: User, *, filters: TicketFilters) -> QuerySet[Ticket]:
    """The tickets ``user`` may see that match ``filters``, unordered (exports read them in chunks)."""
    return _apply_filters(tickets_visible_to(user), filters, user)


class BadCursor(ValueError):
    pass


def _encode_cursor(sort: str, ticket: Ticket) -> str:
    values = []
    for name in SORTS[sort]:
        value = getattr(ticket, name.lstrip("-"))
        values.append(value.isoformat() if isinstance(value, datetime) else value)  # None stays None
    raw = json.dumps({"s": sort, "v": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(sort: str, cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        values = list(data["v"])
        ok = data["s"] == sort and len(values) == len(SORTS[sort])
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise BadCursor(cursor) from exc
    if not ok:
        raise BadCursor(cursor)
    out: list[Any] = []
    for name, value in zip(SORTS[sort], values, strict=True):
        if value is None and name.lstrip("-") in NULLABLE_SORT_FIELDS:
            out.append(None)
        elif name.lstrip("-").endswith("_at"):
            parsed = parse_datetime(value) if isinstance(value, str) else None
            if parsed is None:
                raise BadCursor(cursor)
            out.append(parsed)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append(value)
        else:
            raise BadCursor(cursor)
    return out


def _after(sort: str, values: list[Any]) -> Q:
    """Rows strictly after ``values`` in the sort order (row-value comparison, spelled out)."""
    fields = SORTS[sort]
    condition = Q()
    for i in range(len(fields) - 1, -1, -1):
        name = fields[i].lstrip("-")
        op = "lt" if fields[i].startswith("-") else "gt"
        if name in NULLABLE_SORT_FIELDS and values[i] is None:
            # among the NULLs (last): only ties on this field can follow
            condition = Q(**{f"{name}__isnull": True}) & condition
            continue
        step = Q(**{f"{name}__{op}": values[i]})
        if name in NULLABLE_SORT_FIELDS:
            step = step | Q(**{f"{name}__isnull": True})
        if i < len(fields) - 1:
            step = step | (Q(**{name: values[i]}) & condition)
        condition = step
    return condition


@dataclass
class TicketPage:
    items: list[Ticket]
    next_cursor: str | None


def ticket_page(
    user: User, *, filters: TicketFilters, sort: str = DEFAULT_SORT, cursor: str | None = None, limit: int = 25
) -> TicketPage:
    """One page of the tickets ``user`` may see, keyset-paginated, with related rows prefetched."""
    if sort not in SORTS:
        raise BadCursor(sort)
    qs = _apply_filters(tickets_visible_to(user), filters, user, sort)
    if cursor:
        qs = qs.filter(_after(sort, _decode_cursor(sort, cursor)))
    rows = list(
        qs.select_related("requester", "group", "assignee", "category", "organisation").order_by(*_order_by(sort))[
            : limit + 1
        ]
    )
    next_cursor = _encode_cursor(sort, rows[limit - 1]) if len(rows) > limit else None
    return TicketPage(items=rows[:limit], next_cursor=next_cursor)


def ticket_detail_related(ticket: Ticket) -> Ticket:
    """Prefetch tags, watchers and links (both directions in one query) for a detail view."""
    from django.db.models import prefetch_related_objects

    prefetch_related_objects(
        [ticket],
        "tags",
        Prefetch("watchers", queryset=User.objects.only("id", "full_name", "email")),
    )
    links = TicketLink.objects.filter(Q(source_id=ticket.pk) | Q(target_id=ticket.pk)).select_related(
        "source", "target"
    )
    setattr(ticket, _LINKS_ATTR, list(links))
    return ticket


_LINKS_ATTR = "_palier_links"


def tag_names(ticket: Ticket) -> list[str]:
    """The ticket's tag names (no query once ``ticket_detail_related`` read them)."""
    return [tag.name for tag in ticket.tags.all()]


def watchers_of(ticket: Ticket) -> list[User]:
    """The people watching the ticket (no query once ``ticket_detail_related`` read them)."""
    return list(ticket.watchers.all())


def new_ticket_related(ticket: Ticket) -> Ticket:
    """``ticket_detail_related`` for a ticket created in this request without watchers: it has no
    links and no watchers yet, so only its tags (routing may add some) are read."""
    from django.db.models import prefetch_related_objects

    if getattr(ticket, "_opened_without_tags", False):  # set by open_tickets: nothing to read
        ticket._prefetched_objects_cache = {"tags": Tag.objects.none()}  # type: ignore[attr-defined]
    else:
        prefetch_related_objects([ticket], "tags")
    cache: dict[str, object] = getattr(ticket, "_prefetched_objects_cache")  # noqa: B009 - set above
    cache["watchers"] = User.objects.none()
    setattr(ticket, _LINKS_ATTR, [])
    return ticket


@dataclass
class TimelineEntry:
    kind: str  # "comment" or "event"
    at: datetime
    comment: Comment | None = None
    event: TicketEvent | None = None


def ticket_timeline(user: User, ticket: Ticket) -> list[TimelineEntry]:
    """Comments and events merged by time; internal ones only for agents."""
    internal_ok = permissions.can(user, "view_internal", ticket, seen=True)
    comments = Comment.objects.filter(ticket=ticket).select_related("author")
    events = (
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor")
        .exclude(kind__in=[TicketEvent.Kind.COMMENTED, TicketEvent.Kind.NOTED, *TicketEvent.SLA_KINDS])
    )
    attachments = Attachment.objects.filter(ticket=ticket)
    if not internal_ok:
        comments = comments.filter(is_internal=False)
        events = events.filter(is_internal=False)
        attachments = attachments.filter(is_internal=False)
    comments = comments.prefetch_related(Prefetch("attachments", queryset=attachments))
    entries = [TimelineEntry("comment", c.created_at, comment=c) for c in comments]
    entries += [TimelineEntry("event", e.created_at, event=e) for e in events]
    entries.sort(key=lambda e: (e.at, 0 if e.kind == "event" else 1))
    return entries


def comments_visible(user: User, ticket: Ticket) -> QuerySet[Comment]:
    qs = Comment.objects.filter(ticket=ticket).select_related("author").prefetch_related("attachments")
    if not permissions.can(user, "view_internal", ticket, seen=True):
        qs = qs.filter(is_internal=False)
    return qs


def get_comment_for(user: User, ticket: Ticket, comment_id: int) -> Comment:
    """One comment of ``comments_visible`` (raises ``Comment.DoesNotExist`` when it is not)."""
    return comments_visible(user, ticket).get(pk=comment_id)


def events_visible(user: User, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The ticket's history as the API lists it (the SLA's warnings and breaches have their own
    timeline: ``sla.selectors.timeline``)."""
    qs = TicketEvent.objects.filter(ticket=ticket).exclude(kind__in=TicketEvent.SLA_KINDS).select_related("actor")
    if not permissions.can(user, "view_internal", ticket, seen=True):
        qs = qs.filter(is_internal=False)
    return qs


def attachments_visible(user: User, ticket: Ticket) -> QuerySet[Attachment]:
    qs = Attachment.objects.filter(ticket=ticket)
    if not permissions.can(user, "view_internal", ticket, seen=True):
        qs = qs.filter(is_internal=False)
    return qs


def get_attachment_for(user: User, attachment_id: int) -> Attachment:
    """An attachment on a ticket the user may see (internal ones for agents only), or 404."""
    attachment = (
        Attachment.objects.select_related("ticket")
        .filter(pk=attachment_id, ticket__in=tickets_visible_to(user))
        .first()
    )
    if attachment is None or (
        attachment.is_internal and not permissions.can(user, "view_internal", attachment.ticket, seen=True)
    ):
        raise Http404("attachment")
    return attachment


# --- pages (portal and agent workspace) -----------------------------------------------------------


def public_timeline(ticket: Ticket) -> list[TimelineEntry]:
    """The conversation as a requester sees it: public replies, public events and public files.

    The caller has fetched ``ticket`` with ``get_ticket_for``; this never returns internal content,
    whoever asks (the portal shows the requester's view even to agents).
    """
    attachments = Attachment.objects.filter(ticket=ticket, is_internal=False)
    comments = (
        Comment.objects.filter(ticket=ticket, is_internal=False)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=attachments))
    )
    events = (
        TicketEvent.objects.filter(ticket=ticket, is_internal=False)
        .select_related("actor")
        .exclude(kind__in=[TicketEvent.Kind.COMMENTED, TicketEvent.Kind.NOTED])
    )
    entries = [TimelineEntry("comment", c.created_at, comment=c) for c in comments]
    entries += [TimelineEntry("event", e.created_at, event=e) for e in events]
    entries.sort(key=lambda e: (e.at, 0 if e.kind == "event" else 1))
    return entries


def ticket_files(user: User, ticket: Ticket) -> list[Attachment]:
    """Files attached to the ticket itself (not to a comment) that ``user`` may see."""
    return list(attachments_visible(user, ticket).filter(comment__isnull=True))


# --- added for the REST API -------------------------------------------------------------------


@dataclass
class LinkView:
    id: int
    kind: str
    direction: str  # "out": this ticket -> other; "in": other -> this ticket
    ticket: Ticket

    @property
    def label(self) -> str:
        return str(TicketLink.Kind(self.kind).label) if self.kind in TicketLink.Kind.values else self.kind


def links_visible(user: User, ticket: Ticket) -> list[LinkView]:
    """The ticket's links whose other end ``user`` may see (prefetch with ``ticket_detail_related``)."""
    links: list[TicketLink] | None = getattr(ticket, _LINKS_ATTR, None)
    if links is None:
        links = list(
            TicketLink.objects.filter(Q(source_id=ticket.pk) | Q(target_id=ticket.pk)).select_related(
                "source", "target"
            )
        )
    views = [
        LinkView(link.pk, link.kind, "out", link.target)
        if link.source_id == ticket.pk
        else LinkView(link.pk, link.kind, "in", link.source)
        for link in links
    ]
    if not views:
        return []
    seen = set(tickets_visible_to(user).filter(pk__in=[v.ticket.pk for v in views]).values_list("pk", flat=True))
    return [v for v in views if v.ticket.pk in seen]


def get_link_for(ticket: Ticket, link_id: int) -> TicketLink:
    """A link from or to ``ticket`` (already fetched with ``get_ticket_for``), or 404."""
    link = (
        TicketLink.objects.select_related("source", "target")
        .filter(Q(source=ticket) | Q(target=ticket), pk=link_id)
        .first()
    )
    if link is None:
        raise Http404("link")
    return link


def priority_matrix() -> list[dict[str, Any]]:
    """The nine impact x urgency cells, the admins' edits over the ITIL default."""
    from palier.tickets.models import Level, PriorityRule
    from palier.tickets.rules import DEFAULT_MATRIX

    cells: dict[tuple[str, str], int] = dict(DEFAULT_MATRIX)
    cells.update({(r.impact, r.urgency): r.priority for r in PriorityRule.objects.all()})
    return [
        {"impact": impact, "urgency": urgency, "priority": cells[(impact, urgency)]}
        for impact in Level.values
        for urgency in Level.values
    ]


# --- agent workspace ------------------------------------------------------------------------------


def agent_group_ids(user: User) -> list[int]:
    """The ids of the support groups ``user`` belongs to ("my groups" in the queue)."""
    from palier.people.models import Membership

    return sorted(Membership.objects.filter(user_id=user.pk).values_list("group_id", flat=True))


def ticket_count_capped(user: User, *, filters: TicketFilters, cap: int = 100) -> int:
    """How many tickets match, counting at most ``cap`` rows (``SELECT COUNT(*) FROM (... LIMIT cap)``).

    Exact counts over a million rows are expensive; the navigation shows "99+" beyond the cap.
    """
    return _apply_filters(tickets_visible_to(user), filters, user).order_by()[:cap].count()


def saved_filters_for(user: User) -> list[SavedFilter]:
    return list(saved_filter_rows(user))


def saved_filter_rows(user: User) -> QuerySet[SavedFilter]:
    """``user``'s own saved queue views, in their order (nobody sees another's)."""
    return SavedFilter.objects.filter(user=user).order_by("position", "id")


def get_saved_filter_for(user: User, filter_id: int) -> SavedFilter:
    """One of ``user``'s own saved filters, or 404 (someone else's filter does not exist for them)."""
    saved = SavedFilter.objects.filter(user=user, pk=filter_id).first()
    if saved is None:
        raise Http404("saved filter")
    return saved


MAX_BULK = 100


def tickets_for_bulk(user: User, ids: list[int]) -> list[Ticket]:
    """The selected tickets ``user`` may see, in the order given; ids they may not see are absent."""
    wanted = list(dict.fromkeys(ids))[:MAX_BULK]
    found = {t.pk: t for t in tickets_visible_to(user).filter(pk__in=wanted).select_related("group", "assignee")}
    return [found[pk] for pk in wanted if pk in found]


MAX_BULK_QUERY = 1000


def tickets_for_bulk_query(user: User, *, filters: TicketFilters, limit: int) -> list[Ticket]:
    """The tickets ``user`` may see that match ``filters``, oldest first, at most ``limit`` + 1 of
    them (one more than asked tells the caller that the query matches more)."""
    qs = _apply_filters(tickets_visible_to(user), filters, user).select_related("group", "assignee", "requester")
    return list(qs.order_by("id")[: limit + 1])


def requester_open_tickets(user: User, ticket: Ticket, *, limit: int = 5) -> list[Ticket]:
    """The requester's other open tickets that ``user`` may see, newest first (one query)."""
    return list(
        tickets_visible_to(user)
        .filter(requester_id=ticket.requester_id, status__in=Ticket.OPEN_STATUSES)
        .exclude(pk=ticket.pk)
        .order_by("-created_at", "-id")[:limit]
    )


def get_caller(user_id: int) -> User | None:
    """An active person an agent may open a ticket for (log a call)."""
    return User.objects.filter(pk=user_id, is_active=True).select_related("organisation").first()


PRESENCE_WINDOW = timedelta(seconds=30)


def other_viewers(ticket: Ticket, user: User, *, now: datetime | None = None) -> list[User]:
    """Other agents seen on the ticket page during the last 30 seconds."""
    since = (now or timezone.now()) - PRESENCE_WINDOW
    rows = (
        TicketViewer.objects.filter(ticket=ticket, last_seen__gte=since)
        .exclude(user_id=user.pk)
        .select_related("user")
        .order_by("user__full_name", "user_id")
    )
    return [row.user for row in rows if row.user.is_agent]


def changed_by_since(ticket: Ticket, user: User, *, since: datetime) -> list[str]:
    """Names of the others who changed the ticket after ``since`` ("Palier" for automatic changes)."""
    rows = (
        TicketEvent.objects.filter(ticket=ticket, created_at__gt=since)
        .exclude(actor_id=user.pk)
        .exclude(kind__in=TicketEvent.SLA_KINDS)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    names: list[str] = []
    for event in rows:
        name = event.actor.display_name if event.actor is not None else "Palier"
        if name not in names:
            names.append(name)
    return names


def person_by_email(email: str) -> User | None:
    """The active person with this email address (adding a watcher)."""
    return User.objects.filter(email__iexact=email.strip(), is_active=True).first()


def time_spent_minutes(ticket: Ticket) -> int:
    """Minutes logged on the ticket (calls and work entries)."""
    from django.db.models import Sum

    from palier.tickets.models import TimeEntry

    return int(TimeEntry.objects.filter(ticket=ticket).aggregate(total=Sum("minutes"))["total"] or 0)


MAX_MERGE_HOPS = 10  # a survivor merged later into a third ticket: follow the chain this far


def merge_survivor(ticket: Ticket | None) -> Ticket | None:
    """The ticket that ``ticket`` was merged into (following later merges), or ``ticket`` itself
    when it is not merged: where a reply to it belongs. One query per hop."""
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id is not None and len(seen) < MAX_MERGE_HOPS:
        seen.add(ticket.pk)
        survivor = Ticket.objects.filter(pk=ticket.merged_into_id).first()
        if survivor is None or survivor.pk in seen:
            break
        ticket = survivor
    return ticket


def merged_tickets(user: User, ticket: Ticket) -> list[Ticket]:
    """The tickets merged into ``ticket`` that ``user`` may see, oldest merge first (one query)."""
    return list(tickets_visible_to(user).filter(merged_into=ticket).order_by("merged_at", "pk"))


def tickets_by_references(user: User, references: list[str]) -> tuple[list[Ticket], list[str]]:
    """The tickets ``user`` may see among ``references`` (``INC-12``), in the order given, and the
    references matching none of them (one query)."""
    kinds = {v: k for k, v in Ticket.PREFIXES.items()}
    wanted: dict[tuple[str, int], str] = {}
    for reference in references:
        prefix, _dash, number = reference.strip().upper().partition("-")
        if prefix in kinds and number.isdigit():
            wanted[(kinds[prefix], int(number))] = reference
    query = Q(pk__in=[])
    for kind, num in wanted:
        query |= Q(kind=kind, number=num)
    found = {(t.kind, t.number): t for t in tickets_visible_to(user).filter(query)} if wanted else {}
    tickets = [found[key] for key in wanted if key in found]
    missing = [r for r in references if r not in {wanted[k] for k in found}]
    return tickets, missing


def merge_card(user: User, ticket: Ticket) -> dict[str, Any]:
    """What the ticket page says about merges: the ticket it was merged into, the tickets merged
    into it (one query, two when merged)."""
    into = tickets_visible_to(user).filter(pk=ticket.merged_into_id).first() if ticket.merged_into_id else None
    return {"merged_into": into, "merged_from": merged_tickets(user, ticket)}


def group_usage(group_id: int) -> str:
    """Why the support group ``group_id`` cannot be deleted: it still owns tickets (their history
    names it; ``GROUP_IN_USE`` of ``palier/events.py``), or ""."""
    if Ticket.objects.filter(group_id=group_id).exists():
        return _("This group still owns tickets: move them to another group first.")
    return ""


def reply_draft(user: User, ticket: Ticket) -> ReplyDraft | None:
    """``user``'s own unsent reply on ``ticket`` (one query); nobody reads another's draft."""
    return ReplyDraft.objects.filter(user_id=user.pk, ticket_id=ticket.pk).first()
