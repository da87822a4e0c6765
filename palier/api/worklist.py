"""Tasks on tickets and scheduled follow-ups (``/tickets/{id}/tasks``, ``/tickets/{id}/scheduled``)
and task templates (``/task-templates``).

Tasks are internal: desk staff who may read a ticket's internal notes list them; those who may
update the ticket add and change them. A requester gets 403, an agent who cannot see the ticket
404. A task's ETag is ``"<id>-<version>"``: a change sends it in ``If-Match`` (or ``version``) and
a stale one answers 412. Creations accept an ``Idempotency-Key``. Thin handlers over
``palier.worklist``; refusals are problem+json like every error of the API.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.params.functions import Header

from palier.api.auth import current_user
from palier.api.etag import expected_version, set_etag
from palier.api.resources import Resource, mount
from palier.api.schemas.common import Input, UserRef
from palier.lib.errors import PermissionDenied
from palier.people.models import User
from palier.tickets import selectors as ticket_selectors
from palier.tickets.models import Ticket
from palier.worklist import permissions, selectors
from palier.worklist.models import MAX_BODY, MAX_TITLE, ScheduledAction, TaskTemplate, TicketTask
from palier.worklist.services import idempotent, scheduling, tasks, templates

router = Router()
templates_router = Router()


class TaskGroupRef(Schema):
    id: int
    name: str


class TaskOut(Schema):
    id: int
    ticket: int = Field(description="The ticket's id.")
    title: str
    status: str = Field(description="open, in_progress, done or cancelled.")
    mandatory: bool = Field(description="An open mandatory task keeps the ticket from being resolved.")
    assignee: UserRef | None
    group: TaskGroupRef | None
    due_on: date | None
    version: int
    created_at: datetime
    done_at: datetime | None

    @staticmethod
    def resolve_ticket(obj: TicketTask) -> int:
        return obj.ticket_id


class TaskIn(Input):
    title: str = Field(max_length=MAX_TITLE)
    assignee: int | None = Field(None, description="An active staff member (of ``group`` when given).")
    group: int | None = None
    due_on: date | None = Field(None, strict=False, description="YYYY-MM-DD, today or later (your time zone).")
    mandatory: bool = False


class TaskPatch(Input):
    title: str | None = Field(None, max_length=MAX_TITLE)
    status: str | None = None
    mandatory: bool | None = None
    assignee: int | None = None
    group: int | None = None
    due_on: date | None = Field(None, strict=False)
    version: int | None = Field(None, description="The version you saw, when not sent as If-Match.")


class TemplateUse(Input):
    template: int


class ScheduledOut(Schema):
    id: int
    ticket: int
    kind: str = Field(description="reply (a public comment) or reminder (a notification to its author).")
    body: str
    run_at: datetime
    time_zone: str = Field(description="The author's time zone the time was chosen in.")
    state: str = Field(description="pending, done or cancelled.")
    reason: str = Field(description="Why it was cancelled: agent, requester, closed or refused.")

    @staticmethod
    def resolve_ticket(obj: ScheduledAction) -> int:
        return obj.ticket_id


class ScheduledIn(Input):
    kind: str = Field(description="reply or reminder.")
    run_at: datetime = Field(strict=False, description="ISO 8601; without an offset, in your time zone.")
    body: str = Field("", max_length=MAX_BODY)


class TemplateItemIO(Schema):
    title: str = Field(max_length=MAX_TITLE)
    group: int | None = None
    mandatory: bool = False
    due_in_days: int | None = Field(None, ge=0, le=365)


class TemplateOut(Schema):
    id: int
    name: str
    description: str
    is_active: bool
    items: list[TemplateItemIO]

    @staticmethod
    def resolve_items(obj: TaskTemplate) -> list[dict[str, Any]]:
        return [
            {"title": i.title, "group": i.group_id, "mandatory": i.mandatory, "due_in_days": i.due_in_days}
            for i in obj.items.all()
        ]


class TemplateIn(Input):
    name: str = Field(max_length=200)
    description: str = Field("", max_length=500)
    is_active: bool = True
    items: list[dict[str, Any]] = Field(description="Each: title, group (id), mandatory, due_in_days.")


def _ticket(request: HttpRequest, ticket_id: int) -> tuple[User, Ticket]:
    user = current_user(request)
    ticket = ticket_selectors.get_ticket_for(user, ticket_id)
    if not permissions.can(user, "view", ticket, seen=True):
        raise PermissionDenied(_("Only the desk staff see a ticket's tasks."))
    return user, ticket


def _fingerprint(ticket_id: int, payload: Input) -> str:
    body = json.dumps([ticket_id, payload.model_dump(mode="json")], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _task(user: User, ticket: Ticket, task_id: int) -> TicketTask:
    task = selectors.get_task_for(user, task_id)
    if task.ticket_id != ticket.pk:
        raise PermissionDenied(_("This task belongs to another ticket."))
    return task


@router.get("/{int:ticket_id}/tasks", response=list[TaskOut])
def list_tasks(request: HttpRequest, ticket_id: int) -> list[TicketTask]:
    """A ticket's tasks in checklist order (at most 100 per ticket)."""
    user, ticket = _ticket(request, ticket_id)
    return selectors.ticket_tasks(user, ticket)


