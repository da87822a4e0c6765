"""Readable, translated text for ticket history and statuses, shared by the pages (no ORM).

Events store raw values (status codes, names, ``{"en", "fr"}`` category names); this module
turns one ``TicketEvent`` into a sentence such as "Léa changed the status from New to Resolved",
and one entry of the SLA timeline into a sentence such as "Paused while Pending vendor; 2 h left."
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from palier.tickets.models import Attachment, Level, Ticket, TicketEvent, TicketLink

if TYPE_CHECKING:
    from palier.tickets.selectors import TimelineEntry

E = TicketEvent.Kind
S = Ticket.Status

FIELD_LABELS = {
    "subject": gettext_lazy("subject"),
    "description": gettext_lazy("description"),
    "kind": gettext_lazy("type"),
    "category": gettext_lazy("category"),
    "impact": gettext_lazy("impact"),
    "urgency": gettext_lazy("urgency"),
    "priority": gettext_lazy("priority"),
    "group": gettext_lazy("group"),
    "assignee": gettext_lazy("assignee"),
    "tags": gettext_lazy("tags"),
    "reference": gettext_lazy("reference"),
}

STATUS_EXPLANATIONS: dict[str, Promise] = {
    S.NEW: gettext_lazy("We have received your request and will look at it shortly."),
    S.ASSIGNED: gettext_lazy("Someone from the support team is in charge of your request."),
    S.IN_PROGRESS: gettext_lazy("The support team is working on your request."),
    S.PENDING_REQUESTER: gettext_lazy("We are waiting for an answer from you: please reply below."),
    S.PENDING_VENDOR: gettext_lazy("We are waiting for an external supplier."),
    S.PENDING_CHANGE: gettext_lazy("A planned change must happen before this can be solved."),
    S.PENDING_APPROVAL: gettext_lazy("Your request is waiting for approval before work starts."),
    S.RESOLVED: gettext_lazy("We think this is solved. If it is not, reopen the request."),
    S.CLOSED: gettext_lazy("This request is closed. Open a new one if you need more help."),
    S.CANCELLED: gettext_lazy("This request was withdrawn."),
}


def duration(minutes: int) -> str:
    """ "45 min", "2 h", "1 h 05 min"."""
    hours, rest = divmod(max(minutes, 0), 60)
    if not hours:
        return _("%(minutes)d min") % {"minutes": rest}
    if not rest:
        return _("%(hours)d h") % {"hours": hours}
    return _("%(hours)d h %(minutes)02d min") % {"hours": hours, "minutes": rest}


def status_explanation(status: str) -> str:
    return str(STATUS_EXPLANATIONS.get(status, ""))


def _value(field: str, value: Any) -> str:
    """One old/new value as text, in the current language."""
    if value is None or value == "" or value == []:
        return _("nothing")
    if isinstance(value, dict):  # category names in both languages
        lang = "fr" if (get_language() or "fr").startswith("fr") else "en"
        return str(value.get(lang) or value.get("en") or "")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    choices: dict[str, Any] = {
        "kind": Ticket.Kind,
        "impact": Level,
        "urgency": Level,
        "status": S,
    }
    if field in choices and value in choices[field].values:
        return str(choices[field](value).label)
    if field == "priority":
        return f"P{value}"
    return str(value)


def _changed(data: dict[str, Any]) -> str:
    name = str(data.get("field", ""))
    if name == "description":
        return _("updated the description")
    return _("changed the %(field)s from “%(old)s” to “%(new)s”") % {
        "field": FIELD_LABELS.get(name, name),
        "old": _value(name, data.get("old")),
        "new": _value(name, data.get("new")),
    }


def _status(data: dict[str, Any]) -> str:
    return _("changed the status from “%(old)s” to “%(new)s”") % {
        "old": _value("status", data.get("old")),
        "new": _value("status", data.get("new")),
    }


def _link(data: dict[str, Any], *, removed: bool) -> str:
    kind = data.get("link", "")
    label = TicketLink.Kind(kind).label if kind in TicketLink.Kind.values else kind
    values = {"link": label, "other": data.get("other", "")}
    if removed:
        return _("removed the link “%(link)s” %(other)s") % values
    return _("added the link “%(link)s” %(other)s") % values


# routing and escalation store these facts in English (they are data); shown in the reader's language
_NOTES: dict[str, Promise] = {
    "routing failed: triage group": gettext_lazy("routing failed, so it went to the triage group"),
    "no routing rule matched: triage group": gettext_lazy("no routing rule matched, so it went to the triage group"),
    "assigned by round_robin": gettext_lazy("assigned in turn (round robin)"),
    "assigned by least_loaded": gettext_lazy("assigned to the least loaded agent"),
    "assigned by skills": gettext_lazy("assigned to an agent with the right skills"),
    "no available agent (round_robin)": gettext_lazy("no agent was available to assign it to"),
    "no available agent (least_loaded)": gettext_lazy("no agent was available to assign it to"),
    "no available agent (skills)": gettext_lazy("no agent with the right skills was available"),
    "the group escalates to itself": gettext_lazy("the group's escalation path points to itself"),
    "the group escalates to a lower level": gettext_lazy("the group's escalation path points to a lower level"),
    "the escalation path loops": gettext_lazy("the group's escalation path loops"),
}


def _note(text: str) -> str:
    if text.startswith("routing rule: "):
        return _("routing rule “%(rule)s”") % {"rule": text.removeprefix("routing rule: ")}
    return str(_NOTES.get(text, text))


def _created(data: dict[str, Any], *, internal: bool) -> str:
    sentence = _("opened %(reference)s") % {"reference": data.get("reference", "")}
    if not internal:  # how the desk placed the ticket is for agents only
        return sentence
    notes = [_note(note) for note in data.get("placed") or [] if isinstance(note, str)]
    return f"{sentence} ({'; '.join(notes)})" if notes else sentence


def _routed(data: dict[str, Any]) -> str:
    if not data.get("rule"):
        return _("routed the ticket: no rule matched, it stays in %(group)s") % {"group": data.get("group") or "—"}
    return _("routed the ticket to %(group)s by the rule “%(rule)s”") % {
        "group": data.get("group") or "—",
        "rule": data["rule"],
    }


def _levels(data: dict[str, Any], kind: str) -> str:
    values = {
        "from": data.get("from_group") or "—",
        "to": data.get("to_group") or "—",
        "from_level": data.get("from_level") or 1,
        "to_level": data.get("to_level") or 1,
    }
    if kind == E.ESCALATED:
        sentence = _("escalated the ticket from %(from)s (L%(from_level)s) to %(to)s (L%(to_level)s)") % values
    else:
        sentence = _("de-escalated the ticket from %(from)s (L%(from_level)s) to %(to)s (L%(to_level)s)") % values
    if data.get("fallback"):
        sentence += " — " + _("%(problem)s, so the next level's group was used") % {"problem": _note(data["fallback"])}
    return sentence


def _approval(data: dict[str, Any]) -> str:
    decision = data.get("decision")
    values = {"stage": data.get("stage", ""), "who": data.get("approvers") or "—"}
    if decision == "approved":
        return _("approved the request (stage %(stage)s)") % values
    if decision == "rejected":
        comment = data.get("comment") or ""
        return _("rejected the request: %(reason)s") % {"reason": comment} if comment else _("rejected the request")
    if decision == "asked":
        if isinstance(values["who"], list):
            values["who"] = ", ".join(str(name) for name in values["who"])
        return _("asked for approval (stage %(stage)s): %(who)s") % values
    if decision == "skipped":
        return _("skipped approval stage %(stage)s: nobody to ask") % values
    return str(E.APPROVAL.label)


def _task(data: dict[str, Any]) -> str:
    if data.get("action") == "all-done":
        return _("all fulfilment tasks are done")
    values = {"task": data.get("task", ""), "subject": data.get("subject", "")}
    if data.get("action") == "opened":
        return _("opened the fulfilment task %(task)s (%(subject)s)") % values
    status = data.get("action", "")
    values["status"] = str(S(status).label) if status in S.values else status
    return _("fulfilment task %(task)s (%(subject)s) is now “%(status)s”") % values


def _time_entry(kind: str, data: dict[str, Any]) -> str:
    """Time tracking (palier/timelog): logged, changed, removed; minutes as "1 h 05 min"."""
    minutes = int(data.get("minutes") or 0)
    day = str(data.get("work_date") or "")
    if kind == E.TIME_LOGGED:
        return _("logged %(time)s of work (%(day)s)") % {"time": duration(minutes), "day": day}
    old = int(data.get("old_minutes") or 0)
    if data.get("deleted"):
        return _("removed %(time)s of logged work (%(day)s)") % {"time": duration(old), "day": day}
    return _("changed logged work from %(old)s to %(new)s (%(day)s)") % {
        "old": duration(old),
        "new": duration(minutes),
        "day": day,
    }


def _other(kind: str, data: dict[str, Any]) -> str | None:
    """The newer kinds (catalog, automation, surveys, calls) with their details."""
    if kind == E.APPROVAL:
        return _approval(data)
    if kind == E.TASK:
        return _task(data)
    if kind == E.RULE and data.get("rule"):
        return _("applied the automation rule “%(rule)s”") % {"rule": data["rule"]}
    if kind == E.SURVEY and data.get("score"):
        return _("rated the service %(score)s out of 5") % {"score": data["score"]}
    if kind == E.CALL and data.get("minutes"):
        return _("logged a phone call of %(minutes)s min") % {"minutes": data["minutes"]}
    if kind == E.TIME and data.get("minutes"):
        return _("logged %(minutes)s min of work") % {"minutes": data["minutes"]}
    if kind in (E.TIME_LOGGED, E.TIME_CHANGED):
        return _time_entry(kind, data)
    return _work(kind, data)


def _work(kind: str, data: dict[str, Any]) -> str | None:
    """Links to records, vendors, merges and splits, tasks and follow-ups."""
    if kind in (E.PROBLEM, E.MAJOR, E.CHANGE):
        return _record_link(kind, data)
    if kind == E.VENDOR:
        return _vendor(data)
    if kind in (E.MERGED, E.MERGED_INTO, E.UNMERGED, E.SPLIT):
        return _merge(kind, data)
    if kind == E.WORKTASK:
        return _worktask(data)
    if kind == E.FOLLOWUP:
        return _followup(data)
    return None


def _vendor(data: dict[str, Any]) -> str | None:
    """Sent to a vendor, or (palier/mail/vendors.py) another reference read from its reply."""
    if data.get("other_reference"):
        return _("read another reference from the vendor %(vendor)s, “%(reference)s” (the ticket keeps “%(kept)s”)") % {
            "vendor": data.get("vendor", ""), "reference": data["other_reference"],
            "kept": data.get("kept_reference", ""),
        }  # fmt: skip
    if data.get("vendor"):
        return _("sent the ticket to the vendor %(vendor)s") % {"vendor": data["vendor"]}
    return None


def _merge(kind: str, data: dict[str, Any]) -> str:
    """Merges and splits (tickets/services/merge.py, split.py), on both tickets."""
    other = str(data.get("other") or "")
    if kind == E.MERGED:
        return _("merged %(refs)s into this ticket") % {"refs": ", ".join(str(r) for r in data.get("tickets", []))}
    if kind == E.MERGED_INTO:
        return _("merged this ticket into %(ref)s (duplicate)") % {"ref": other}
    if kind == E.UNMERGED:
        if data.get("direction") == "out":
            return _("undid the merge of %(ref)s into this ticket") % {"ref": other}
        return _("undid the merge of this ticket into %(ref)s") % {"ref": other}
    if data.get("direction") == "out":
        return _("split a message out into %(ref)s") % {"ref": other}
    return _("opened this ticket from a message of %(ref)s") % {"ref": other}


def _worktask(data: dict[str, Any]) -> str:
    """A task of the ticket's checklist (palier/worklist), not a catalog fulfilment task."""
    values = {"title": data.get("title", ""), "template": data.get("template", ""), "count": data.get("count", 0)}
    sentences = {
        "added": _("added the task “%(title)s”"),
        "done": _("finished the task “%(title)s”"),
        "in_progress": _("started the task “%(title)s”"),
        "open": _("reopened the task “%(title)s”"),
        "cancelled": _("cancelled the task “%(title)s”"),
        "changed": _("changed the task “%(title)s”"),
        "template": _("added the tasks of the template “%(template)s” (%(count)s)"),
    }
    if data.get("action") == "added" and data.get("mandatory"):
        return _("added the mandatory task “%(title)s”") % values
    return str(sentences.get(str(data.get("action")), sentences["changed"])) % values


