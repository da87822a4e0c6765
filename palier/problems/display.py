"""Problem history as sentences, for the problem page's timeline: "Nina changed the status: New →
Investigating". Pure: events in, view-models out, no database (the caller loads the events with
their actors)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from palier.tickets.models import Level

from .models import Problem, ProblemEvent
from .selectors import TimelineItem

EMPTY = "—"
E = ProblemEvent.Kind
LONG_TEXT = 200


@dataclass(frozen=True)
class Line:
    at: datetime
    actor: str
    summary: str
    details: list[str] = field(default_factory=list)
    body: str = ""  # a comment's text
    internal: bool = False  # an internal comment
    is_comment: bool = False


def field_label(key: str) -> str:
    try:
        return capfirst(str(getattr(Problem._meta.get_field(key), "verbose_name", key)))
    except FieldDoesNotExist:
        return key


def _value(key: str, value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if key == "status" and value in Problem.Status.values:
        return str(Problem.Status(value).label)
    if key in ("impact", "urgency") and isinstance(value, str):
        return _level(value)
    if key == "priority":
        return f"P{value}"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = str(value)
    return text if len(text) <= LONG_TEXT else text[: LONG_TEXT - 1] + "…"


def _level(value: str) -> str:
    return str(Level(value).label) if value in Level.values else value


def _changes(data: Mapping[str, Any]) -> list[str]:
    out = []
    for key, change in data.items():
        if isinstance(change, list) and len(change) == 2:
            old, new = change
            out.append(f"{field_label(key)}: {_value(key, old)} → {_value(key, new)}")
    return out


def summary(event: ProblemEvent) -> tuple[str, list[str]]:
    """The sentence of an event (after its actor's name), and its detail lines."""
    data, kind = event.data or {}, event.kind
    if kind == E.CREATED:
        return _("created the problem"), []
    if kind == E.CHANGED:
        return _("changed the problem"), _changes(data)
    if kind == E.STATUS and isinstance(data.get("status"), list) and len(data["status"]) == 2:
        old, new = data["status"]
        return _("changed the status: %(old)s → %(new)s") % {
            "old": _value("status", old),
            "new": _value("status", new),
        }, []
    if kind == E.INCIDENT_LINKED:
        count = int(data.get("count") or 0)
        tickets = data.get("tickets") or []
        text = ngettext("linked %(n)d incident", "linked %(n)d incidents", count) % {"n": count}
        return text, [", ".join(str(t) for t in tickets)] if tickets else []
    if kind == E.INCIDENT_UNLINKED:
        return _("removed the incident %(ref)s") % {"ref": data.get("ticket", EMPTY)}, []
    if kind in (E.ASSET_LINKED, E.ASSET_UNLINKED):
        name = f"{data.get('tag', EMPTY)} {data.get('name', '')}".strip()
        if kind == E.ASSET_LINKED:
            return _("linked the asset %(name)s") % {"name": name}, []
        return _("removed the asset %(name)s") % {"name": name}, []
    if kind in (E.ARTICLE_LINKED, E.ARTICLE_UNLINKED):
        name = data.get("title") or f"#{data.get('article', EMPTY)}"
        if kind == E.ARTICLE_LINKED:
            return _("linked the article %(name)s") % {"name": name}, []
        return _("removed the article %(name)s") % {"name": name}, []
    if kind == E.CHANGE_LINKED:
        return _("linked the change %(ref)s") % {"ref": data.get("change") or data.get("reference") or EMPTY}, []
    if kind == E.COMMENT:
        return (_("wrote an internal comment") if data.get("internal", True) else _("wrote a public comment")), []
    if kind == E.ATTACHED:
        return _("attached the file %(name)s") % {"name": data.get("file", EMPTY)}, []
    if kind == E.WATCHER:
        if data.get("added"):
            return _("started watching"), []
        return _("stopped watching"), []
    if kind == E.WORKAROUND_APPLIED:
        return _("applied the workaround to %(ref)s") % {"ref": data.get("ticket", EMPTY)}, []
    if kind == E.INCIDENTS_RESOLVED:
        count = int(data.get("count") or 0)
        if data.get("resolve"):
            text = ngettext(
                "resolved the problem's %(n)d open incident",
                "resolved the problem's %(n)d open incidents",
                count,
            )
        else:
            text = ngettext(
                "told the requester of %(n)d open incident",
                "told the requesters of %(n)d open incidents",
                count,
            )
        return text % {"n": count}, [str(data["message"])[:LONG_TEXT]] if data.get("message") else []
    return (str(E(kind).label) if kind in E.values else str(kind)), _changes(data)


def lines(events: Iterable[ProblemEvent]) -> list[Line]:
    """The timeline's lines, in the order given."""
    out = []
    for event in events:
        text, details = summary(event)
        actor = event.actor.display_name if event.actor is not None else _("Palier")
        out.append(Line(at=event.at, actor=actor, summary=text, details=details))
    return out


def timeline_lines(items: Iterable[TimelineItem]) -> list[Line]:
    """The problem page's timeline: events as sentences, comments with their text."""
    out = []
    for item in items:
        if item.event is not None:
            out.extend(lines([item.event]))
        elif item.comment is not None:
            comment = item.comment
            author = comment.author.display_name if comment.author is not None else _("Palier")
            text = _("wrote an internal comment") if comment.internal else _("wrote a public comment")
            out.append(
                Line(at=item.at, actor=author, summary=text, body=comment.body, internal=comment.internal, is_comment=True)
            )
    return out
