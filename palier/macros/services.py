"""Writes for macros: create, edit, delete; render one for a ticket; apply its field changes with
a reply, in the reply's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.lib.errors import PermissionDenied
from palier.macros import permissions, placeholders
from palier.macros.models import Macro
from palier.people.models import SupportGroup, User
from palier.tickets import services as ticket_services
from palier.tickets.models import Comment, Level, Ticket
from palier.tickets.services import MAX_BODY, MAX_TAGS
from palier.worklist.models import TaskTemplate
from palier.worklist.services import tasks as worklist_tasks

V = Macro.Visibility
S = Ticket.Status
MAX_NAME = 200
# statuses a macro may move a ticket to (the transition table still decides per ticket)
TARGET_STATUSES = [S.IN_PROGRESS, S.PENDING_REQUESTER, S.PENDING_VENDOR, S.PENDING_CHANGE, S.RESOLVED, S.CLOSED]


@dataclass(frozen=True)
class MacroFields:
    """What a macro says and does, as entered on its form."""

    name: str
    body_fr: str = ""
    body_en: str = ""
    visibility: str = V.PERSONAL
    group: SupportGroup | None = None
    set_status: str = ""
    set_impact: str = ""
    set_urgency: str = ""
    set_group: SupportGroup | None = None
    set_assignee: User | None = None
    add_tags: list[str] = field(default_factory=list)
    add_task_template: TaskTemplate | None = None  # its tasks are added to the ticket
    is_active: bool = True


def _placeholder_error(unknown: list[str]) -> str:
    return _("Unknown placeholder: %(unknown)s. Valid placeholders: %(valid)s.") % {
        "unknown": ", ".join(f"{{{name}}}" for name in unknown),
        "valid": ", ".join(f"{{{name}}}" for name in placeholders.PLACEHOLDERS),
    }


def _check_texts(fields: MacroFields, errors: dict[str, str]) -> None:
    if not fields.name.strip():
        errors["name"] = _("This field is required.")
    elif len(fields.name.strip()) > MAX_NAME:
        errors["name"] = _("At most %(n)d characters.") % {"n": MAX_NAME}
    if not fields.body_fr.strip() and not fields.body_en.strip():
        errors["body_fr"] = _("Write the text in French, in English, or both.")
    for name in ("body_fr", "body_en"):
        text = getattr(fields, name)
        if len(text) > MAX_BODY:
            errors[name] = _("At most %(n)d characters.") % {"n": MAX_BODY}
        elif unknown := placeholders.unknown_placeholders(text):
            errors[name] = _placeholder_error(unknown)


def _check_changes(fields: MacroFields, errors: dict[str, str]) -> None:
    if fields.set_status and fields.set_status not in TARGET_STATUSES:
        errors["set_status"] = _("A macro cannot move a ticket to this status.")
    for name in ("set_impact", "set_urgency"):
        if getattr(fields, name) and getattr(fields, name) not in Level.values:
            errors[name] = _("“%(value)s” is not a valid choice.") % {"value": getattr(fields, name)}
    assignee = fields.set_assignee
    if assignee is not None and not (assignee.is_agent and assignee.is_active):
        errors["set_assignee"] = _("Tickets can only be assigned to active agents.")
    elif (
        assignee is not None
        and fields.set_group is not None
        and not fields.set_group.members.filter(pk=assignee.pk).exists()
    ):
        errors["set_assignee"] = _("This agent is not a member of the chosen group.")
    if len({t.strip().lower() for t in fields.add_tags if t.strip()}) > MAX_TAGS:
        errors["add_tags"] = _("At most %(n)d tags.") % {"n": MAX_TAGS}


def _validate(fields: MacroFields, *, by: User) -> None:
    errors: dict[str, str] = {}
    _check_texts(fields, errors)
    _check_changes(fields, errors)
    if fields.visibility not in V.values:
        errors["visibility"] = _("“%(value)s” is not a valid choice.") % {"value": fields.visibility}
    elif fields.visibility != V.PERSONAL and not permissions.can_share(by):
        errors["visibility"] = _("Only administrators share macros with a group or with everyone.")
    elif fields.visibility == V.GROUP and fields.group is None:
        errors["group"] = _("Choose the group that shares this macro.")
    if errors:
        raise ValidationError(errors)


def _assign(macro: Macro, fields: MacroFields) -> None:
    macro.name = fields.name.strip()
    macro.body_fr = fields.body_fr.strip()
    macro.body_en = fields.body_en.strip()
    macro.visibility = fields.visibility
    macro.group = fields.group if fields.visibility == V.GROUP else None
    macro.set_status = fields.set_status
    macro.set_impact = fields.set_impact
    macro.set_urgency = fields.set_urgency
    macro.set_group = fields.set_group
    macro.set_assignee = fields.set_assignee
    macro.add_tags = sorted({t.strip().lower()[:50] for t in fields.add_tags if t.strip()})
    macro.add_task_template = fields.add_task_template
    macro.is_active = fields.is_active
    macro.updated_at = timezone.now()


@transaction.atomic
def create_macro(*, by: User, fields: MacroFields) -> Macro:
    """A new macro owned by ``by`` (agents: personal ones only)."""
    if not (by.is_agent and by.is_active):
        raise PermissionDenied(_("Only agents create macros."))
    _validate(fields, by=by)
    macro = Macro(owner=by)
    _assign(macro, fields)
    macro.save()
    return macro


@transaction.atomic
def update_macro(macro: Macro, *, by: User, fields: MacroFields) -> Macro:
    if not permissions.can(by, "change", macro):
        raise PermissionDenied(_("You cannot change this macro."))
    _validate(fields, by=by)
    _assign(macro, fields)
    macro.save()
    return macro


@transaction.atomic
def delete_macro(macro: Macro, *, by: User) -> None:
    if not permissions.can(by, "delete", macro):
        raise PermissionDenied(_("You cannot delete this macro."))
    audit.record("deleted", actor=by, target=macro)
    macro.delete()


# --- using a macro on a ticket ----------------------------------------------------------------------


def placeholder_values(*, ticket: Ticket, agent: User) -> dict[str, str]:
    requester = ticket.requester
    base = getattr(settings, "PALIER_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return {
        "requester_name": requester.display_name,
        "requester_first_name": placeholders.first_name(requester.full_name, requester.email),
        "ticket_number": ticket.reference,
        "ticket_subject": ticket.subject,
        "agent_name": agent.display_name,
        "ticket_link": base + reverse("portal:ticket-detail", args=[ticket.pk]),
    }


def render_macro(*, macro: Macro, ticket: Ticket, agent: User) -> str:
    """The macro's text for this ticket, in the requester's language (the other one when that
    text is empty), placeholders filled in. Reads no more than the ticket's requester."""
    language = ticket.requester.language or settings.LANGUAGE_CODE
    first, second = (macro.body_en, macro.body_fr) if language == "en" else (macro.body_fr, macro.body_en)
    return placeholders.fill(first or second, placeholder_values(ticket=ticket, agent=agent))


