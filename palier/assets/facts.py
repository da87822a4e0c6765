"""What routing rules, automation rules and SLA policies read about a ticket's linked assets.

``facts_by_ticket(ticket_ids)`` answers for a batch of tickets with one query over their links
(type, status and location path of each asset; a path names its ancestors too),
plus, when business services are wanted, one query per level walking "up" the relationships from
the linked assets (at most ``SERVICE_DEPTH`` levels, stopping as soon as nothing is left).

A ticket being opened has no links yet: ``opening_with(assets)`` tells the rules which assets the
caller is about to link (the portal's "Which device?", a catalog item's asset question), so routing
and the SLA see them when they place the new ticket.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from palier.lib.text import normalise
from palier.tickets.models import Ticket

from .models import Asset, AssetType, Relationship, TicketAsset
from .selectors import LOCATION_SEPARATOR

SERVICE_DEPTH = 5
# lowest to highest: the highest criticality of a ticket's business services wins
CRITICALITY_ORDER = ("", *Asset.Criticality.values)
_pending: ContextVar[tuple[int, ...] | None] = ContextVar("palier_assets_pending", default=None)


@dataclass(frozen=True)
class AssetFacts:
    """Every text fact is normalised (lower case, no accents), so rules compare with ``has``."""

    types: frozenset[str] = frozenset()  # type slugs
    statuses: frozenset[str] = frozenset()
    locations: frozenset[str] = frozenset()  # each linked asset's location path and its ancestors'
    services: frozenset[str] = frozenset()  # tag and name of each business service reached
    criticality: str = ""  # the highest criticality of those services ("" when none)
    asset_ids: frozenset[int] = field(default_factory=frozenset)


EMPTY = AssetFacts()


@contextmanager
def opening_with(assets: Sequence[Asset]) -> Iterator[None]:
    """While a ticket is opened, its rules see ``assets`` as linked."""
    token = _pending.set(tuple(a.pk for a in assets))
    try:
        yield
    finally:
        _pending.reset(token)


def facts_for(ticket: Ticket, *, services: bool = True) -> AssetFacts:
    """The facts of one ticket: its links, or for an unsaved ticket the assets being linked."""
    if ticket.pk is None:
        pending = _pending.get()
        return _facts_of_assets(list(pending), services=services) if pending else EMPTY
    return facts_by_ticket([ticket.pk], services=services).get(ticket.pk, EMPTY)


def facts_by_ticket(ticket_ids: Iterable[int], *, services: bool = True) -> dict[int, AssetFacts]:
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    rows = TicketAsset.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "asset_id", "asset__type__slug", "asset__type__family", "asset__status",
        "asset__criticality", "asset__tag", "asset__name", "asset__location__path",
    )  # fmt: skip
    return _build(list(rows), services=services)


def facts_by_owner(links: Iterable[tuple[int, int]], *, services: bool = True) -> dict[int, AssetFacts]:
    """The facts of the assets of several owners (problems or changes, for automation rules) from
    their (owner id, asset id) links: one query for the assets, plus the walk up to the services."""
    pairs = sorted(set(links))
    if not pairs:
        return {}
    rows = Asset.objects.filter(pk__in={asset_id for _o, asset_id in pairs}).values_list(
        "pk", "type__slug", "type__family", "status", "criticality", "tag", "name", "location__path",
    )  # fmt: skip
    by_asset = {row[0]: row for row in rows}
    return _build(
        [(owner, *by_asset[asset_id]) for owner, asset_id in pairs if asset_id in by_asset], services=services
    )


def _facts_of_assets(asset_ids: list[int], *, services: bool) -> AssetFacts:
    rows = Asset.objects.filter(pk__in=asset_ids).values_list(
        "pk", "type__slug", "type__family", "status", "criticality", "tag", "name", "location__path",
    )  # fmt: skip
    return _build([(0, *row) for row in rows], services=services).get(0, EMPTY)


def _build(rows: list[tuple], *, services: bool) -> dict[int, AssetFacts]:  # type: ignore[type-arg]
    by_ticket: dict[int, dict[str, set]] = defaultdict(lambda: defaultdict(set))  # type: ignore[type-arg]
    service_rows: dict[int, tuple[str, str, str]] = {}
    for ticket_id, asset_id, slug, family, status, criticality, tag, name, path in rows:
        facts = by_ticket[ticket_id]
        facts["ids"].add(asset_id)
        facts["types"].add(slug)
        facts["statuses"].add(status)
        facts["locations"].update(_places(path))
        if family == AssetType.Family.SERVICE:
            service_rows[asset_id] = (tag, name, criticality)
    reached: dict[int, set[int]] = {}
    if services and by_ticket:
        reached, found = _services_above({t: f["ids"] for t, f in by_ticket.items()})
        service_rows.update(found)
    result = {}
    for ticket_id, facts in by_ticket.items():
        mine = [service_rows[i] for i in facts["ids"] | reached.get(ticket_id, set()) if i in service_rows]
        result[ticket_id] = AssetFacts(
            types=frozenset(facts["types"]),
            statuses=frozenset(facts["statuses"]),
            locations=frozenset(facts["locations"]),
            services=frozenset(normalise(text) for tag, name, _c in mine for text in (tag, name)),
            criticality=max((c for _t, _n, c in mine), key=CRITICALITY_ORDER.index, default=""),
            asset_ids=frozenset(facts["ids"]),
        )
    return result


def _services_above(
    start: dict[int, set[int]],
) -> tuple[dict[int, set[int]], dict[int, tuple[str, str, str]]]:
    """For each ticket, the items reached walking "up" (what needs its assets), one query per
    level for the whole batch; and the business services among them (tag, name, criticality)."""
    origin: dict[int, set[int]] = defaultdict(set)  # item -> tickets it was reached from
    for ticket_id, ids in start.items():
        for asset_id in ids:
            origin[asset_id].add(ticket_id)
    reached: dict[int, set[int]] = defaultdict(set)
    found: dict[int, tuple[str, str, str]] = {}
    frontier = set(origin)
    for _level in range(SERVICE_DEPTH):
        if not frontier:
            break
        rows = Relationship.objects.filter(target_id__in=sorted(frontier)).values_list(
            "source_id", "target_id", "source__type__family", "source__tag", "source__name", "source__criticality"
        )
        following: set[int] = set()
        for source_id, target_id, family, tag, name, criticality in rows[:2000]:
            tickets = origin[target_id]
            if source_id not in origin:
                following.add(source_id)
            if not tickets <= origin[source_id]:
                origin[source_id] |= tickets
            for ticket_id in tickets:
                reached[ticket_id].add(source_id)
            if family == AssetType.Family.SERVICE:
                found[source_id] = (tag, name, criticality)
        frontier = following
    return reached, found


def _places(path: str | None) -> list[str]:
    """A location's path and its ancestors' (the path's prefixes), normalised: "lyon",
    "lyon › batiment a"…, so a rule on a place matches everything under it."""
    if not path:
        return []
    names = path.split(LOCATION_SEPARATOR)
    return [normalise(LOCATION_SEPARATOR.join(names[: n + 1])) for n in range(len(names))]


def criticality_rank(value: str) -> int:
    return CRITICALITY_ORDER.index(value) if value in CRITICALITY_ORDER else 0