def _followup(data: dict[str, Any]) -> str:
    """A scheduled reply or reminder (palier/worklist); ``at`` is in its author's time zone."""
    values = {"at": data.get("at", ""), "zone": data.get("zone", "")}
    reply = data.get("followup") == "reply"
    action = data.get("action")
    if action == "scheduled":
        if reply:
            return _("scheduled a reply for %(at)s (%(zone)s)") % values
        return _("set a reminder for %(at)s (%(zone)s)") % values
    if action == "sent":
        return _("scheduled reply sent")
    if action == "reminded":
        return _("reminder delivered")
    reasons = {
        "requester": _("the requester answered first"),
        "closed": _("the ticket was no longer open"),
        "refused": _("it could not be posted"),
    }
    reason = reasons.get(str(data.get("reason")))
    what = _("scheduled reply for %(at)s cancelled") if reply else _("reminder for %(at)s cancelled")
    return f"{what % values}: {reason}" if reason else what % values


def _record_link(kind: str, data: dict[str, Any]) -> str | None:
    """Links to the records around a ticket (palier/problems, palier/changes): ``data`` holds the
    record's reference and what happened to the link."""
    ref = str(data.get("reference") or "")
    action = data.get("action")
    if kind == E.PROBLEM:
        sentences = {
            "linked": _("linked the ticket to the problem %(ref)s"),
            "unlinked": _("removed the ticket from the problem %(ref)s"),
            "workaround": _("applied the workaround of %(ref)s"),
            "resolved": _("resolved the ticket with the problem %(ref)s"),
        }
    elif kind == E.MAJOR:
        sentences = {
            "declared": _("declared the major incident %(ref)s"),
            "attached": _("attached the ticket to the major incident %(ref)s"),
            "detached": _("detached the ticket from the major incident %(ref)s"),
            "resolved": _("ended the major incident %(ref)s"),
        }
    else:
        sentences = {
            "linked": _("linked the ticket to the change %(ref)s"),
            "caused": _("recorded the ticket as caused by the change %(ref)s"),
            "unlinked": _("removed the ticket from the change %(ref)s"),
        }
    template = sentences.get(str(action))
    return template % {"ref": ref} if template else None


