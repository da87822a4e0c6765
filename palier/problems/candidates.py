"""Problem candidates: where incidents repeat, proposed to problem managers (docs/problems.md,
"Candidates").

Within the last ``candidate_days`` days (``ProblemSettings``), counting the incidents the manager
may see, not cancelled and not yet linked to a problem:

* an asset or business service linked to at least ``candidate_incidents`` of them; a business
  service also counts the incidents on what it needs, walking the relationships up from the
  incidents' assets (a ticket linked to a server counts for the payroll service running on it);
* a category with at least ``candidate_incidents`` of them;
* a rising category: at least ``candidate_incidents`` incidents in the period, and at least
  ``rising_factor`` times as many as in the period of the same length before (every incident
  counts for the trend, linked or not; the candidate lists the ones not yet linked).

Each list is one aggregate query (GROUP BY) bounded by ``created_at`` over the last two periods
(index ``ticket_created``; ``ticket_category`` for one category), and the incidents shown under
the candidates one windowed query per list, whatever the number of candidates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, ExpressionWrapper, F, FloatField, Q, QuerySet, Subquery, Value, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import get_language

from palier.assets import permissions as asset_permissions
from palier.assets.models import Asset, AssetType, Relationship, TicketAsset
from palier.lib.errors import PermissionDenied
from palier.people.models import User
from palier.problems import permissions
from palier.problems.models import ProblemSettings
from palier.tickets import permissions as ticket_permissions
from palier.tickets.models import Category, Ticket

MAX_CANDIDATES = 20  # per list
SHOWN_INCIDENTS = 20  # under each candidate
MAX_INCIDENTS = 1000  # linked by "Create a problem with these incidents" (the services' batch limit)
SERVICE_DEPTH = 5  # levels walked up from an incident's assets to the business services
MAX_LINKS = 20_000  # ticket links read for the walk
MAX_EDGES = 20_000  # relationships read per level
ASSET, CATEGORY = "asset", "category"
TICKET_FIELDS = ("id", "number", "kind", "subject", "status", "created_at", "category_id")


@dataclass
class Candidate:
    kind: str  # ASSET or CATEGORY
    key: int  # the asset's or the category's id
    label: str
    count: int  # incidents not yet linked to a problem, in the period
    total: int = 0  # every incident of the period (categories)
    previous: int = 0  # every incident of the period before (categories)
    rising: bool = False
    service: bool = False  # a business service, counted through the relationships
    reached: list[int] = field(default_factory=list)  # a service's incidents, latest first
    incidents: list[Ticket] = field(default_factory=list)


@dataclass
class Candidates:
    settings: ProblemSettings
    since: datetime
    assets: list[Candidate] = field(default_factory=list)
    categories: list[Candidate] = field(default_factory=list)


def _incidents(user: User, since: datetime) -> QuerySet[Ticket]:
    return (
        Ticket.objects.filter(ticket_permissions.visible(user), kind=Ticket.Kind.INCIDENT, created_at__gte=since)
        .exclude(status=Ticket.Status.CANCELLED)
        .order_by()
    )


def _unlinked(user: User, since: datetime) -> QuerySet[Ticket]:
    return _incidents(user, since).filter(problem_link__isnull=True)


def _category_label(row: Mapping[str, Any]) -> str:
    french = (get_language() or "fr").startswith("fr")
    return str(row["category__name_fr"] if french else row["category__name_en"])


def category_candidates(user: User, row: ProblemSettings, now: datetime) -> list[Candidate]:
    """Repeated and rising categories, most open incidents first (one query)."""
    days = timedelta(days=row.candidate_days)
    since, before = now - days, now - 2 * days
    wanted = row.candidate_incidents
    factor = float(row.rising_factor)
    rows = (
        _incidents(user, before)
        .filter(category__isnull=False)
        .values("category_id", "category__name_en", "category__name_fr")
        .annotate(
            total=Count("id", filter=Q(created_at__gte=since)),
            previous=Count("id", filter=Q(created_at__lt=since)),
            open=Count("id", filter=Q(created_at__gte=since, problem_link__isnull=True)),
            threshold=ExpressionWrapper(F("previous") * Value(factor), output_field=FloatField()),
        )
        .filter(Q(open__gte=wanted) | Q(open__gte=1, total__gte=wanted) & Q(total__gte=F("threshold")))
        .order_by("-open", "category_id")[:MAX_CANDIDATES]
    )
    return [
        Candidate(
            kind=CATEGORY,
            key=r["category_id"],
            label=_category_label(r),
            count=r["open"],
            total=r["total"],
            previous=r["previous"],
            rising=r["total"] >= wanted and r["total"] >= r["previous"] * factor,
        )
        for r in rows
    ]


def _asset_links(user: User, since: datetime) -> QuerySet[TicketAsset]:
    """The links of the incidents counted, joined (not a subquery over every ticket or asset);
    the permission rules are added only when they narrow anything."""
    links = TicketAsset.objects.filter(
        ticket__kind=Ticket.Kind.INCIDENT, ticket__created_at__gte=since, ticket__problem_link__isnull=True
    ).exclude(ticket__status=Ticket.Status.CANCELLED)
    tickets_rule = ticket_permissions.visible(user)
    if tickets_rule:  # an empty Q: every ticket
        links = links.filter(ticket_id__in=Subquery(Ticket.objects.filter(tickets_rule).order_by().values("id")))
    assets_rule = asset_permissions.visible(user)
    if assets_rule:
        links = links.filter(asset_id__in=Subquery(Asset.objects.filter(assets_rule).order_by().values("id")))
    return links


def asset_candidates(user: User, row: ProblemSettings, now: datetime) -> list[Candidate]:
    """Assets and business services with repeated incidents, most first (one query)."""
    since = now - timedelta(days=row.candidate_days)
    rows = (
        _asset_links(user, since)
        .values("asset_id", "asset__tag", "asset__name")
        .annotate(open=Count("ticket_id", distinct=True))
        .filter(open__gte=row.candidate_incidents)
        .order_by("-open", "asset_id")[:MAX_CANDIDATES]
    )
    return [
        Candidate(kind=ASSET, key=r["asset_id"], label=f"{r['asset__tag']} {r['asset__name']}".strip(), count=r["open"])
        for r in rows
    ]


def services_reached(user: User, since: datetime) -> tuple[dict[int, set[int]], dict[int, str]]:
    """Business services above the assets of the incidents counted: for each service, the
    incidents reaching it through the relationships ("what needs this server"), walking up at
    most ``SERVICE_DEPTH`` levels, one query per level for all the incidents; and the services'
    labels. A service linked to a ticket directly counts that ticket too."""
    origin: dict[int, set[int]] = defaultdict(set)  # item -> incidents it was reached from
    for ticket_id, asset_id in _asset_links(user, since).values_list("ticket_id", "asset_id")[:MAX_LINKS]:
        origin[asset_id].add(ticket_id)
    labels: dict[int, str] = {}
    direct = Asset.objects.filter(pk__in=sorted(origin), type__family=AssetType.Family.SERVICE)
    for pk, tag, name in direct.values_list("pk", "tag", "name"):
        labels[pk] = f"{tag} {name}".strip()
    frontier = set(origin)
    for _level in range(SERVICE_DEPTH):
        if not frontier:
            break
        rows = Relationship.objects.filter(target_id__in=sorted(frontier)).values_list(
            "source_id", "target_id", "source__type__family", "source__tag", "source__name"
        )
        following: set[int] = set()
        for source_id, target_id, family, tag, name in rows[:MAX_EDGES]:
            if source_id not in origin:
                following.add(source_id)
            origin[source_id] |= origin[target_id]
            if family == AssetType.Family.SERVICE:
                labels[source_id] = f"{tag} {name}".strip()
        frontier = following
    rule = asset_permissions.visible(user)
    if rule and labels:
        allowed = set(Asset.objects.filter(rule, pk__in=sorted(labels)).values_list("pk", flat=True))
        labels = {pk: label for pk, label in labels.items() if pk in allowed}
    return {pk: origin[pk] for pk in labels}, labels


def _with_services(user: User, row: ProblemSettings, now: datetime, assets: list[Candidate]) -> list[Candidate]:
    """The direct asset candidates, with the business services counted through the
    relationships (a service's count is every incident reaching it)."""
    reached, labels = services_reached(user, now - timedelta(days=row.candidate_days))
    by_key = {c.key: c for c in assets}
    for pk, tickets in reached.items():
        if len(tickets) < row.candidate_incidents:
            continue
        candidate = by_key.get(pk)
        if candidate is None:
            candidate = by_key[pk] = Candidate(kind=ASSET, key=pk, label=labels[pk], count=0)
        candidate.count = max(candidate.count, len(tickets))
        candidate.service = True
        candidate.reached = sorted(tickets, reverse=True)
    return sorted(by_key.values(), key=lambda c: (-c.count, c.key))[:MAX_CANDIDATES]


def _attach_incidents(user: User, since: datetime, assets: list[Candidate], categories: list[Candidate]) -> None:
    """The latest ``SHOWN_INCIDENTS`` incidents of each candidate: one windowed query per list."""
    if categories:
        by_category: dict[int, list[Ticket]] = {}
        tickets = (
            _unlinked(user, since)
            .filter(category_id__in=[c.key for c in categories])
            .annotate(
                rank=Window(
                    RowNumber(), partition_by=[F("category_id")], order_by=[F("created_at").desc(), F("id").desc()]
                )
            )
            .filter(rank__lte=SHOWN_INCIDENTS)
            .only(*TICKET_FIELDS)
            .order_by("category_id", "-created_at", "-id")
        )
        for ticket in tickets:
            by_category.setdefault(ticket.category_id or 0, []).append(ticket)
        for candidate in categories:
            candidate.incidents = by_category.get(candidate.key, [])
    walked = [c for c in assets if c.reached]
    if walked:
        wanted = {pk for c in walked for pk in c.reached[:SHOWN_INCIDENTS]}
        rows = Ticket.objects.filter(pk__in=sorted(wanted)).only(*TICKET_FIELDS).in_bulk()
        for candidate in walked:
            candidate.incidents = [rows[pk] for pk in candidate.reached[:SHOWN_INCIDENTS] if pk in rows]
    assets = [c for c in assets if not c.reached]
    if assets:
        by_asset: dict[int, list[Ticket]] = {}
        links = (
            _asset_links(user, since)
            .filter(asset_id__in=[c.key for c in assets])
            .annotate(
                rank=Window(
                    RowNumber(),
                    partition_by=[F("asset_id")],
                    order_by=[F("ticket__created_at").desc(), F("ticket_id").desc()],
                )
            )
            .filter(rank__lte=SHOWN_INCIDENTS)
            .select_related("ticket")
            .only("asset_id", *(f"ticket__{name}" for name in TICKET_FIELDS))
            .order_by("asset_id", "-ticket__created_at", "-ticket_id")
        )
        for link in links:
            by_asset.setdefault(link.asset_id, []).append(link.ticket)
        for candidate in assets:
            candidate.incidents = by_asset.get(candidate.key, [])


def candidates_for(user: User, *, now: datetime | None = None) -> Candidates:
    """Every candidate the problem manager ``user`` is shown, with its latest incidents: the
    settings, two aggregates, two lists of incidents, and for the business services the ticket
    links, the services among them, one query per level walked up (at most ``SERVICE_DEPTH``)
    and the incidents reaching them; whatever the number of candidates."""
    if not permissions.is_problem_manager(user):
        raise PermissionDenied("problem managers only")
    now = now or timezone.now()
    row = ProblemSettings.current()
    since = now - timedelta(days=row.candidate_days)
    result = Candidates(
        settings=row,
        since=since,
        assets=_with_services(user, row, now, asset_candidates(user, row, now)),
        categories=category_candidates(user, row, now),
    )
    _attach_incidents(user, since, result.assets, result.categories)
    return result


@dataclass
class Seed:
    """What "Create a problem with these incidents" opens the problem with."""

    kind: str
    category: Category | None
    asset: Asset | None
    incident_ids: list[int]

    @property
    def label(self) -> str:
        if self.asset is not None:
            return f"{self.asset.tag} {self.asset.name}".strip()
        return self.category.name if self.category is not None else ""


def seed_for(user: User, kind: str, key: int, *, now: datetime | None = None) -> Seed | None:
    """The candidate ``kind``/``key`` as it stands now (never what a page posted): its unlinked
    incidents of the period, latest first, at most ``MAX_INCIDENTS``. None when it names nothing."""
    if not permissions.is_problem_manager(user):
        raise PermissionDenied("problem managers only")
    now = now or timezone.now()
    since = now - timedelta(days=ProblemSettings.current().candidate_days)
    if kind == CATEGORY:
        category = Category.objects.filter(pk=key).first()
        if category is None:
            return None
        latest = _unlinked(user, since).filter(category_id=key).order_by("-created_at", "-id")
        return Seed(
            kind=kind,
            category=category,
            asset=None,
            incident_ids=list(latest.values_list("id", flat=True)[:MAX_INCIDENTS]),
        )
    if kind == ASSET:
        asset = Asset.objects.filter(asset_permissions.visible(user), pk=key).select_related("type").first()
        if asset is None:
            return None
        links = (
            _asset_links(user, since)
            .filter(asset_id=key)
            .order_by("-ticket__created_at", "-ticket_id")
            .values_list("ticket_id", flat=True)
        )
        ids: list[int] = list(links[:MAX_INCIDENTS])
        if asset.type.family == AssetType.Family.SERVICE:
            reached, _labels = services_reached(user, since)
            ids = sorted(set(ids) | reached.get(key, set()), reverse=True)[:MAX_INCIDENTS]
        return Seed(kind=kind, category=None, asset=asset, incident_ids=ids)
    return None
