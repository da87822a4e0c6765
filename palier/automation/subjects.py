"""Rules on problems and changes without the database: each subject's triggers, condition fields
(compiled by ``palier.lib.matching``, like ticket rules), facts and actions, and their validation.

A ticket rule's vocabulary is ``conditions.py`` and ``actions.py``; a rule whose ``subject`` is
``problem`` or ``change`` uses this module's instead. Every check here answers with a sentence for
the form (``ValueError``), naming what is wrong: a trigger, a field or an action of another
subject, a status the subject does not have, an approval.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palier.assets.facts import EMPTY as EMPTY_ASSETS
from palier.assets.facts import AssetFacts
from palier.automation import actions as ticket_actions
from palier.automation import conditions as ticket_conditions
from palier.automation.models import Rule
from palier.changes.models import RISK_ORDER, Change, Risk
from palier.lib import matching
from palier.lib.text import normalise
from palier.problems.models import Problem

S = Rule.Subject
T = Rule.Trigger

# --- triggers -------------------------------------------------------------------------------------------

TRIGGERS: dict[str, tuple[str, ...]] = {
    S.TICKET: (
        T.CREATED, T.UPDATED, T.REQUESTER_COMMENT, T.AGENT_COMMENT, T.SLA_WARNING, T.SLA_BREACH, T.SURVEY, T.TIMER,
    ),
    S.PROBLEM: (T.PROBLEM_CREATED, T.PROBLEM_STATUS, T.PROBLEM_INCIDENTS, T.PROBLEM_KNOWN_ERROR, T.PROBLEM_RESOLVED),
    S.CHANGE: (T.CHANGE_CREATED, T.CHANGE_STATUS, T.CHANGE_APPROVAL, T.CHANGE_FREEZE, T.CHANGE_START_SOON),
}  # fmt: skip
# "status changed" triggers: the statuses a rule may wait for
STATUS_TRIGGERS: dict[str, tuple[str, ...]] = {
    T.PROBLEM_STATUS: tuple(Problem.Status.values),
    T.CHANGE_STATUS: tuple(Change.Status.values),
}


def subject_of(trigger: str) -> str:
    return next((subject for subject, triggers in TRIGGERS.items() if trigger in triggers), "")


def subject_label(subject: str) -> str:
    return str(S(subject).label).lower() if subject in S.values else subject


def problem_trigger(kind: str, data: Mapping[str, Any]) -> tuple[str, ...]:
    """The triggers a ``ProblemEvent`` of ``kind`` fires (its status event may fire two: "status
    changed" and "known error published" or "resolved")."""
    if kind == "created":
        return (T.PROBLEM_CREATED,)
    if kind == "incident_linked":
        return (T.PROBLEM_INCIDENTS,)
    if kind == "status":
        to = _new_status(data)
        extra: dict[str, str] = {
            Problem.Status.KNOWN_ERROR: T.PROBLEM_KNOWN_ERROR,
            Problem.Status.RESOLVED: T.PROBLEM_RESOLVED,
        }
        return (T.PROBLEM_STATUS, extra[to]) if to in extra else (T.PROBLEM_STATUS,)
    return ()


def change_trigger(kind: str, data: Mapping[str, Any]) -> tuple[str, ...]:
    """The triggers a ``ChangeEvent`` of ``kind`` fires: a status event scheduled in a freeze
    (the history records the freezes' names) also fires "scheduled in a freeze"; an approval
    event fires only when a person approved or rejected (not when approvers are asked)."""
    if kind == "created":
        return (T.CHANGE_CREATED,)
    if kind == "status":
        return (T.CHANGE_STATUS, T.CHANGE_FREEZE) if data.get("freeze") else (T.CHANGE_STATUS,)
    if kind == "approval" and data.get("decision") in DECISIONS:
        return (T.CHANGE_APPROVAL,)
    return ()


def _new_status(data: Mapping[str, Any]) -> str:
    status = data.get("status")
    if isinstance(status, list | tuple) and len(status) == 2:
        return str(status[1])
    return ""


def status_reached(data: Mapping[str, Any]) -> str:
    return _new_status(data)


# --- facts ----------------------------------------------------------------------------------------------

DECISIONS = ("approved", "rejected")


@dataclass(frozen=True)
class RecordFacts:
    """What conditions look at: one problem or one change, with the event that fired the rule."""

    status: str
    now: datetime
    group_id: int | None = None
    assignee_id: int | None = None  # a problem's owner, a change's implementer
    title: str = ""  # normalised
    category_ids: frozenset[int] = frozenset()
    priority: int | None = None
    has_workaround: bool = False
    incidents: int = 0
    incidents_before: int | None = None  # before the link that fired the rule (incident triggers)
    kind: str = ""
    risk: str = ""
    outcome: str = ""
    decision: str = ""  # the approval decided (approval trigger)
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    assets: AssetFacts = field(default=EMPTY_ASSETS)


def _hours(start: datetime | None, now: datetime) -> float | None:
    return None if start is None else (start - now).total_seconds() / 3600


def _risk_rank(value: Any) -> int:
    return RISK_ORDER.index(value) if value in RISK_ORDER else -1


ASSET_FIELDS: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "asset_type": (gettext_lazy("Affected asset type (identifier, e.g. server)"), ("has", "lacks"), "text"),
    "asset_location": (
        gettext_lazy("Affected asset location (a place and everything under it)"), ("has", "lacks"), "text",
    ),
    "business_service": (gettext_lazy("Affected business service (tag or name)"), ("has", "lacks"), "text"),
}  # fmt: skip

