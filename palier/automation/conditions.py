"""Rule conditions without the database: validated rows compiled into tests over :class:`Facts`.

A condition row is ``{"field": "priority", "op": "lte", "value": 2}``. A rule's conditions are
``{"all": [...], "any": [...]}``: every "all" row must hold, and at least one "any" row when there
are any. Text is compared accent- and case-insensitively (``imprim`` finds "Imprimante").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palier.tickets.models import Ticket
from palier.tickets.search import normalise

# field -> (label, operators, value kind); value kinds: choice lists, reference kinds, text, number
FIELDS: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "status": (gettext_lazy("Status"), ("is", "is_not"), "status"),
    "priority": (gettext_lazy("Priority"), ("is", "is_not", "lte", "gte"), "priority"),
    "kind": (gettext_lazy("Type"), ("is", "is_not"), "kind"),
    "category": (gettext_lazy("Category"), ("under", "not_under", "set", "unset"), "category"),
    "group": (gettext_lazy("Group"), ("is", "is_not", "set", "unset"), "group"),
    "assignee": (gettext_lazy("Assignee"), ("is", "is_not", "set", "unset"), "user"),
    "channel": (gettext_lazy("Channel"), ("is", "is_not"), "channel"),
    "organisation": (gettext_lazy("Organisation"), ("is", "is_not", "set", "unset"), "organisation"),
    "tags": (gettext_lazy("Tags"), ("has", "lacks"), "text"),
    "subject": (gettext_lazy("Subject"), ("contains", "not_contains"), "text"),
    "description": (gettext_lazy("Description"), ("contains", "not_contains"), "text"),
    "comment": (gettext_lazy("Comment"), ("contains", "not_contains"), "text"),
    "text": (gettext_lazy("Subject, description or comment"), ("contains", "not_contains"), "text"),
    "hours_open": (gettext_lazy("Hours since creation"), ("gte", "lte"), "number"),
    "hours_idle": (gettext_lazy("Hours since the last change"), ("gte", "lte"), "number"),
    "survey_score": (gettext_lazy("Survey score"), ("lte", "gte", "is"), "score"),
}

OPERATORS: dict[str, Any] = {
    "is": gettext_lazy("is"),
    "is_not": gettext_lazy("is not"),
    "lte": gettext_lazy("at most"),
    "gte": gettext_lazy("at least"),
    "under": gettext_lazy("is or is under"),
    "not_under": gettext_lazy("is not and is not under"),
    "set": gettext_lazy("is set"),
    "unset": gettext_lazy("is empty"),
    "has": gettext_lazy("includes"),
    "lacks": gettext_lazy("does not include"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
}

REFERENCE_KINDS = {"category", "group", "user", "organisation"}
NO_VALUE = {"set", "unset"}


@dataclass(frozen=True)
class Facts:
    """What conditions look at: one ticket (and the event that triggered the rule)."""

    status: str
    priority: int
    kind: str
    category_ids: frozenset[int]  # the ticket's category and its ancestors
    group_id: int | None
    assignee_id: int | None
    channel: str
    organisation_id: int | None
    created_at: datetime
    updated_at: datetime
    now: datetime
    subject: str = ""  # normalised
    description: str = ""  # normalised
    comment: str = ""  # normalised
    tags: frozenset[str] = field(default_factory=frozenset)
    survey_score: int | None = None


def facts_for(
    ticket: Ticket,
    *,
    now: datetime,
    lineage: frozenset[int] = frozenset(),
    tags: frozenset[str] = frozenset(),
    comment: str = "",
    survey_score: int | None = None,
    texts: bool = True,
) -> Facts:
    return Facts(
        status=ticket.status,
        priority=ticket.priority,
        kind=ticket.kind,
        category_ids=lineage,
        group_id=ticket.group_id,
        assignee_id=ticket.assignee_id,
        channel=ticket.channel,
        organisation_id=ticket.organisation_id,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        now=now,
        subject=normalise(ticket.subject) if texts else "",
        description=normalise(ticket.description) if texts else "",
        comment=normalise(comment),
        tags=tags,
        survey_score=survey_score,
    )


# --- validation -----------------------------------------------------------------------------------------


def _clean_value(kind: str, op: str, value: Any) -> Any:
    if op in NO_VALUE:
        return None
    if kind in ("status", "kind", "channel"):
        choices = {"status": Ticket.Status.values, "kind": Ticket.Kind.values, "channel": Ticket.Channel.values}[kind]
        if value not in choices:
            raise ValueError(_("Choose a value from the list."))
        return value
    if kind in REFERENCE_KINDS or kind in ("priority", "number", "score"):
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(_("Enter a whole number.")) from None
        if kind == "priority" and not 1 <= number <= 4:
            raise ValueError(_("The priority must be between 1 and 4."))
        if kind == "score" and not 1 <= number <= 5:
            raise ValueError(_("A survey score is between 1 and 5."))
        if number < 0:
            raise ValueError(_("Enter a positive number."))
        return number
    text = str(value or "").strip()
    if not text:
        raise ValueError(_("Enter the text to look for."))
    if len(text) > 200:
        raise ValueError(_("At most %(n)d characters.") % {"n": 200})
    return text


def clean_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A validated condition row, or ``ValueError`` with a sentence for the form."""
    name = row.get("field")
    if name not in FIELDS:
        raise ValueError(_("Choose a field."))
    _label, operators, kind = FIELDS[str(name)]
    op = row.get("op")
    if op not in operators:
        raise ValueError(_("This comparison does not apply to this field."))
    return {"field": name, "op": op, "value": _clean_value(kind, str(op), row.get("value"))}


