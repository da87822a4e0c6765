"""Rule matching without the database: the facts of a ticket against a compiled rule.

Rules are compiled once per process (``services.rules``) into :class:`CompiledRule`; matching a
ticket is then plain Python. Words match at the start of a word, accents and case ignored, so
``imprim`` matches "Imprimante" and ``ecran`` matches "écrans".

The tests and their evaluation are ``palier.lib.matching``'s: a rule's filled-in columns become
conditions that must all hold. This module holds routing's vocabulary: the facts and the columns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from palier.assets.facts import EMPTY as EMPTY_ASSETS
from palier.assets.facts import AssetFacts
from palier.lib import matching
from palier.tickets.search import normalise

if TYPE_CHECKING:
    from palier.routing.models import RoutingRule

_SPLIT = re.compile(r"[,;\n\r]+")


def parse_words(text: str) -> tuple[str, ...]:
    """The words of a rule's ``words`` field: split on commas, semicolons and lines, normalised."""
    seen: dict[str, None] = {}
    for part in _SPLIT.split(text or ""):
        word = " ".join(normalise(part).split())
        if word:
            seen.setdefault(word, None)
    return tuple(seen)


words_pattern = matching.words_pattern


@dataclass(frozen=True)
class Facts:
    """What rules look at, read from the unsaved or saved ticket."""

    kind: str
    category_ids: frozenset[int]  # the ticket's category and its ancestors
    channel: str
    organisation_id: int | None
    department_id: int | None
    priority: int
    text: str  # normalised subject + description
    mailbox: str = ""
    assets: AssetFacts = EMPTY_ASSETS  # read only when a rule looks at assets


@dataclass(frozen=True)
class CompiledRule:
    id: int
    name: str
    kind: str
    category_id: int | None
    channel: str
    organisation_id: int | None
    department_id: int | None
    priority: int | None
    pattern: re.Pattern[str] | None
    mailbox: str
    group_id: int
    set_category_id: int | None
    set_priority: int | None
    tags: tuple[str, ...]
    matcher: matching.Matcher[Facts]
    asset_type: str = ""
    asset_status: str = ""
    asset_location: str = ""
    business_service: str = ""

    @property
    def needs_categories(self) -> bool:
        return self.category_id is not None

    @property
    def needs_assets(self) -> bool:
        return bool(self.asset_type or self.asset_status or self.asset_location or self.business_service)

    @property
    def needs_services(self) -> bool:
        return bool(self.business_service)

    def matches(self, facts: Facts) -> bool:
        return self.matcher(facts)


def first_match(rules: Iterable[CompiledRule], facts: Facts) -> CompiledRule | None:
    return next((rule for rule in rules if rule.matches(facts)), None)


def split_tags(text: str) -> tuple[str, ...]:
    return tuple(sorted({t.strip().lower()[:50] for t in re.split(r"[,\s]+", text or "") if t.strip()}))


# a rule's column -> (the operator, how the fact is read); an empty column matches every ticket
_COLUMNS: dict[str, tuple[str, Callable[[Facts], Any]]] = {
    "kind": ("is", lambda f: f.kind),
    "channel": ("is", lambda f: f.channel),
    "organisation_id": ("is", lambda f: f.organisation_id),
    "department_id": ("is", lambda f: f.department_id),
    "priority": ("is", lambda f: f.priority),
    "mailbox": ("is", lambda f: f.mailbox.lower()),
    "category_id": ("under", lambda f: f.category_ids),
    "pattern": ("words", lambda f: f.text),
    "asset_type": ("has", lambda f: f.assets.types),
    "asset_status": ("has", lambda f: f.assets.statuses),
    "asset_location": ("has", lambda f: f.assets.locations),
    "business_service": ("has", lambda f: f.assets.services),
}


def _matcher(columns: dict[str, Any]) -> matching.Matcher[Facts]:
    tests = [
        matching.condition(op, columns[name], read)
        for name, (op, read) in _COLUMNS.items()
        if columns[name] is not None and columns[name] != ""
    ]
    return matching.Matcher(all=tuple(tests))


def compile_rule(rule: RoutingRule) -> CompiledRule:
    """A rule row as a matcher (reads only its columns, so no query)."""
    columns: dict[str, Any] = {
        "kind": rule.kind,
        "channel": rule.channel,
        "organisation_id": rule.organisation_id,
        "department_id": rule.department_id,
        "priority": rule.priority,
        "mailbox": rule.mailbox.strip().lower(),
        "category_id": rule.category_id,
        "pattern": words_pattern(parse_words(rule.words)),
        # normalised like the facts (``has`` lower-cases the value)
        "asset_type": rule.asset_type.strip().lower(),
        "asset_status": rule.asset_status.strip().lower(),
        "asset_location": normalise(rule.asset_location.strip()),
        "business_service": normalise(rule.business_service.strip()),
    }
    return CompiledRule(
        id=rule.pk,
        name=rule.name,
        group_id=rule.group_id or 0,
        set_category_id=rule.set_category_id,
        set_priority=rule.set_priority,
        tags=split_tags(rule.add_tags),
        matcher=_matcher(columns),
        **columns,
    )