PROBLEM_FIELDS: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "status": (gettext_lazy("Status"), ("is", "is_not"), "problem_status"),
    "priority": (gettext_lazy("Priority"), ("is", "is_not", "lte", "gte"), "priority"),
    "category": (gettext_lazy("Category"), ("under", "not_under", "set", "unset"), "category"),
    "group": (gettext_lazy("Group"), ("is", "is_not", "set", "unset"), "group"),
    "assignee": (gettext_lazy("Owner"), ("is", "is_not", "set", "unset"), "user"),
    "workaround": (gettext_lazy("Has a workaround"), ("set", "unset"), "none"),
    "incidents": (gettext_lazy("Number of linked incidents"), ("gte", "lte", "reaches"), "number"),
    "title": (gettext_lazy("Title"), ("contains", "not_contains"), "text"),
    **ASSET_FIELDS,
}
CHANGE_FIELDS: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "status": (gettext_lazy("Status"), ("is", "is_not"), "change_status"),
    "kind": (gettext_lazy("Type (standard, normal, emergency)"), ("is", "is_not"), "change_kind"),
    "risk": (gettext_lazy("Risk level"), ("is", "is_not", "lte", "gte"), "risk"),
    "outcome": (gettext_lazy("Outcome (closed changes)"), ("is", "is_not", "set", "unset"), "outcome"),
    "decision": (gettext_lazy("Approval decision (approval trigger)"), ("is", "is_not"), "decision"),
    "group": (gettext_lazy("Group"), ("is", "is_not", "set", "unset"), "group"),
    "assignee": (gettext_lazy("Implementer"), ("is", "is_not", "set", "unset"), "user"),
    "planned_start": (gettext_lazy("Planned start"), ("set", "unset"), "none"),
    "hours_to_start": (gettext_lazy("Hours until the planned start"), ("lte", "gte"), "number"),
    "hours_to_end": (gettext_lazy("Hours until the planned end"), ("lte", "gte"), "number"),
    "title": (gettext_lazy("Title"), ("contains", "not_contains"), "text"),
    **ASSET_FIELDS,
}
FIELDS: dict[str, Mapping[str, tuple[Any, tuple[str, ...], str]]] = {
    S.TICKET: ticket_conditions.FIELDS,
    S.PROBLEM: PROBLEM_FIELDS,
    S.CHANGE: CHANGE_FIELDS,
}

_READERS: dict[str, Callable[[RecordFacts], Any]] = {
    "status": lambda f: f.status,
    "priority": lambda f: f.priority,
    "category": lambda f: f.category_ids or None,
    "group": lambda f: f.group_id,
    "assignee": lambda f: f.assignee_id,
    "workaround": lambda f: True if f.has_workaround else None,
    "incidents": lambda f: f.incidents,
    "title": lambda f: f.title,
    "kind": lambda f: f.kind,
    "risk": lambda f: _risk_rank(f.risk),
    "outcome": lambda f: f.outcome or None,
    "decision": lambda f: f.decision,
    "planned_start": lambda f: f.planned_start,
    "hours_to_start": lambda f: _hours(f.planned_start, f.now),
    "hours_to_end": lambda f: _hours(f.planned_end, f.now),
    "asset_type": lambda f: f.assets.types,
    "asset_location": lambda f: f.assets.locations,
    "business_service": lambda f: f.assets.services,
}
_CHOICES: dict[str, Callable[[], Sequence[str]]] = {
    "problem_status": lambda: Problem.Status.values,
    "change_status": lambda: Change.Status.values,
    "change_kind": lambda: Change.Kind.values,
    "risk": lambda: Risk.values,
    "outcome": lambda: Change.Outcome.values,
    "decision": lambda: DECISIONS,
}
REFERENCE_KINDS = {"category", "group", "user"}
# what the handler must load for a row on each field
_NEEDS: dict[str, frozenset[str]] = {
    "asset_type": frozenset({"assets"}),
    "asset_location": frozenset({"assets"}),
    "business_service": frozenset({"assets", "asset_services"}),
    "category": frozenset({"categories"}),
    "incidents": frozenset({"incidents"}),
}

