"""Tasks on tickets: add, change (status, assignee, group, due day, mandatory), add a template's
tasks, and the guard that keeps a ticket with open mandatory tasks from being resolved.

Every write locks the ticket row first (``lock_ticket``), so a task change and a resolution of the
same ticket happen one after the other and the guard decides on committed tasks. Each change
appends an internal ``worktask`` ticket event; the ticket's own ``version`` stays (a task ticked
off never makes a colleague's reply stale), each task has its own ``version`` for If-Match.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from palier.lib.errors import IllegalTransition, StaleVersion
from palier.people.models import Membership, SupportGroup, User
from palier.tickets import history
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket, TicketEvent
from palier.worklist import permissions
from palier.worklist.models import MAX_TASKS, MAX_TITLE, TaskTemplate, TicketTask

E = TicketEvent.Kind
T = TicketTask.Status
UNSET: Any = object()
EDITABLE = ("title", "status", "mandatory", "assignee", "group", "due_on")


def today_for(user: User | None) -> date:
    """Today in ``user``'s working time zone (the desk's when they have none)."""
    name = (user.work_time_zone if user is not None else "") or settings.TIME_ZONE
    try:
        zone = ZoneInfo(name)
    except (KeyError, ValueError):
        zone = ZoneInfo(settings.TIME_ZONE)
    return timezone.now().astimezone(zone).date()


def _title(value: object) -> str:
    title = str(value or "").replace("\x00", "").strip()
    if not title:
        raise ValidationError({"title": _("Say what is to be done.")})
    if len(title) > MAX_TITLE:
        raise ValidationError({"title": _("At most %(n)d characters.") % {"n": MAX_TITLE}})
    return title


def _check_people(assignee: User | None, group: SupportGroup | None) -> None:
    if assignee is not None and not (assignee.is_active and assignee.is_agent and not assignee.is_system):
        raise ValidationError({"assignee": _("A task can only be given to an active member of the desk staff.")})
    if (
        assignee is not None
        and group is not None
        and not Membership.objects.filter(group_id=group.pk, user_id=assignee.pk).exists()
    ):
        raise ValidationError(
            {
                "assignee": _("%(name)s is not a member of %(group)s.")
                % {"name": assignee.display_name, "group": group.name}
            }
        )


def _check_due(due_on: date | None, *, by: User | None, old: date | None = None) -> None:
    if due_on is not None and due_on != old and due_on < today_for(by):
        raise ValidationError({"due_on": _("The due date cannot be in the past.")})


def _open_ticket(ticket: Ticket) -> Ticket:
    ticket = ticket_services.lock_ticket(ticket)
    if not ticket.is_open:
        raise IllegalTransition(_("This ticket is no longer open; reopen it to add tasks."), field="title")
    return ticket


def _event(ticket: Ticket, by: User | None, action: str, task: TicketTask, **data: Any) -> None:
    history.record(ticket, E.WORKTASK, by=by, internal=True, action=action, task=task.pk, title=task.title, **data)


@transaction.atomic
def add_task(
    ticket: Ticket,
    *,
    by: User | None,
    title: str,
    assignee: User | None = None,
    group: SupportGroup | None = None,
    due_on: date | None = None,
    mandatory: bool = False,
) -> TicketTask:
    """Add one task at the end of ``ticket``'s checklist. ``by`` None: Palier itself (a rule)."""
    if by is not None:
        permissions.require(by, "edit", ticket)
    title = _title(title)
    _check_people(assignee, group)
    _check_due(due_on, by=by)
    ticket = _open_ticket(ticket)
    count = TicketTask.objects.filter(ticket_id=ticket.pk).count()
    if count >= MAX_TASKS:
        raise ValidationError({"title": _("A ticket has at most %(n)d tasks.") % {"n": MAX_TASKS}})
    task = TicketTask.objects.create(
        ticket=ticket,
        position=count,
        title=title,
        assignee=assignee,
        group=group,
        due_on=due_on,
        mandatory=bool(mandatory),
        created_by=by,
    )
    _event(ticket, by, "added", task, mandatory=task.mandatory)
    return task


def _changes(task: TicketTask, fields: dict[str, Any], *, by: User) -> dict[str, Any]:
    """The fields that really change, validated (nothing written)."""
    wanted = {name: value for name, value in fields.items() if value is not UNSET}
    unknown = sorted(set(wanted) - set(EDITABLE))
    if unknown:
        raise ValidationError({unknown[0]: _("This field cannot be changed.")})
    if "title" in wanted:
        wanted["title"] = _title(wanted["title"])
    if "status" in wanted and wanted["status"] not in T.values:
        raise ValidationError({"status": _("Choose a status from the list.")})
    if "mandatory" in wanted:
        wanted["mandatory"] = bool(wanted["mandatory"])
    assignee = wanted.get("assignee", task.assignee)
    group = wanted.get("group", task.group)
    if "assignee" in wanted or "group" in wanted:
        _check_people(assignee, group)
    if "due_on" in wanted:
        _check_due(wanted["due_on"], by=by, old=task.due_on)
    return {name: value for name, value in wanted.items() if getattr(task, name) != value}