@router.post("/{int:ticket_id}/tasks", response={200: TaskOut, 201: TaskOut})
def add_task(
    request: HttpRequest,
    ticket_id: int,
    payload: TaskIn,
    response: HttpResponse,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Add a task. Retrying with the same ``Idempotency-Key`` returns the first one (200)."""
    user, ticket = _ticket(request, ticket_id)

    def create() -> TicketTask:
        assignee, group = selectors.people_for_task(assignee_id=payload.assignee, group_id=payload.group)
        return tasks.add_task(
            ticket,
            by=user,
            title=payload.title,
            assignee=assignee,
            group=group,
            due_on=payload.due_on,
            mandatory=payload.mandatory,
        )

    created = True
    if idempotency_key:
        key = idempotency_key
        task, created = idempotent.create_once(
            key=key, fingerprint=_fingerprint(ticket.pk, payload), by=user, kind=TicketTask, create=create
        )
    else:
        task = create()
    task = selectors.get_task_for(user, task.pk)
    set_etag(response, task)
    return Status(201 if created else 200, task)


@router.get("/{int:ticket_id}/tasks/{int:task_id}", response=TaskOut)
def get_task(request: HttpRequest, ticket_id: int, task_id: int, response: HttpResponse) -> TicketTask:
    """One task; the ETag header carries its version."""
    user, ticket = _ticket(request, ticket_id)
    task = _task(user, ticket, task_id)
    set_etag(response, task)
    return task


@router.patch("/{int:ticket_id}/tasks/{int:task_id}", response=TaskOut)
def update_task(
    request: HttpRequest,
    ticket_id: int,
    task_id: int,
    payload: TaskPatch,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> TicketTask:
    """Change a task (send only what changes; ``null`` clears the assignee, group or due day).
    The version you saw is required (If-Match or ``version``): a stale one answers 412."""
    user, ticket = _ticket(request, ticket_id)
    task = _task(user, ticket, task_id)
    expected = expected_version(
        task, if_match, payload.version, required=True, mismatch=_("This ETag is not this task's.")
    )
    fields = payload.model_dump(exclude_unset=True, exclude={"version"})
    if "assignee" in fields or "group" in fields:
        assignee, group = selectors.people_for_task(
            assignee_id=fields.get("assignee", task.assignee_id), group_id=fields.get("group", task.group_id)
        )
        fields |= {"assignee": assignee, "group": group}
    task = tasks.update_task(task, by=user, expected_version=expected, **fields)
    set_etag(response, task)
    return task


@router.post("/{int:ticket_id}/tasks/from-template", response={201: list[TaskOut]})
def add_template(request: HttpRequest, ticket_id: int, payload: TemplateUse) -> Status[Any]:
    """Add the tasks of an active task template."""
    user, ticket = _ticket(request, ticket_id)
    template = selectors.active_template(payload.template)
    if template is None:
        raise PermissionDenied(_("Choose an active task template."))
    tasks.add_template_tasks(ticket, template, by=user)
    return Status(201, selectors.ticket_tasks(user, ticket))


@router.get("/{int:ticket_id}/scheduled", response=list[ScheduledOut])
def list_scheduled(request: HttpRequest, ticket_id: int) -> list[ScheduledAction]:
    """Your replies and reminders on this ticket (everyone's for an administrator), pending and
    past, soonest first (at most 50)."""
    user, ticket = _ticket(request, ticket_id)
    return selectors.scheduled_for_ticket(user, ticket, pending_only=False)


@router.post("/{int:ticket_id}/scheduled", response={200: ScheduledOut, 201: ScheduledOut})
def schedule(
    request: HttpRequest,
    ticket_id: int,
    payload: ScheduledIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
) -> Status[Any]:
    """Schedule a public reply or a reminder to yourself. Either is cancelled if the requester
    answers first. Retrying with the same ``Idempotency-Key`` returns the first one (200)."""
    user, ticket = _ticket(request, ticket_id)

    def create() -> ScheduledAction:
        return scheduling.schedule(ticket, by=user, kind=payload.kind, run_at=payload.run_at, body=payload.body)

    created = True
    if idempotency_key:
        found, created = idempotent.create_once(
            key=idempotency_key,
            fingerprint=_fingerprint(ticket.pk, payload),
            by=user,
            kind=ScheduledAction,
            create=create,
        )
    else:
        found = create()
    return Status(201 if created else 200, found)


@router.post("/{int:ticket_id}/scheduled/{int:scheduled_id}/cancel", response=ScheduledOut)
def cancel_scheduled(request: HttpRequest, ticket_id: int, scheduled_id: int) -> ScheduledAction:
    """Cancel a pending reply or reminder you scheduled; one that already ran answers 409."""
    user, ticket = _ticket(request, ticket_id)
    found = selectors.get_scheduled_for(user, scheduled_id)
    if found.ticket_id != ticket.pk:
        raise PermissionDenied(_("This follow-up belongs to another ticket."))
    return scheduling.cancel(found, by=user)


@templates_router.get("", response=list[TemplateOut])
def list_templates(request: HttpRequest) -> list[TaskTemplate]:
    """Every task template (desk staff)."""
    user = current_user(request)
    if not user.is_agent:
        raise PermissionDenied(_("Only the desk staff see task templates."))
    return selectors.templates()


@templates_router.post("", response={201: TemplateOut})
def create_template(request: HttpRequest, payload: TemplateIn) -> Status[Any]:
    """Add a task template (administrators)."""
    user = current_user(request)
    template = templates.save_template(
        by=user, name=payload.name, description=payload.description, is_active=payload.is_active, items=payload.items
    )
    return Status(201, selectors.get_template(template.pk))


class TemplatePatch(Input):
    name: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=500)
    is_active: bool | None = None
    items: list[dict[str, Any]] | None = Field(None, description="Replaces every task of the template.")


def _save_template(user: User, template: TaskTemplate, data: dict[str, Any]) -> TaskTemplate:
    current: dict[str, Any] = {
        "name": template.name,
        "description": template.description,
        "is_active": template.is_active,
        "items": TemplateOut.resolve_items(template),
    }
    return templates.save_template(by=user, template=template, **(current | data))


def _delete_template(user: User, template: TaskTemplate) -> None:
    templates.delete_template(template, by=user)


# read one (desk staff), change or delete it (administrators): the list and the creation above stay
mount(
    templates_router,
    Resource(
        name="task_template",
        path="",
        tag="tasks and follow-ups",
        label="task template",
        out=TemplateOut,
        endpoints=("get", "update", "delete"),
        listing=lambda user, filters: selectors.template_choices(),
        fetch=lambda user, pk: selectors.get_template(pk),
        update_in=TemplatePatch,
        update=_save_template,
        delete=_delete_template,
        can_read=lambda user: bool(user.is_active and user.is_agent),
    ),
)
