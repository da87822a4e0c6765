"""The ticket page's side panel: one small form per editable field, and how each one is saved.

Every edit carries the version the agent saw; the services refuse a stale one (``StaleVersion``)
and an invalid one (``ValidationError``, ``IllegalTransition``) without changing anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from palier.agent import workspace_forms as wf
from palier.people.models import User
from palier.tickets import display, selectors, services
from palier.tickets.models import Ticket

Saver = Callable[[Any, Ticket, User], str]


def _initial(name: str, ticket: Ticket) -> dict[str, Any]:
    if name == "tags":
        return {"tags": ", ".join(selectors.tag_names(ticket))}
    initial: dict[str, dict[str, Any]] = {
        "priority": {"impact": ticket.impact, "urgency": ticket.urgency},
        "group": {"group": ticket.group_id},
        "assignee": {"assignee": ticket.assignee_id},
        "category": {"category": ticket.category_id},
        "kind": {"kind": ticket.kind},
    }
    return initial.get(name, {})


def _make(name: str, data: Any, ticket: Ticket, choices: wf.Choices) -> forms.Form:
    form: forms.Form
    initial = {"version": ticket.version, **_initial(name, ticket)}
    kwargs: dict[str, Any] = {"data": data, "initial": initial, "auto_id": f"edit-{name}-%s"}
    if name == "status":
        form = wf.StatusForm(ticket=ticket, **kwargs)
        form.fields["status"].widget.attrs["data-kb-status"] = True  # the "s" shortcut's target
        return form
    if name in ("group", "assignee", "category"):
        form = FORMS[name](choices=choices, **kwargs)
    else:
        form = FORMS[name](**kwargs)
    return form


FORMS: dict[str, Any] = {
    "priority": wf.PriorityForm,
    "group": wf.GroupEditForm,
    "assignee": wf.AssigneeForm,
    "category": wf.CategoryForm,
    "kind": wf.KindForm,
    "tags": wf.TagsForm,
    "watch": wf.WatcherForm,
    "unwatch": wf.UnwatchForm,
    "link": wf.LinkForm,
    "unlink": wf.UnlinkForm,
}


@dataclass
class Panel:
    forms: dict[str, forms.Form]
    open_field: str
    links: list[selectors.LinkView]
    matrix: list[dict[str, Any]]
    watchers: list[User] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    can_edit: bool = True
    time_spent: str = ""  # "1 h 05 min", empty when nothing was logged


def build(user: User, ticket: Ticket, choices: wf.Choices, *, bound: dict[str, forms.Form]) -> Panel:
    """The panel's forms (``bound`` ones keep what the agent typed and their errors)."""
    built = {name: bound.get(name) or _make(name, None, ticket, choices) for name in ("status", *FORMS)}
    return Panel(
        forms=built,
        open_field=next(iter(bound), ""),
        links=selectors.links_visible(user, ticket),
        matrix=selectors.priority_matrix(),
        watchers=selectors.watchers_of(ticket),
        tags=selectors.tag_names(ticket),
        can_edit=ticket.is_open,
        time_spent=_time_spent(ticket),
    )


def _time_spent(ticket: Ticket) -> str:
    minutes = selectors.time_spent_minutes(ticket)
    return display.duration(minutes) if minutes else ""


def bind(name: str, data: Any, ticket: Ticket, choices: wf.Choices) -> forms.Form:
    return _make(name, data, ticket, choices)


def refresh_version(form: forms.Form, version: int) -> None:
    """After a refused edit, the re-shown form carries the current version (resubmitting is a choice)."""
    form.data = {**dict(form.data.items()), "version": str(version)}


# --- savers: one per field, each calling one service ------------------------------------------------


def _update(changes: dict[str, Any], message: str) -> Saver:
    def save(form: Any, ticket: Ticket, by: User) -> str:
        services.update_ticket(ticket, by=by, expected_version=form.cleaned_data["version"], changes=changes)
        return message

    return save


def _save_status(form: Any, ticket: Ticket, by: User) -> str:
    data = form.cleaned_data
    services.transition_ticket(ticket, to=data["status"], by=by, expected_version=data["version"], note=data["note"])
    return _("Status changed.")


def _save_fields(name: str, form: Any, ticket: Ticket, by: User) -> str:
    data = form.cleaned_data
    if name == "group":  # the group's strategy does not pick anyone: the agent chose the queue
        group = form.changes(by)["group"]
        services.move_to_group(ticket, group=group, by=by, auto_assign=False, expected_version=data["version"])
        return _("Saved.")
    if name == "priority":
        changes: dict[str, Any] = {"impact": data["impact"], "urgency": data["urgency"]}
    elif name == "assignee":
        changes = form.changes(by)
    elif name == "category":
        changes = {"category": selectors.find_category(int(data["category"]) if data["category"] else None)}
    elif name == "kind":
        changes = {"kind": data["kind"]}
    else:
        changes = {"tags": [t for t in data["tags"].split(",") if t.strip()]}
    return _update(changes, _("Saved."))(form, ticket, by)


def _save_watch(form: Any, ticket: Ticket, by: User) -> str:
    person = selectors.person_by_email(form.cleaned_data["email"])
    if person is None:
        raise ValidationError({"email": _("No active account has this email address.")})
    services.add_watcher(ticket, user=person, by=by, expected_version=form.cleaned_data["version"])
    return _("%(name)s is now watching this ticket.") % {"name": person.display_name}


def _save_unwatch(form: Any, ticket: Ticket, by: User) -> str:
    person = next((w for w in selectors.watchers_of(ticket) if w.pk == form.cleaned_data["user"]), None)
    if person is None:
        raise ValidationError(_("This person is not watching the ticket."))
    services.remove_watcher(ticket, user=person, by=by, expected_version=form.cleaned_data["version"])
    return _("%(name)s no longer watches this ticket.") % {"name": person.display_name}


def _save_link(form: Any, ticket: Ticket, by: User) -> str:
    data = form.cleaned_data
    target = selectors.get_ticket_by_reference(by, data["reference"])
    if target is None:
        raise ValidationError({"reference": _("No ticket with this number that you can see.")})
    services.link_tickets(ticket, target=target, kind=data["kind"], by=by, expected_version=data["version"])
    return _("Link added.")


def _save_unlink(form: Any, ticket: Ticket, by: User) -> str:
    services.unlink_tickets(selectors.get_link_for(ticket, form.cleaned_data["link"]), by=by)
    return _("Link removed.")


SAVERS: dict[str, Saver] = {
    "status": _save_status,
    "watch": _save_watch,
    "unwatch": _save_unwatch,
    "link": _save_link,
    "unlink": _save_unlink,
}
EDITORS = {"status", *FORMS}


def save(name: str, form: forms.Form, ticket: Ticket, *, by: User) -> str:
    """Apply the edit through its service; returns the confirmation message."""
    saver = SAVERS.get(name)
    if saver is not None:
        return saver(form, ticket, by)
    return _save_fields(name, form, ticket, by)