def clean_conditions(conditions: Any) -> dict[str, list[dict[str, Any]]]:
    if not isinstance(conditions, Mapping):
        conditions = {}
    cleaned: dict[str, list[dict[str, Any]]] = {"all": [], "any": []}
    for part in ("all", "any"):
        for index, row in enumerate(conditions.get(part) or []):
            try:
                cleaned[part].append(clean_row(row if isinstance(row, Mapping) else {}))
            except ValueError as exc:
                message = _("Condition %(n)d: %(error)s") % {"n": index + 1, "error": exc}
                raise ValidationError({"conditions": message}) from None
    return cleaned


def references(conditions: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(reference kind, id) of every group, user, category and organisation the conditions name."""
    found: list[tuple[str, int]] = []
    for part in ("all", "any"):
        for row in conditions.get(part) or []:
            kind = FIELDS.get(row.get("field"), ("", (), ""))[2]
            if kind in REFERENCE_KINDS and row.get("value") is not None:
                found.append((kind, int(row["value"])))
    return found


# --- compiled tests -------------------------------------------------------------------------------------

Test = Callable[[Facts], bool]


def _hours(since: datetime, now: datetime) -> float:
    return (now - since).total_seconds() / 3600


def _scalar(name: str, facts: Facts) -> Any:
    getters: dict[str, Callable[[Facts], Any]] = {
        "status": lambda f: f.status,
        "priority": lambda f: f.priority,
        "kind": lambda f: f.kind,
        "group": lambda f: f.group_id,
        "assignee": lambda f: f.assignee_id,
        "channel": lambda f: f.channel,
        "organisation": lambda f: f.organisation_id,
        "survey_score": lambda f: f.survey_score,
        "hours_open": lambda f: _hours(f.created_at, f.now),
        "hours_idle": lambda f: _hours(f.updated_at, f.now),
        "category": lambda f: f.category_ids or None,
    }
    return getters[name](facts)


def _text_of(name: str, facts: Facts) -> str:
    if name == "text":
        return f"{facts.subject}\n{facts.description}\n{facts.comment}"
    return str(getattr(facts, name))


def _compare(op: str, actual: Any, value: Any) -> bool:
    if op == "set":
        return actual is not None
    if op == "unset":
        return actual is None
    if op == "is":
        return bool(actual == value)
    if op == "is_not":
        return bool(actual != value)
    if actual is None:
        return False
    if op == "lte":
        return bool(actual <= value)
    if op == "gte":
        return bool(actual >= value)
    return False


def compile_row(row: Mapping[str, Any]) -> Test:
    name, op, value = row["field"], row["op"], row.get("value")
    if name in ("subject", "description", "comment", "text"):
        needle = normalise(str(value))
        negate = op == "not_contains"
        return lambda f: (needle in _text_of(name, f)) != negate
    if name == "tags":
        tag = str(value).strip().lower()
        return (lambda f: tag in f.tags) if op == "has" else (lambda f: tag not in f.tags)
    if op in ("under", "not_under"):
        category = int(value) if value is not None else 0
        negate = op == "not_under"
        return lambda f: (category in f.category_ids) != negate
    return lambda f: _compare(op, _scalar(name, f), value)


@dataclass(frozen=True)
class Matcher:
    all: tuple[Test, ...]
    any: tuple[Test, ...]
    needs: frozenset[str]  # "texts", "comment", "tags", "categories", "survey"

    def __call__(self, facts: Facts) -> bool:
        if not all(test(facts) for test in self.all):
            return False
        return not self.any or any(test(facts) for test in self.any)


def compile_conditions(conditions: Mapping[str, Any]) -> Matcher:
    rows = {part: list(conditions.get(part) or []) for part in ("all", "any")}
    needs: set[str] = set()
    for row in rows["all"] + rows["any"]:
        name = row.get("field")
        if name in ("subject", "description", "text"):
            needs.add("texts")
        if name in ("comment", "text"):
            needs.add("comment")
        if name == "tags":
            needs.add("tags")
        if name == "category":
            needs.add("categories")
        if name == "survey_score":
            needs.add("survey")
    return Matcher(
        all=tuple(compile_row(row) for row in rows["all"]),
        any=tuple(compile_row(row) for row in rows["any"]),
        needs=frozenset(needs),
    )
