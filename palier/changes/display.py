"""A change's history as sentences for its page: "Ada changed the status: Draft → Assessment".
Pure: events in, lines out, no database (the caller loads the events with their actors).
Approval events (written by the board's approvals) carry ``stage``, ``decision``, ``approver``
and ``comment``; they are shown from those keys, whatever the stage."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from palier.tickets.models import Level

from .models import Change, ChangeEvent, ChangeProblem, ChangeTicket, Risk
from .selectors import TimelineItem

EMPTY = "—"
E = ChangeEvent.Kind


@dataclass(frozen=True)
class Line:
    at: datetime
    actor: str
    summary: str
    details: list[str] = field(default_factory=list)
    comment: str = ""
    kind: str = ""


def _label(choices: Any, value: Any) -> str:
    return str(choices(value).label) if value in choices.values else str(value or EMPTY)


def field_label(name: str) -> str:
    try:
        return capfirst(str(getattr(Change._meta.get_field(name), "verbose_name", name)))
    except FieldDoesNotExist:
        return name


def _value(name: str, value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if name == "impact":
        return _label(Level, value)
    if name in ("planned_start", "planned_end") and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
            return str(formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT"))
        except ValueError:
            return value
    text = str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _decision(value: Any) -> str:
    labels = {
        "approved": _("approved"),
        "approve": _("approved"),
        "rejected": _("rejected"),
        "reject": _("rejected"),
        "pending": _("asked for a decision"),
        "delegated": _("delegated"),
        "reminded": _("reminded the approvers"),
    }
    return labels.get(str(value or ""), str(value or EMPTY))


def summary(kind: str, data: dict[str, Any]) -> tuple[str, list[str]]:  # noqa: C901 (one branch per kind)
    """The sentence after the actor's name, and its details."""
    details: list[str] = []
    if kind == E.CREATED:
        kind_label = _label(Change.Kind, data.get("kind")).lower()
        if data.get("template"):
            return _("raised a %(kind)s change from the template “%(template)s”") % {
                "kind": kind_label,
                "template": data["template"],
            }, details
        return _("raised a %(kind)s change") % {"kind": kind_label}, details
    if kind == E.STATUS:
        old, new = ([*list(data.get("status") or []), None, None])[:2]
        text = _("changed the status: %(old)s → %(new)s") % {
            "old": _label(Change.Status, old),
            "new": _label(Change.Status, new),
        }
        if data.get("outcome"):
            details.append(_("Outcome: %(outcome)s") % {"outcome": _label(Change.Outcome, data["outcome"])})
        if data.get("note"):
            details.append(str(data["note"]))
        return text, details
    if kind == E.CHANGED:
        for name, pair in sorted(data.items()):
            old, new = ([*list(pair), None, None])[:2] if isinstance(pair, list | tuple) else (None, pair)
            details.append(f"{field_label(name)}: {_value(name, old)} → {_value(name, new)}")
        return _("changed the change"), details
    if kind == E.RISK:
        old, new = ([*list(data.get("risk") or []), None, None])[:2]
        score = ([*list(data.get("score") or []), None, None])[1]
        return _("assessed the risk: %(risk)s (score %(score)s)") % {
            "risk": _label(Risk, new),
            "score": score if score is not None else EMPTY,
        }, [_("Before: %(risk)s") % {"risk": _label(Risk, old)}] if old and old != new else []
    if kind == E.APPROVAL:
        who = str(data.get("approver") or "")
        text = _("approval: %(decision)s") % {"decision": _decision(data.get("decision"))}
        if data.get("stage") not in (None, ""):
            details.append(_("Stage: %(stage)s") % {"stage": data["stage"]})
        if who:
            details.append(_("By: %(approver)s") % {"approver": who})
        if data.get("comment"):
            details.append(str(data["comment"]))
        return text, details
    if kind in (E.LINKED, E.UNLINKED):
        return _link_sentence(kind, data), details
    if kind == E.REVIEWED:
        return _("wrote the post-implementation review"), details
    if kind == E.COMMENT:
        return _("commented"), details
    return _label(E, kind), details


def _link_sentence(kind: str, data: dict[str, Any]) -> str:
    if "asset" in data:
        what = f"{data.get('tag', '')} {data.get('name', '')}".strip()
        if kind == E.UNLINKED:
            return _("removed the asset %(asset)s") % {"asset": what}
        return _("added the asset %(asset)s") % {"asset": what}
    if "ticket" in data:
        return _("linked the ticket %(ticket)s (%(relation)s)") % {
            "ticket": data["ticket"],
            "relation": _label(ChangeTicket.Relation, data.get("relation")).lower(),
        }
    if "problem" in data:
        return _("linked the problem %(problem)s (%(relation)s)") % {
            "problem": data["problem"],
            "relation": _label(ChangeProblem.Relation, data.get("relation")).lower(),
        }
    return _("linked") if kind == E.LINKED else _("removed a link")


def lines(items: Iterable[TimelineItem]) -> list[Line]:
    """The page's timeline: events as sentences, comments as they are."""
    out: list[Line] = []
    for item in items:
        if item.comment is not None:
            author = item.comment.author
            out.append(
                Line(
                    at=item.at,
                    actor=author.display_name if author else _("Someone"),
                    summary=_("commented"),
                    comment=item.comment.body,
                    kind="comment",
                )
            )
        elif item.event is not None:
            event = item.event
            text, details = summary(event.kind, dict(event.data or {}))
            actor = event.actor.display_name if event.actor else _("Palier")
            out.append(Line(at=item.at, actor=actor, summary=text, details=details, kind=event.kind))
    return out