def event_sentence(event: TicketEvent, *, internal: bool = False) -> str:
    """What happened, without the actor: "changed the status from “New” to “Resolved”".
    ``internal``: the reader is an agent, who also sees how routing placed the ticket."""
    data = event.data or {}
    kind = event.kind
    if kind in SLA_EVENT_KINDS:
        return sla_sentence(SLA_EVENT_KINDS[kind][0], data, zone=None, at=event.created_at)
    if kind == E.CHANGED:
        return _changed(data)
    if kind == E.STATUS:
        return _status(data)
    if kind in (E.LINKED, E.UNLINKED):
        return _link(data, removed=kind == E.UNLINKED)
    if kind == E.CREATED:
        return _created(data, internal=internal)
    if kind == E.ROUTED:
        return _routed(data)
    if kind in (E.ESCALATED, E.DEESCALATED):
        return _levels(data, kind)
    other = _other(kind, data)
    if other is not None:
        return other
    if kind == E.ATTACHED:
        return _("attached “%(name)s”") % {"name": data.get("filename", "")}
    if kind in (E.WATCHED, E.UNWATCHED):
        template = _("added %(user)s as a watcher") if kind == E.WATCHED else _("removed the watcher %(user)s")
        return template % {"user": data.get("user", "")}
    return str(E(kind).label) if kind in E.values else kind


