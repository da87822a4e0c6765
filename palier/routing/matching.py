"""Rule matching without the database: the facts of a ticket against a compiled rule.

Rules are compiled once per process (``services.rules``) into :class:`CompiledRule`; matching a
ticket is then plain Python. Words match at the start of a word, accents and case ignored, so
``imprim`` matches "Imprimante" and ``ecran`` matches "écrans".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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


def words_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + ")")


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

    @property
    def needs_categories(self) -> bool:
        return self.category_id is not None

    def matches(self, facts: Facts) -> bool:
        checks = (
            not self.kind or self.kind == facts.kind,
            not self.channel or self.channel == facts.channel,
            self.organisation_id is None or self.organisation_id == facts.organisation_id,
            self.department_id is None or self.department_id == facts.department_id,
            self.priority is None or self.priority == facts.priority,
            not self.mailbox or self.mailbox == facts.mailbox.lower(),
            self.category_id is None or self.category_id in facts.category_ids,
        )
        if not all(checks):
            return False
        return self.pattern is None or self.pattern.search(facts.text) is not None


def first_match(rules: Iterable[CompiledRule], facts: Facts) -> CompiledRule | None:
    return next((rule for rule in rules if rule.matches(facts)), None)


def split_tags(text: str) -> tuple[str, ...]:
    return tuple(sorted({t.strip().lower()[:50] for t in re.split(r"[,\s]+", text or "") if t.strip()}))


def compile_rule(rule: RoutingRule) -> CompiledRule:
    """A rule row as a matcher (reads only its columns, so no query)."""
    return CompiledRule(
        id=rule.pk,
        name=rule.name,
        kind=rule.kind,
        category_id=rule.category_id,
        channel=rule.channel,
        organisation_id=rule.organisation_id,
        department_id=rule.department_id,
        priority=rule.priority,
        pattern=words_pattern(parse_words(rule.words)),
        mailbox=rule.mailbox.strip().lower(),
        group_id=rule.group_id or 0,
        set_category_id=rule.set_category_id,
        set_priority=rule.set_priority,
        tags=split_tags(rule.add_tags),
    )