def _field_changes(macro: Macro, ticket: Ticket) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if macro.set_impact:
        changes["impact"] = macro.set_impact
    if macro.set_urgency:
        changes["urgency"] = macro.set_urgency
    if macro.set_group_id:
        changes["group"] = macro.set_group
    if macro.set_assignee_id:
        changes["assignee"] = macro.set_assignee
    if macro.add_tags:
        current = set(ticket.tags.values_list("name", flat=True))
        if not set(macro.add_tags) <= current:
            changes["tags"] = sorted(current | set(macro.add_tags))
    return changes


@transaction.atomic
def apply_macro(*, macro: Macro, ticket: Ticket, by: User) -> Ticket:
    """Apply the macro's field changes through the ticket services (each leaves its history
    event) and count one use. Fails whole when one change is refused."""
    if not permissions.can(by, "use", macro):
        raise PermissionDenied(_("You cannot use this macro."))
    ticket = Ticket.objects.get(pk=ticket.pk)
    changes = _field_changes(macro, ticket)
    if changes:
        ticket = ticket_services.update_ticket(ticket, by=by, expected_version=None, changes=changes)
    template = macro.add_task_template
    if template is not None and template.is_active:  # before the status: its mandatory tasks count
        worklist_tasks.add_template_tasks(ticket, template, by=by)
    if macro.set_status and macro.set_status != ticket.status:
        ticket = ticket_services.transition_ticket(ticket, to=macro.set_status, by=by)
    Macro.objects.filter(pk=macro.pk).update(usage_count=F("usage_count") + 1)
    return ticket


def _macro_to_apply(by: User, macro: str | int | None) -> Macro | None:
    if macro in (None, ""):
        return None
    found = None
    if str(macro).isdigit():
        found = (
            Macro.objects.select_related("set_group", "set_assignee", "add_task_template").filter(pk=int(macro)).first()
        )
    if found is None or not permissions.can(by, "use", found):
        raise ValidationError({"body": _("This macro is no longer available; pick another one.")})
    return found


@transaction.atomic
def reply_with_macro(
    ticket: Ticket,
    *,
    by: User,
    body: str,
    internal: bool = False,
    uploads: Sequence[IO[bytes]] = (),
    expected_version: int | None = None,
    macro: str | int | None = None,
) -> Comment:
    """The agent's reply (``comment_on_ticket``) and, when a macro was picked, its field changes,
    in one transaction: if a change is refused, the reply is not sent either."""
    chosen = _macro_to_apply(by, macro)
    comment = ticket_services.comment_on_ticket(
        ticket, by=by, body=body, internal=internal, uploads=uploads, expected_version=expected_version
    )
    if chosen is not None:
        apply_macro(macro=chosen, ticket=ticket, by=by)
    return comment
