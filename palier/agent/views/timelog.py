"""Time tracking pages, mounted at /agent/time/ as ``timelog:``: "log work" on a ticket, editing and
deleting an entry (its author within the window, admins), and the administrators' cost rates.

Time logged with a reply goes through the ticket page's reply view (``views/tickets.py``). The
ticket page lists the entries; these views answer its forms and go back to it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent.forms.timelog import CostRateForm, TimeEntryEditForm, TimeEntryForm, time_source
from palier.lib.errors import DomainError
from palier.lib.web import admin_required, agent_required, apply_errors
from palier.people import selectors as people_selectors
from palier.people.http import AuthedRequest
from palier.tickets import selectors as ticket_selectors
from palier.timelog import selectors, services
from palier.timelog.models import TimeEntry


def _error_text(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(exc.messages)


def _back(ticket_id: int) -> HttpResponse:
    return redirect(reverse("agent:ticket-detail", args=[ticket_id]) + "#time")


@agent_required
@require_POST
def log_work(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """The ticket page's "log work" form: minutes, day and note, without a message."""
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id)
    form = TimeEntryForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for errors in form.errors.values() for m in errors))
        return _back(ticket_id)
    data = form.cleaned_data
    try:
        services.log_time(
            ticket,
            by=request.user,
            minutes=data["minutes"],
            work_date=data["work_date"],
            note=data["note"],
            source=time_source(data["time_source"], default=TimeEntry.Source.MANUAL),
        )
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("%(minutes)d min of work logged.") % {"minutes": data["minutes"]})
    return _back(ticket_id)


@agent_required
def entry_edit(request: AuthedRequest, entry_id: int) -> HttpResponse:
    entry = selectors.get_entry_for(request.user, entry_id)
    initial = {"minutes": entry.minutes, "note": entry.note}
    form = TimeEntryEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_time_entry(
                entry, by=request.user, minutes=form.cleaned_data["minutes"], note=form.cleaned_data["note"]
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Logged time changed."))
            return _back(entry.ticket_id)
    context: dict[str, Any] = {"entry": entry, "form": form}
    return render(request, "agent/timelog/entry_edit.html", context, status=400 if form.errors else 200)


@agent_required
@require_POST
def entry_delete(request: AuthedRequest, entry_id: int) -> HttpResponse:
    entry = selectors.get_entry_for(request.user, entry_id)
    try:
        services.delete_time_entry(entry, by=request.user)
    except (ValidationError, DomainError) as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Logged time removed."))
    return _back(entry.ticket_id)


@admin_required
def cost_rates(request: AuthedRequest) -> HttpResponse:
    """The administrators' cost rates: every level's, agent's and vendor group's prices with their
    history, and the form to add one."""
    agents = list(people_selectors.active_agents())
    vendors = [group for group in people_selectors.support_groups() if group.is_vendor]
    form = CostRateForm(request.POST or None, agents=agents, vendors=vendors)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.set_cost_rate(
                by=request.user,
                valid_from=data["valid_from"],
                hourly_rate=data["hourly_rate"],
                per_escalation=data["per_escalation"] or 0,
                **form.target_kwargs(),
            )
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Cost rate saved."))
            return redirect("timelog:rates")
    today = timezone.localdate()
    context: dict[str, Any] = {
        "form": form,
        "history": selectors.rate_history(today=today),
        "today": today,
        "currency": settings.PALIER_CURRENCY,
    }
    return render(request, "agent/timelog/rates.html", context, status=400 if form.errors else 200)
