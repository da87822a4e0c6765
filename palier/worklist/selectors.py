"""Reads of the worklist: a ticket's tasks and scheduled follow-ups, an agent's own open tasks,
the task templates. Each function runs a fixed number of queries whatever it returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from palier.people.models import SupportGroup, User
from palier.tickets.models import Ticket
from palier.tickets.selectors import tickets_visible_to
from palier.worklist import permissions
from palier.worklist.models import ScheduledAction, TaskTemplate, TicketTask

MY_TASKS = 20


@dataclass(frozen=True)
class TicketWork:
    """The ticket page's tasks panel and schedule form."""

    tasks: list[TicketTask]
    scheduled: list[ScheduledAction]
    templates: list[TaskTemplate]
    can_edit: bool
    can_schedule: bool

    @property
    def open_mandatory(self) -> int:
        return sum(1 for t in self.tasks if t.mandatory and t.is_open)

    @property
    def done_count(self) -> int:
        return sum(1 for t in self.tasks if t.status == TicketTask.Status.DONE)


def ticket_tasks(user: User, ticket: Ticket) -> list[TicketTask]:
    """The tasks of a ticket ``user`` may see (none for a requester), in checklist order."""
    if not permissions.can(user, "view", ticket, seen=True):
        return []
    return list(TicketTask.objects.filter(ticket_id=ticket.pk).select_related("assignee", "group"))


def scheduled_for_ticket(user: User, ticket: Ticket, *, pending_only: bool = True) -> list[ScheduledAction]:
    """The replies and reminders ``user`` scheduled on ``ticket`` (all of them for an
    administrator), soonest first."""
    if not permissions.can(user, "view", ticket, seen=True):
        return []
    found = ScheduledAction.objects.filter(ticket_id=ticket.pk).select_related("author")
    if pending_only:
        found = found.filter(state=ScheduledAction.State.PENDING)
    if not user.is_admin:
        found = found.filter(author_id=user.pk)
    return list(found.order_by("run_at", "id")[:50])


def ticket_work(user: User, ticket: Ticket) -> TicketWork:
    """Everything the ticket page's tasks panel shows (three queries; ``ticket`` is one the caller
    already checked ``user`` may see)."""
    can_edit = permissions.can(user, "edit", ticket, seen=True)
    return TicketWork(
        tasks=ticket_tasks(user, ticket),
        scheduled=scheduled_for_ticket(user, ticket),
        templates=list(TaskTemplate.objects.filter(is_active=True).order_by("name")) if can_edit else [],
        can_edit=can_edit,
        can_schedule=permissions.can(user, "schedule", ticket, seen=True),
    )


def _visible_tasks(user: User) -> QuerySet[TicketTask]:
    return TicketTask.objects.filter(ticket__in=tickets_visible_to(user))


def get_task_for(user: User, task_id: int) -> TicketTask:
    """A task of a ticket ``user`` may see as desk staff, or 404."""
    task = (
        _visible_tasks(user).select_related("ticket", "ticket__group", "assignee", "group").filter(pk=task_id).first()
    )
    if task is None or not permissions.can(user, "view", task.ticket, seen=True):
        raise Http404("task")
    return task


def get_scheduled_for(user: User, scheduled_id: int) -> ScheduledAction:
    """A follow-up ``user`` scheduled (any, for an administrator) on a ticket they see, or 404."""
    found = (
        ScheduledAction.objects.select_related("ticket", "author")
        .filter(pk=scheduled_id, ticket__in=tickets_visible_to(user))
        .first()
    )
    if found is None or not (found.author_id == user.pk or user.is_admin):
        raise Http404("scheduled")
    return found


def my_open_tasks(
    user: User, *, limit: int = MY_TASKS, after: tuple[date | None, int] | None = None
) -> list[TicketTask]:
    """``user``'s open tasks on open tickets they still see, soonest due first (no due day last),
    one query; ``after``: the (due day, id) of the last task of the previous page."""
    if not user.is_authenticated or not user.is_agent:
        return []
    found = (
        _visible_tasks(user)
        .filter(assignee_id=user.pk, status__in=TicketTask.OPEN_STATUSES, ticket__status__in=Ticket.OPEN_STATUSES)
        .select_related("ticket", "group")
    )
    if after is not None:
        due, pk = after
        if due is None:
            found = found.filter(due_on__isnull=True, pk__gt=pk)
        else:
            found = found.filter(Q(due_on__gt=due) | Q(due_on=due, pk__gt=pk) | Q(due_on__isnull=True))
    return list(found.order_by(F("due_on").asc(nulls_last=True), "id")[:limit])


def templates(*, active_only: bool = False) -> list[TaskTemplate]:
    found = TaskTemplate.objects.prefetch_related("items", "items__group").order_by("name")
    if active_only:
        found = found.filter(is_active=True)
    return list(found)


def get_template(template_id: int) -> TaskTemplate:
    found = TaskTemplate.objects.prefetch_related("items").filter(pk=template_id).first()
    if found is None:
        raise Http404("task template")
    return found


def template_choices() -> QuerySet[TaskTemplate]:
    """The active task templates, by name (a form's choices)."""
    return TaskTemplate.objects.filter(is_active=True).order_by("name")


def active_template(template_id: int) -> TaskTemplate | None:
    return TaskTemplate.objects.filter(pk=template_id, is_active=True).first()


def people_for_task(*, assignee_id: int | None, group_id: int | None) -> tuple[User | None, SupportGroup | None]:
    """The person and group a task form or the API names by id (two queries at most); an id that
    names nobody is refused on its field (an inactive or non-staff person is refused by the
    service, with its own message)."""
    assignee = User.objects.filter(pk=assignee_id).first() if assignee_id else None
    if assignee_id and assignee is None:
        raise ValidationError({"assignee": _("Choose a person from the list.")})
    group = SupportGroup.objects.filter(pk=group_id).first() if group_id else None
    if group_id and group is None:
        raise ValidationError({"group": _("Choose a group from the list.")})
    return assignee, group