Test = matching.Test[RecordFacts]
Matcher = matching.Matcher[RecordFacts]


def _clean_value(kind: str, value: Any) -> Any:
    if kind in _CHOICES:
        return matching.clean_choice(str(value or "").strip().lower(), _CHOICES[kind]())
    if kind == "priority":
        return matching.clean_number(value, within=(1, 4, _("The priority must be between 1 and 4.")))
    if kind in REFERENCE_KINDS or kind == "number":
        return matching.clean_number(value)
    return matching.clean_text(value)


def clean_row(subject: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A validated condition row of ``subject``, or ``ValueError``: a field of another subject is
    named as such."""
    name = row.get("field")
    fields = FIELDS[subject]
    if name and name not in fields:
        owners = [other for other, vocabulary in FIELDS.items() if other != subject and name in vocabulary]
        if owners:
            raise ValueError(
                _("“%(field)s” is a field of %(other)s, not of %(subject)s.")
                % {
                    "field": FIELDS[owners[0]][name][0],
                    "other": subject_label(owners[0]),
                    "subject": subject_label(subject),
                }
            )
    if subject == S.TICKET:
        return ticket_conditions.clean_row(row)
    return matching.clean_row(row, fields=fields, clean_value=_clean_value)


def clean_conditions(subject: str, conditions: Any) -> dict[str, list[dict[str, Any]]]:
    return matching.clean_conditions(conditions, clean_row=lambda row: clean_row(subject, row))


def references(subject: str, conditions: Mapping[str, Any]) -> list[tuple[str, int]]:
    if subject == S.TICKET:
        return ticket_conditions.references(conditions)
    return matching.references(conditions, fields=FIELDS[subject], kinds=REFERENCE_KINDS)


def compile_row(row: Mapping[str, Any]) -> Test:
    name, op, value = row["field"], row["op"], row.get("value")
    if name in ("title", "asset_location", "business_service"):
        value = normalise(str(value))
    if name == "risk" and value is not None:
        value = _risk_rank(value)
    if op == "reaches":
        return matching.condition(op, value, lambda f: (f.incidents_before, f.incidents))
    return matching.condition(op, value, _READERS[name])


def compile_conditions(conditions: Mapping[str, Any]) -> Matcher:
    rows = [*(conditions.get("all") or []), *(conditions.get("any") or [])]
    needs = frozenset().union(*(_NEEDS.get(row.get("field"), frozenset()) for row in rows))
    return matching.compile_conditions(conditions, compile_row=compile_row, needs=needs)


# --- actions --------------------------------------------------------------------------------------------

PROBLEM_ACTIONS: dict[str, Any] = {
    "set_group": gettext_lazy("Assign to a group"),
    "set_assignee": gettext_lazy("Give to an owner (agent)"),
    "set_priority": gettext_lazy("Set the priority"),
    "note": gettext_lazy("Add an internal comment"),
    "notify": gettext_lazy("Notify a group or a person"),
    "webhook": gettext_lazy("Call a webhook"),
}
CHANGE_ACTIONS: dict[str, Any] = {
    "set_group": gettext_lazy("Assign to a group"),
    "set_assignee": gettext_lazy("Give to an implementer (agent)"),
    "set_status": gettext_lazy("Move the change to a status"),
    "note": gettext_lazy("Add a comment"),
    "notify": gettext_lazy("Notify a group or a person"),
    "webhook": gettext_lazy("Call a webhook"),
}
ACTIONS: dict[str, Mapping[str, Any]] = {
    S.TICKET: ticket_actions.ACTIONS,
    S.PROBLEM: PROBLEM_ACTIONS,
    S.CHANGE: CHANGE_ACTIONS,
}
# the statuses a rule may move a change to: never approved or rejected (the board decides), never
# closed (closing records an outcome somebody must give)
CHANGE_MOVES: tuple[str, ...] = (
    Change.Status.DRAFT,
    Change.Status.ASSESSMENT,
    Change.Status.AWAITING_APPROVAL,
    Change.Status.SCHEDULED,
    Change.Status.IMPLEMENTING,
    Change.Status.REVIEW,
)
APPROVAL_WORDS = frozenset({"approve", "reject", "approval", "decide", "set_approval"})
NOTIFY_TO: dict[str, Any] = {
    "group": gettext_lazy("the members of a group"),
    "user": gettext_lazy("an agent"),
    "owner": gettext_lazy("the owner or implementer"),
    "owner_group": gettext_lazy("the members of its group"),
}
PLACEHOLDERS = ("reference", "title", "status", "priority", "group", "assignee", "link", "rule")


def approval_refused() -> str:
    return _("Approvals are people's decisions: a rule cannot approve or reject a change.")


def _reference(action: Mapping[str, Any]) -> int:
    try:
        value = int(action.get("value") or 0)
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise ValueError(_("Choose a value from the list."))
    return value


def clean_action(subject: str, action: Mapping[str, Any]) -> dict[str, Any]:  # noqa: C901  (one branch per type)
    """A validated action of ``subject``, or ``ValueError`` with a sentence for the form."""
    kind = str(action.get("type") or "")
    if kind in APPROVAL_WORDS:
        raise ValueError(approval_refused())
    if subject == S.TICKET and kind in ticket_actions.ACTIONS:
        return ticket_actions.clean_action(action)
    if kind not in ACTIONS[subject]:
        if any(kind in actions for actions in ACTIONS.values()):
            raise ValueError(_("This action does not apply to %(subject)s.") % {"subject": subject_label(subject)})
        raise ValueError(_("Choose an action."))
    if kind == "set_status":
        value = str(action.get("value") or "")
        if value in (Change.Status.APPROVED, Change.Status.REJECTED):
            raise ValueError(approval_refused())
        if value not in CHANGE_MOVES:
            raise ValueError(_("Choose a status a rule may move a change to."))
        return {"type": kind, "value": value}
    if kind == "set_priority":
        if str(action.get("value")) not in ("1", "2", "3", "4"):
            raise ValueError(_("The priority must be between 1 and 4."))
        return {"type": kind, "value": int(str(action["value"]))}
    if kind in ("set_group", "set_assignee"):
        return {"type": kind, "value": _reference(action)}
    if kind == "note":
        return {"type": kind, "text": ticket_actions.text_param(action, "text", required=True, known=PLACEHOLDERS)}
    if kind == "notify":
        to = str(action.get("to") or "")
        if to not in NOTIFY_TO:
            raise ValueError(_("Choose who is notified."))
        cleaned: dict[str, Any] = {"type": kind, "to": to}
        if to in ("group", "user"):
            cleaned["value"] = _reference(action)
        cleaned["text"] = ticket_actions.text_param(action, "text", required=True, maximum=2000, known=PLACEHOLDERS)
        return cleaned
    return {"type": kind, "url": ticket_actions.clean_url(action)}


def clean_actions(subject: str, actions: Any) -> list[dict[str, Any]]:
    from django.core.exceptions import ValidationError

    if not isinstance(actions, list) or not actions:
        raise ValidationError({"actions": _("Add at least one action.")})
    cleaned = []
    for index, action in enumerate(actions):
        try:
            cleaned.append(clean_action(subject, action if isinstance(action, Mapping) else {}))
        except ValueError as exc:
            raise ValidationError({"actions": _("Action %(n)d: %(error)s") % {"n": index + 1, "error": exc}}) from None
    return cleaned


def action_references(subject: str, actions: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(reference kind, id) of every group and agent the actions name."""
    if subject == S.TICKET:
        return ticket_actions.references(actions)
    found: list[tuple[str, int]] = []
    for action in actions:
        kind = action.get("type")
        if kind == "set_group" or (kind == "notify" and action.get("to") == "group"):
            found.append(("group", int(action["value"])))
        elif kind == "set_assignee" or (kind == "notify" and action.get("to") == "user"):
            found.append(("user", int(action["value"])))
    return found