def actor_name(event: TicketEvent) -> str:
    return event.actor.display_name if event.actor is not None else _("Palier")


@dataclass
class TimelineItem:
    """One row of a ticket's timeline, ready for a template (no queries left to run)."""

    kind: str  # "reply", "note" or "event"
    at: datetime
    who: str
    text: str  # the message body, or the event sentence
    attachments: list[Attachment] = field(default_factory=list)
    comment_id: int | None = None  # for replies and notes

    @property
    def is_note(self) -> bool:
        return self.kind == "note"


def timeline_items(entries: list[TimelineEntry], *, internal: bool = False) -> list[TimelineItem]:
    """Turn ``selectors.ticket_timeline`` entries (prefetched) into template rows (``internal``: for agents)."""
    items = []
    for entry in entries:
        if entry.comment is not None:
            comment = entry.comment
            items.append(
                TimelineItem(
                    kind="note" if comment.is_internal else "reply",
                    at=comment.created_at,
                    who=comment.author.display_name,
                    text=comment.body,
                    attachments=list(comment.attachments.all()),
                    comment_id=comment.pk,
                )
            )
        elif entry.event is not None:
            event = entry.event
            sentence = event_sentence(event, internal=internal)
            items.append(TimelineItem("event", event.created_at, actor_name(event), sentence))
    return items


