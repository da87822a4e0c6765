"""Problem history as sentences, for the problem page's timeline: "Nina changed the status: New →
Investigating". Pure: events in, view-models out, no database (the caller loads the events with
their actors)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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


Sentence = tuple[str, list[str]]


def _status(data: Mapping[str, Any]) -> Sentence:
    change = data.get("status")
    if not (isinstance(change, list) and len(change) == 2):
        return str(E.STATUS.label), []
    old, new = change
    return _("changed the status: %(old)s → %(new)s") % {"old": _value("status", old), "new": _value("status", new)}, []


def _incidents_linked(data: Mapping[str, Any]) -> Sentence:
    count = int(data.get("count") or 0)
    tickets = data.get("tickets") or []
    text = ngettext("linked %(n)d incident", "linked %(n)d incidents", count) % {"n": count}
    return text, [", ".join(str(t) for t in tickets)] if tickets else []


def _asset(data: Mapping[str, Any], linked: bool) -> Sentence:
    name = f"{data.get('tag', EMPTY)} {data.get('name', '')}".strip()
    if linked:
        return _("linked the asset %(name)s") % {"name": name}, []
    return _("removed the asset %(name)s") % {"name": name}, []


def _article(data: Mapping[str, Any], linked: bool) -> Sentence:
    name = data.get("title") or f"#{data.get('article', EMPTY)}"
    if linked:
        return _("linked the article %(name)s") % {"name": name}, []
    return _("removed the article %(name)s") % {"name": name}, []


def _incidents_resolved(data: Mapping[str, Any]) -> Sentence:
    count = int(data.get("count") or 0)
    if data.get("resolve"):
        text = ngettext(
            "resolved the problem's %(n)d open incident", "resolved the problem's %(n)d open incidents", count
        )
    else:
        text = ngettext(
            "told the requester of %(n)d open incident", "told the requesters of %(n)d open incidents", count
        )
    return text % {"n": count}, [str(data["message"])[:LONG_TEXT]] if data.get("message") else []


def _comment(data: Mapping[str, Any]) -> Sentence:
    return (_("wrote an internal comment") if data.get("internal", True) else _("wrote a public comment")), []


def _watcher(data: Mapping[str, Any]) -> Sentence:
    return (_("started watching") if data.get("added") else _("stopped watching")), []


SENTENCES: dict[str, Callable[[Mapping[str, Any]], Sentence]] = {
    E.CREATED: lambda data: (_("created the problem"), []),
    E.CHANGED: lambda data: (_("changed the problem"), _changes(data)),
    E.STATUS: _status,
    E.INCIDENT_LINKED: _incidents_linked,
    E.INCIDENT_UNLINKED: lambda data: (_("removed the incident %(ref)s") % {"ref": data.get("ticket", EMPTY)}, []),
    E.ASSET_LINKED: lambda data: _asset(data, True),
    E.ASSET_UNLINKED: lambda data: _asset(data, False),
    E.ARTICLE_LINKED: lambda data: _article(data, True),
    E.ARTICLE_UNLINKED: lambda data: _article(data, False),
    E.CHANGE_LINKED: lambda data: (
        _("linked the change %(ref)s") % {"ref": data.get("change") or data.get("reference") or EMPTY},
        [],
    ),
    E.COMMENT: _comment,
    E.ATTACHED: lambda data: (_("attached the file %(name)s") % {"name": data.get("file", EMPTY)}, []),
    E.WATCHER: _watcher,
    E.WORKAROUND_APPLIED: lambda data: (
        _("applied the workaround to %(ref)s") % {"ref": data.get("ticket", EMPTY)},
        [],
    ),
    E.INCIDENTS_RESOLVED: _incidents_resolved,
}


def summary(event: ProblemEvent) -> Sentence:
    """The sentence of an event (after its actor's name), and its detail lines."""
    data, kind = event.data or {}, event.kind
    sentence = SENTENCES.get(kind)
    if sentence is not None:
        return sentence(data)
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
                Line(
                    at=item.at,
                    actor=author,
                    summary=text,
                    body=comment.body,
                    internal=comment.internal,
                    is_comment=True,
                )
            )
    return out
