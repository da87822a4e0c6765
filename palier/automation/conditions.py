"""Rule conditions without the database: validated rows compiled into tests over :class:`Facts`.

A condition row is ``{"field": "priority", "op": "lte", "value": 2}``. A rule's conditions are
``{"all": [...], "any": [...]}``: every "all" row must hold, and at least one "any" row when there
are any. Text is compared accent- and case-insensitively (``imprim`` finds "Imprimante").

The operators, row validation, compilation and evaluation are ``palier.lib.matching``'s; this module
holds automation's vocabulary: the fields, their values, and how each is read from a ticket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palier.assets.facts import EMPTY as EMPTY_ASSETS
from palier.assets.facts import AssetFacts
from palier.assets.models import Asset
from palier.lib import matching
from palier.problems.facts import ProblemFacts
from palier.problems.models import Problem
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
    # the ticket's linked assets (docs/assets.md, "Rules and SLAs on assets")
    "asset_type": (gettext_lazy("Linked asset type (identifier, e.g. laptop)"), ("has", "lacks"), "text"),
    "asset_status": (gettext_lazy("Linked asset status (e.g. in_repair)"), ("has", "lacks"), "asset_status"),
    "asset_location": (
        gettext_lazy("Linked asset location (a place and everything under it)"),
        ("has", "lacks"),
        "text",
    ),
    "business_service": (gettext_lazy("Business service (tag or name)"), ("has", "lacks"), "text"),
    # the ticket's problem, major incident and changes (docs/automation.md, "Problems and changes")
    "problem": (gettext_lazy("Linked to a problem"), ("set", "unset"), "none"),
    "problem_status": (
        gettext_lazy("Problem status (e.g. known_error)"),
        ("is", "is_not"),
        "problem_status",
    ),
    "problem_workaround": (gettext_lazy("The problem has a workaround"), ("set", "unset"), "none"),
    "major_incident": (gettext_lazy("Is or is attached to a major incident"), ("set", "unset"), "none"),
    "change": (gettext_lazy("Linked to a change"), ("set", "unset"), "none"),
}

OPERATORS = matching.OPERATORS
REFERENCE_KINDS = {"category", "group", "user", "organisation"}
NO_VALUE = matching.NO_VALUE


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
    assets: AssetFacts = EMPTY_ASSETS
    problem: ProblemFacts | None = None
    major: bool = False
    changed: bool = False


def facts_for(
    ticket: Ticket,
    *,
    now: datetime,
    lineage: frozenset[int] = frozenset(),
    tags: frozenset[str] = frozenset(),
    comment: str = "",
    survey_score: int | None = None,
    texts: bool = True,
    assets: AssetFacts = EMPTY_ASSETS,
    problem: ProblemFacts | None = None,
    major: bool = False,
    changed: bool = False,
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
        assets=assets,
        problem=problem,
        major=major,
        changed=changed,
    )


# --- validation -----------------------------------------------------------------------------------------


def _choices(kind: str) -> list[str]:
    return {"status": Ticket.Status.values, "kind": Ticket.Kind.values, "channel": Ticket.Channel.values}[kind]


def _clean_value(kind: str, value: Any) -> Any:
    if kind in ("status", "kind", "channel"):
        return matching.clean_choice(value, _choices(kind))
    if kind == "asset_status":
        return matching.clean_choice(str(value or "").strip().lower(), Asset.Status.values)
    if kind == "problem_status":
        return matching.clean_choice(str(value or "").strip().lower(), Problem.Status.values)
    if kind == "priority":
        return matching.clean_number(value, within=(1, 4, _("The priority must be between 1 and 4.")))
    if kind == "score":
        return matching.clean_number(value, within=(1, 5, _("A survey score is between 1 and 5.")))
    if kind in REFERENCE_KINDS or kind == "number":
        return matching.clean_number(value)
    return matching.clean_text(value)


def clean_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A validated condition row, or ``ValueError`` with a sentence for the form."""
    return matching.clean_row(row, fields=FIELDS, clean_value=_clean_value)


def clean_conditions(conditions: Any) -> dict[str, list[dict[str, Any]]]:
    return matching.clean_conditions(conditions, clean_row=clean_row)


def references(conditions: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(reference kind, id) of every group, user, category and organisation the conditions name."""
    return matching.references(conditions, fields=FIELDS, kinds=REFERENCE_KINDS)


# --- compiled tests -------------------------------------------------------------------------------------

Test = matching.Test[Facts]
Matcher = matching.Matcher[Facts]
TEXTS = ("subject", "description", "comment", "text")


def _hours(since: datetime, now: datetime) -> float:
    return (now - since).total_seconds() / 3600


# how each field is read from the facts
_READERS: dict[str, Callable[[Facts], Any]] = {
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
    "tags": lambda f: f.tags,
    "subject": lambda f: f.subject,
    "description": lambda f: f.description,
    "comment": lambda f: f.comment,
    "text": lambda f: f"{f.subject}\n{f.description}\n{f.comment}",
    "asset_type": lambda f: f.assets.types,
    "asset_status": lambda f: f.assets.statuses,
    "asset_location": lambda f: f.assets.locations,
    "business_service": lambda f: f.assets.services,
    "problem": lambda f: f.problem.reference if f.problem else None,
    "problem_status": lambda f: f.problem.status if f.problem else None,
    "problem_workaround": lambda f: True if f.problem and f.problem.has_workaround else None,
    "major_incident": lambda f: True if f.major else None,
    "change": lambda f: True if f.changed else None,
}
ASSET_TEXTS = ("asset_location", "business_service")


def compile_row(row: Mapping[str, Any]) -> Test:
    name, op, value = row["field"], row["op"], row.get("value")
    if name in TEXTS or name in ASSET_TEXTS:
        value = normalise(str(value))
    return matching.condition(op, value, _READERS[name])


# what the engine must load into the facts for a row on each field
_NEEDS: dict[str, frozenset[str]] = {
    "subject": frozenset({"texts"}),
    "description": frozenset({"texts"}),
    "text": frozenset({"texts", "comment"}),
    "comment": frozenset({"comment"}),
    "tags": frozenset({"tags"}),
    "category": frozenset({"categories"}),
    "survey_score": frozenset({"survey"}),
    "asset_type": frozenset({"assets"}),
    "asset_status": frozenset({"assets"}),
    "asset_location": frozenset({"assets"}),
    "business_service": frozenset({"assets", "asset_services"}),
    "problem": frozenset({"problems"}),
    "problem_status": frozenset({"problems"}),
    "problem_workaround": frozenset({"problems"}),
    "major_incident": frozenset({"major"}),
    "change": frozenset({"changes"}),
}


def compile_conditions(conditions: Mapping[str, Any]) -> Matcher:
    rows = [*(conditions.get("all") or []), *(conditions.get("any") or [])]
    needs = frozenset().union(*(_NEEDS.get(row.get("field"), frozenset()) for row in rows))
    return matching.compile_conditions(conditions, compile_row=compile_row, needs=needs)