# --- the SLA timeline -----------------------------------------------------------------------------
#
# The SLA engine writes its timeline with these kinds; warnings and breaches are ticket events
# (their SLA timeline kind and label below), the other kinds are rows of ``sla.SlaEvent``.

SLA_EVENT_KINDS: dict[str, tuple[str, Promise]] = {
    E.SLA_WARNING: ("warning", gettext_lazy("warning")),
    E.SLA_BREACH: ("breach", gettext_lazy("breach")),
}
SLA_ALERTS = frozenset({"warning", "breach", "missed", "problem"})


def short(minutes: float) -> str:
    """Compact business time for the countdown and timeline: "45 min", "4 h 30"."""
    total = round(abs(minutes))
    if total < 60:
        return _("%(m)d min") % {"m": total}
    if total % 60 == 0:
        return _("%(h)d h") % {"h": total // 60}
    return _("%(h)d h %(m)02d") % {"h": total // 60, "m": total % 60}


def when(value: datetime | str | None, zone: str | None, *, now: datetime | None = None) -> str:
    """An instant in the calendar's zone, with Django's localized formats ("Tuesday 12:30")."""
    if value is None:
        return "—"
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    tz = ZoneInfo(zone) if zone else timezone.get_current_timezone()
    local = instant.astimezone(tz)
    reference = (now or timezone.now()).astimezone(tz)
    clock_time = formats.time_format(local.time(), "TIME_FORMAT")
    if 0 <= (local.date() - reference.date()).days < 6:
        return f"{formats.date_format(local, 'l')} {clock_time}"
    return f"{formats.date_format(local, 'l')} {formats.date_format(local, 'DATE_FORMAT')} {clock_time}"


def status_label(value: str) -> str:
    try:
        return str(Ticket.Status(value).label)
    except ValueError:
        return value


def _closed_days(data: dict[str, Any]) -> str:
    parts = []
    for day in data.get("closed", []):
        label = formats.date_format(date.fromisoformat(day["date"]), "D j M")
        parts.append(f"{label} ({day['name']})" if day.get("why") == "holiday" else label)
    return ", ".join(parts)


def _sla_started(d: dict[str, Any], zone: str | None, at: datetime) -> str:
    text = _("Started: %(target)s, due %(due)s (calendar %(calendar)s).") % {
        "target": short(d.get("target", 0)),
        "due": when(d.get("due"), zone, now=at),
        "calendar": d.get("calendar", "—"),
    }
    if d.get("paused"):
        text += " " + _("Paused at once: the ticket is %(status)s.") % {"status": status_label(d["paused"])}
    if closed := _closed_days(d):
        text += " " + _("Closed days not counted: %(days)s.") % {"days": closed}
    return text


def _sla_resumed(d: dict[str, Any], zone: str | None, at: datetime) -> str:
    if d.get("reason") == "reopened":
        return _("Resumed: the ticket was reopened; %(used)s already used, due %(due)s.") % {
            "used": short(d.get("consumed", 0)),
            "due": when(d.get("new_due"), zone, now=at),
        }
    return _("Resumed after %(waited)s %(status)s (not counted); due moved from %(old)s to %(new)s.") % {
        "waited": short(d.get("waited", 0)),
        "status": status_label(d.get("status", "")),
        "old": when(d.get("old_due"), zone, now=at),
        "new": when(d.get("new_due"), zone, now=at),
    }


def _sla_changed(d: dict[str, Any], zone: str | None, at: datetime) -> str:
    return _(
        "Policy %(old_policy)s → %(new_policy)s, target %(old_target)s → %(new_target)s; due %(old_due)s → %(new_due)s (%(used)s already used)."
    ) % {
        "old_policy": d.get("old_policy") or "—",
        "new_policy": d.get("new_policy") or "—",
        "old_target": short(d.get("old_target", 0)),
        "new_target": short(d.get("new_target", 0)),
        "old_due": when(d.get("old_due"), zone, now=at),
        "new_due": when(d.get("new_due"), zone, now=at) if d.get("new_due") else _("paused"),
        "used": short(d.get("consumed", 0)),
    }


def _sla_breach(d: dict[str, Any], zone: str | None, at: datetime) -> str:
    excluded = ", ".join(
        _("%(time)s in %(status)s") % {"time": short(m), "status": status_label(s)}
        for s, m in (d.get("excluded") or {}).items()
    )
    text = _("Breached: target %(target)s of business time; 0 min left at %(due)s.") % {
        "target": short(d.get("target", 0)),
        "due": when(d.get("due"), zone, now=at),
    }
    if excluded:
        text += " " + _("Excluded because the clock was paused: %(excluded)s.") % {"excluded": excluded}
    return text


def sla_sentence(kind: str, data: dict[str, Any], *, zone: str | None, at: datetime) -> str:
    """One entry of the SLA timeline in words, instants in the calendar's ``zone``; ``kind`` is the
    timeline's ("started", "paused", "warning"…) and ``at`` when it happened."""
    d = data or {}
    if kind == "started":
        return _sla_started(d, zone, at)
    if kind == "paused":
        return _("Paused while %(status)s; %(left)s left.") % {
            "status": status_label(d.get("status", "")),
            "left": short(d.get("left", 0)),
        }
    if kind == "resumed":
        return _sla_resumed(d, zone, at)
    if kind in ("target_changed", "policy_changed"):
        return _sla_changed(d, zone, at)
    if kind == "warning":
        return _("Warning: %(percent)s%% of the %(target)s target used; %(left)s left before %(due)s.") % {
            "percent": d.get("percent", 75),
            "target": short(d.get("target", 0)),
            "left": short(d.get("left", 0)),
            "due": when(d.get("due"), zone, now=at),
        }
    if kind == "breach":
        return _sla_breach(d, zone, at)
    if kind in ("met", "missed"):
        text = _("Met: %(used)s used of %(target)s.") if kind == "met" else _("Missed: %(used)s used of %(target)s.")
        return text % {"used": short(d.get("consumed", 0)), "target": short(d.get("target", 0))}
    if kind == "stopped":
        return _("Stopped (%(reason)s); no outcome is recorded.") % {"reason": d.get("reason", "")}
    return _("Problem: %(detail)s. The engine carried on.") % {"detail": d.get("detail") or d.get("problem", "")}


# --- the requester's view of a status (portal) --------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of the progress line the portal shows: "Received ✓ · In progress · Solved · Closed"."""

    label: str
    state: str  # "done", "current" or "todo"


_STEPS: list[tuple[Promise, frozenset[str]]] = [
    (gettext_lazy("Received"), frozenset({S.NEW})),
    (
        gettext_lazy("Being handled"),
        frozenset(
            {S.ASSIGNED, S.IN_PROGRESS, S.PENDING_REQUESTER, S.PENDING_VENDOR, S.PENDING_CHANGE, S.PENDING_APPROVAL}
        ),
    ),
    (gettext_lazy("Solved"), frozenset({S.RESOLVED})),
    (gettext_lazy("Closed"), frozenset({S.CLOSED})),
]

REQUESTER_LABELS: dict[str, Promise] = {
    S.PENDING_REQUESTER: gettext_lazy("Waiting for your answer"),
    S.PENDING_VENDOR: gettext_lazy("Waiting for a supplier"),
    S.PENDING_CHANGE: gettext_lazy("Waiting for a planned change"),
    S.PENDING_APPROVAL: gettext_lazy("Waiting for approval"),
    S.CANCELLED: gettext_lazy("Withdrawn"),
}


def requester_status_label(status: str) -> str:
    """The status in the requester's words ("Waiting for your answer" rather than "Pending requester")."""
    if status in REQUESTER_LABELS:
        return str(REQUESTER_LABELS[status])
    return str(S(status).label) if status in S.values else status


def requester_steps(status: str) -> list[Step]:
    """Where the request stands on the way to closed; empty for a withdrawn request."""
    current = next((i for i, (_label, statuses) in enumerate(_STEPS) if status in statuses), None)
    if current is None:
        return []
    return [
        Step(str(label), "done" if i < current else "current" if i == current else "todo")
        for i, (label, _statuses) in enumerate(_STEPS)
    ]


def needs_requester(status: str) -> bool:
    """The requester should act: answer a question, or confirm (or reopen) a solution."""
    return status in (S.PENDING_REQUESTER, S.RESOLVED)