def _value(name: str, value: Any) -> Any:
    if isinstance(value, User):
        return value.display_name
    if isinstance(value, SupportGroup):
        return value.name
    if isinstance(value, date):
        return value.isoformat()
    return value


@transaction.atomic
def update_task(
    task: TicketTask,
    *,
    by: User,
    expected_version: int | None = None,
    title: Any = UNSET,
    status: Any = UNSET,
    mandatory: Any = UNSET,
    assignee: Any = UNSET,
    group: Any = UNSET,
    due_on: Any = UNSET,
) -> TicketTask:
    """Change a task; ``expected_version`` (the version the caller saw) refuses with
    ``StaleVersion`` when someone changed it meanwhile."""
    ticket = task.ticket
    permissions.require(by, "edit", ticket)
    ticket_services.lock_ticket(ticket)
    current = TicketTask.objects.select_for_update().filter(pk=task.pk, ticket_id=ticket.pk).first()
    if current is None:
        raise ValidationError(_("This task no longer exists."))
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion(_("Someone changed this task meanwhile; reload it and try again."))
    changes = _changes(
        current,
        {
            "title": title,
            "status": status,
            "mandatory": mandatory,
            "assignee": assignee,
            "group": group,
            "due_on": due_on,
        },
        by=by,
    )
    if not changes:
        return current
    old = {name: _value(name, getattr(current, name)) for name in changes}
    for name, value in changes.items():
        setattr(current, name, value)
    now = timezone.now()
    if "status" in changes:
        current.done_at = now if current.status == T.DONE else None
    current.version += 1
    current.updated_at = now
    current.save()
    action = current.status if set(changes) == {"status"} else "changed"
    new = {name: _value(name, value) for name, value in changes.items()}
    _event(ticket, by, action, current, old=old, new=new)
    current.ticket = ticket
    return current


@transaction.atomic
def add_template_tasks(ticket: Ticket, template: TaskTemplate, *, by: User | None) -> list[TicketTask]:
    """Add the tasks of ``template`` to ``ticket`` (due days counted from today; an item's group
    kept only while it exists). ``by`` None: Palier itself (an automation rule)."""
    if by is not None:
        permissions.require(by, "edit", ticket)
    if not template.is_active:
        raise ValidationError({"template": _("This task template is no longer in use.")})
    ticket = _open_ticket(ticket)
    items = list(template.items.select_related("group").order_by("position", "id"))
    count = TicketTask.objects.filter(ticket_id=ticket.pk).count()
    if count + len(items) > MAX_TASKS:
        raise ValidationError({"template": _("A ticket has at most %(n)d tasks.") % {"n": MAX_TASKS}})
    today = today_for(by)
    tasks = TicketTask.objects.bulk_create(
        [
            TicketTask(
                ticket=ticket,
                position=count + index,
                title=item.title,
                group=item.group,
                mandatory=item.mandatory,
                due_on=today + timedelta(days=item.due_in_days) if item.due_in_days is not None else None,
                template=template,
                created_by=by,
            )
            for index, item in enumerate(items)
        ]
    )
    history.record(
        ticket, E.WORKTASK, by=by, internal=True, action="template", template=template.name, count=len(tasks)
    )
    return tasks


def before_resolve(ticket: Ticket, *, by: User | None) -> None:
    """The ``BEFORE_RESOLVE`` guard (``palier/events.py``): refuse to resolve ``ticket`` while one
    of its mandatory tasks is open, naming them."""
    titles = list(
        TicketTask.objects.filter(ticket_id=ticket.pk, mandatory=True, status__in=TicketTask.OPEN_STATUSES)
        .order_by("position", "id")
        .values_list("title", flat=True)[:4]
    )
    if not titles:
        return
    shown = ", ".join(f"“{title}”" for title in titles[:3]) + (", …" if len(titles) > 3 else "")
    raise IllegalTransition(
        ngettext(
            "This ticket cannot be resolved while a mandatory task is open: %(tasks)s.",
            "This ticket cannot be resolved while mandatory tasks are open: %(tasks)s.",
            len(titles),
        )
        % {"tasks": shown},
        field="status",
    )
