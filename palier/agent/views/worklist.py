"""Worklist pages, mounted at /agent/work/ as ``worklist:``: the ticket page's tasks panel and
schedule form (their POST views go back to the ticket page), a task's edit page, the agent's own
open tasks, and the administrators' task templates."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.worklist import (
    ScheduleForm,
    TaskEditForm,
    TaskForm,
    TaskStatusForm,
    TemplateForm,
    TemplatePickForm,
)
from palier.lib.errors import DomainError
from palier.lib.web import admin_required, agent_required, apply_errors
from palier.people import selectors as people_selectors
from palier.people.http import AuthedRequest
from palier.tickets import selectors as ticket_selectors
from palier.worklist import selectors
from palier.worklist.services import scheduling, tasks, templates


def _error_text(exc: ValidationError | DomainError) -> str:
    return exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)


def _form_errors(form: Any) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


def _back(ticket_id: int, anchor: str = "tasks") -> HttpResponse:
    return redirect(reverse("agent:ticket-detail", args=[ticket_id]) + f"#{anchor}")


def _choices() -> dict[str, Any]:
    return {"agents": list(people_selectors.active_agents()), "groups": list(people_selectors.support_groups())}


@agent_required
@require_POST
def task_add(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id)
    form = TaskForm(request.POST, **_choices())
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(ticket_id)
    data = form.cleaned_data
    try:
        assignee, group = selectors.people_for_task(assignee_id=data["assignee"], group_id=data["group"])
        tasks.add_task(
            ticket,
            by=request.user,
            title=data["title"],
            assignee=assignee,
            group=group,
            due_on=data["due_on"],
            mandatory=data["mandatory"],
        )
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Task added."))
    return _back(ticket_id)


@agent_required
@require_POST
def task_status(request: AuthedRequest, task_id: int) -> HttpResponse:
    """The panel's one-click status change (done, reopen), with the version the agent saw."""
    task = selectors.get_task_for(request.user, task_id)
    form = TaskStatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(task.ticket_id)
    try:
        tasks.update_task(
            task, by=request.user, expected_version=form.cleaned_data["version"], status=form.cleaned_data["status"]
        )
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    return _back(task.ticket_id)


@agent_required
def task_edit(request: AuthedRequest, task_id: int) -> HttpResponse:
    task = selectors.get_task_for(request.user, task_id)
    initial = {
        "title": task.title,
        "assignee": task.assignee_id,
        "group": task.group_id,
        "due_on": task.due_on,
        "mandatory": task.mandatory,
        "status": task.status,
        "version": task.version,
    }
    form = TaskEditForm(request.POST or None, initial=initial, **_choices())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assignee, group = selectors.people_for_task(assignee_id=data["assignee"], group_id=data["group"])
            tasks.update_task(
                task,
                by=request.user,
                expected_version=data["version"],
                title=data["title"],
                status=data["status"],
                mandatory=data["mandatory"],
                assignee=assignee,
                group=group,
                due_on=data["due_on"],
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Task saved."))
            return _back(task.ticket_id)
    context = {"task": task, "form": form}
    return render(request, "agent/worklist/task_edit.html", context, status=400 if form.errors else 200)


@agent_required
@require_POST
def template_apply(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id)
    form = TemplatePickForm(request.POST)
    template = selectors.active_template(form.cleaned_data["template"]) if form.is_valid() else None
    if template is None:
        messages.error(request, _("Choose a task template from the list."))
        return _back(ticket_id)
    try:
        added = tasks.add_template_tasks(ticket, template, by=request.user)
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(n)d tasks added.") % {"n": len(added)})
    return _back(ticket_id)


@agent_required
@require_POST
def schedule(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return _back(ticket_id, "schedule")
    data = form.cleaned_data
    try:
        scheduling.schedule(ticket, by=request.user, kind=data["kind"], run_at=data["run_at"], body=data["body"])
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Scheduled."))
    return _back(ticket_id, "schedule")


@agent_required
@require_POST
def scheduled_cancel(request: AuthedRequest, scheduled_id: int) -> HttpResponse:
    found = selectors.get_scheduled_for(request.user, scheduled_id)
    try:
        scheduling.cancel(found, by=request.user)
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Cancelled."))
    return _back(found.ticket_id, "schedule")


def _after(request: AuthedRequest) -> tuple[date | None, int] | None:
    raw = request.GET.get("after", "")
    due, _sep, pk = raw.partition(":")
    if not pk.isdigit():
        return None
    try:
        return (date.fromisoformat(due) if due else None, int(pk))
    except ValueError:
        return None


@agent_required
def my_tasks(request: AuthedRequest) -> HttpResponse:
    """The agent's open tasks on open tickets, soonest due first, a page at a time."""
    page = selectors.my_open_tasks(request.user, limit=selectors.MY_TASKS + 1, after=_after(request))
    more = len(page) > selectors.MY_TASKS
    page = page[: selectors.MY_TASKS]
    last = page[-1] if more and page else None
    after = f"{last.due_on.isoformat() if last.due_on else ''}:{last.pk}" if last else ""
    return render(request, "agent/worklist/mine.html", {"tasks": page, "after": after})


# --- administrators: task templates ------------------------------------------------------------------------


@admin_required
def template_list(request: AuthedRequest) -> HttpResponse:
    return render(request, "agent/worklist/templates.html", {"templates": selectors.templates()})


@admin_required
def template_edit(request: AuthedRequest, template_id: int | None = None) -> HttpResponse:
    template = selectors.get_template(template_id) if template_id else None
    groups = list(people_selectors.support_groups())
    initial: dict[str, Any] = {"is_active": True}
    if template is not None:
        initial = {"name": template.name, "description": template.description, "is_active": template.is_active}
        for index, item in enumerate(template.items.all()):
            initial |= {
                f"title_{index}": item.title,
                f"group_{index}": item.group_id,
                f"days_{index}": item.due_in_days,
                f"mandatory_{index}": item.mandatory,
            }
    form = TemplateForm(request.POST or None, initial=initial, groups=groups)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            templates.save_template(
                by=request.user,
                template=template,
                name=data["name"],
                description=data["description"],
                is_active=data["is_active"],
                items=form.items(),
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Task template saved."))
            return redirect("worklist:templates")
    context = {"template": template, "form": form}
    return render(request, "agent/worklist/template_edit.html", context, status=400 if form.errors else 200)


@admin_required
@require_POST
def template_delete(request: AuthedRequest, template_id: int) -> HttpResponse:
    template = selectors.get_template(template_id)
    try:
        templates.delete_template(template, by=request.user)
    except DomainError as exc:
        raise Http404 from exc
    messages.success(request, _("Task template deleted."))
    return redirect("worklist:templates")
