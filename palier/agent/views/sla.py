"""SLA pages: the administration of calendars and policies (admins only; others get a 404, like
every admin page), and the ticket's SLA panel for htmx polling (agents who may see the ticket).

Views parse a form, call one sla service and render; a refused form keeps what the admin typed
and shows the service's message next to the field (status 400), and nothing changes.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from palier.agent.forms.sla import CalendarForm, PolicyForm
from palier.agent.views._admin import form_page, save_form
from palier.lib.web import admin_required, agent_required
from palier.people.http import AuthedRequest
from palier.sla import selectors, services
from palier.tickets import selectors as ticket_selectors


@admin_required
def calendars(request: AuthedRequest) -> HttpResponse:
    form = CalendarForm(request.POST or None)
    if created := save_form(request, form, services.create_calendar):
        messages.success(request, _("“%(name)s” is created.") % {"name": created})
        return redirect("sla:calendar-edit", created.pk)
    return form_page(request, "agent/sla/calendars.html", form, calendars=selectors.calendars_for_admin())


@admin_required
def calendar_edit(request: AuthedRequest, calendar_id: int) -> HttpResponse:
    calendar = selectors.get_calendar_for_admin(calendar_id)
    form = CalendarForm(request.POST or None, initial=CalendarForm.initial_for(calendar))
    if save_form(request, form, services.update_calendar, calendar=calendar):
        messages.success(request, _("“%(name)s” is saved.") % {"name": calendar})
        return redirect("sla:calendar-edit", calendar.pk)
    if form.is_bound:  # the refused values stay in the form; the preview shows what is saved
        calendar = selectors.get_calendar_for_admin(calendar_id)
    return form_page(
        request, "agent/sla/calendar_edit.html", form, calendar=calendar, holidays=selectors.upcoming_holidays(calendar)
    )


@admin_required
def policies(request: AuthedRequest) -> HttpResponse:
    form = PolicyForm(request.POST or None)
    if created := save_form(request, form, services.create_policy):
        messages.success(request, _("“%(name)s” is created.") % {"name": created})
        return redirect("sla:policy-edit", created.pk)
    return form_page(request, "agent/sla/policies.html", form, policies=selectors.policies_for_admin())


@admin_required
def policy_edit(request: AuthedRequest, policy_id: int) -> HttpResponse:
    policy = selectors.get_policy_for_admin(policy_id)
    form = PolicyForm(request.POST or None, initial=PolicyForm.initial_for(policy))
    if save_form(request, form, services.update_policy, policy=policy):
        messages.success(request, _("“%(name)s” is saved.") % {"name": policy})
        return redirect("sla:policy-edit", policy.pk)
    return form_page(request, "agent/sla/policy_edit.html", form, policy=policy)


@agent_required
def ticket_panel(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """The SLA panel alone, refreshed by htmx every minute on the agent's ticket page."""
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id)
    return render(request, "agent/sla/ticket_panel.html", {"sla": selectors.ticket_sla(ticket)})
