"""Routing pages: ticket actions (escalate, route again, vendor reference), the agent's own
availability, the manager's team page, and the admin pages for rules and escalation defaults.

Ticket actions redirect back to the ticket page with a message (htmx gets ``HX-Redirect``); a
refused form is shown again with its errors and nothing changes.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from palier.agent.forms import routing as f
from palier.agent.forms import routing_actions as action_forms
from palier.agent.views._admin import form_page, save_form
from palier.lib.errors import DomainError
from palier.lib.web import admin_required, agent_required, apply_errors
from palier.people.http import AuthedRequest
from palier.people.models import User
from palier.routing import selectors, services
from palier.tickets import selectors as ticket_selectors


def _back_to_ticket(request: AuthedRequest, ticket_id: int, text: str) -> HttpResponse:
    messages.success(request, text)
    url = reverse("agent:ticket-detail", args=[ticket_id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _refused(request: AuthedRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """The form again with its errors: the partial for htmx (200, so it swaps), else a small page."""
    if request.htmx:
        return render(request, template, context)
    return render(request, "agent/routing/ticket_action.html", {**context, "partial": template}, status=400)


def _run(form: forms.Form, write: Any, **kwargs: Any) -> Any:
    try:
        return write(**kwargs)
    except (ValidationError, DomainError) as exc:
        apply_errors(form, exc)
        return None


# --- ticket actions -------------------------------------------------------------------------------


@agent_required
@require_POST
def ticket_escalate(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id, action="update")
    form = action_forms.EscalateForm(request.POST, groups=selectors.escalation_groups())
    if form.is_valid():
        data = form.cleaned_data
        write = services.deescalate if data["target"] == action_forms.AUTO_DOWN else services.escalate
        done = _run(
            form,
            write,
            ticket=ticket,
            by=request.user,
            reason=data["reason"],
            to_group=form.target_group(),
            expected_version=data["version"],
        )
        if done is not None:
            text = _("%(ref)s is now with %(group)s.") % {"ref": done.reference, "group": done.group}
            return _back_to_ticket(request, ticket_id, text)
    return _refused(request, "agent/routing/escalate_form.html", {"ticket": ticket, "escalate_form": form})


@agent_required
@require_POST
def ticket_reroute(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id, action="update")
    form = f.VersionForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        done = services.reroute(ticket, by=request.user, expected_version=version)
    except (ValidationError, DomainError) as exc:
        messages.error(request, exc.message if isinstance(exc, DomainError) else " ".join(exc.messages))
        return redirect("agent:ticket-detail", ticket_id=ticket_id)
    if done.group_id == ticket.group_id:
        text = _("Routing kept %(ref)s in %(group)s.") % {"ref": done.reference, "group": done.group}
    else:
        text = _("%(ref)s was routed to %(group)s.") % {"ref": done.reference, "group": done.group}
    return _back_to_ticket(request, ticket_id, text)


@agent_required
@require_POST
def ticket_vendor_reference(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id, action="update")
    form = action_forms.VendorReferenceForm(request.POST)
    if form.is_valid():
        done = _run(
            form,
            services.set_vendor_reference,
            ticket=ticket,
            by=request.user,
            reference=form.cleaned_data["reference"],
            expected_version=form.cleaned_data["version"],
        )
        if done is not None:
            return _back_to_ticket(request, ticket_id, _("The vendor's reference is saved."))
    return _refused(request, "agent/routing/vendor_reference_form.html", {"ticket": ticket, "vendor_form": form})


# --- availability and the team page -------------------------------------------------------------------


def _safe_next(request: AuthedRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return default


@agent_required
@require_POST
def my_availability(request: AuthedRequest) -> HttpResponse:
    form = f.AvailabilityForm(request.POST)
    form.is_valid()
    agent = services.set_availability(request.user, bool(form.cleaned_data.get("available")), by=request.user)
    if request.htmx:
        return render(request, "agent/routing/availability_toggle.html", {"agent": agent, "request": request})
    messages.success(
        request, _("You are available for new tickets.") if agent.is_available else _("You will get no new tickets.")
    )
    return redirect(_safe_next(request, reverse("agent:ticket-list")))


def _manager_only(user: User) -> None:
    if not (user.is_admin or user.role == User.Role.MANAGER):
        raise Http404("page")


@agent_required
def team(request: AuthedRequest) -> HttpResponse:
    _manager_only(request.user)
    return render(
        request,
        "agent/routing/team.html",
        {"members": selectors.team_for(request.user), "absence_form": f.AbsenceForm()},
    )


@agent_required
@require_POST
def team_availability(request: AuthedRequest, agent_id: int) -> HttpResponse:
    _manager_only(request.user)
    agent = selectors.get_team_member_for(request.user, agent_id)
    form = f.AvailabilityForm(request.POST)
    form.is_valid()
    services.set_availability(agent, bool(form.cleaned_data.get("available")), by=request.user)
    messages.success(request, _("%(name)s's availability is saved.") % {"name": agent.display_name})
    return redirect("routing:team")


@agent_required
@require_POST
def team_absence_add(request: AuthedRequest, agent_id: int) -> HttpResponse:
    _manager_only(request.user)
    agent = selectors.get_team_member_for(request.user, agent_id)
    form = f.AbsenceForm(request.POST)
    if form.is_valid() and _run(form, services.add_absence, agent=agent, by=request.user, **form.cleaned_data):
        messages.success(request, _("The absence of %(name)s is saved.") % {"name": agent.display_name})
        return redirect("routing:team")
    context = {"members": selectors.team_for(request.user), "absence_form": f.AbsenceForm(), "bad_form": form}
    return render(request, "agent/routing/team.html", {**context, "bad_agent": agent}, status=400)


@agent_required
@require_POST
def team_absence_delete(request: AuthedRequest, absence_id: int) -> HttpResponse:
    _manager_only(request.user)
    absence = selectors.get_absence_for(request.user, absence_id)
    services.remove_absence(absence, by=request.user)
    messages.success(request, _("The absence is removed."))
    return redirect("routing:team")


@agent_required
@require_POST
def team_requeue(request: AuthedRequest, agent_id: int) -> HttpResponse:
    _manager_only(request.user)
    agent = selectors.get_team_member_for(request.user, agent_id)
    try:
        count = services.requeue_open_tickets(agent, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("routing:team")
    messages.success(
        request,
        _("%(count)d open tickets of %(name)s went back to their queues.")
        % {"count": count, "name": agent.display_name},
    )
    return redirect("routing:team")


# --- administration: rules and escalation defaults ------------------------------------------------------


@admin_required
def rules(request: AuthedRequest) -> HttpResponse:
    form = f.RuleForm(request.POST or None)
    if created := save_form(request, form, services.create_rule):
        messages.success(request, _("The rule “%(name)s” is created.") % {"name": created.name})
        return redirect("routing:rules")
    return form_page(request, "agent/routing/rules.html", form, rules=selectors.rules_for_admin())


@admin_required
def rule_edit(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.get_rule_for_admin(rule_id)
    initial = {name: getattr(rule, name) for name in services.rules.RULE_FIELDS}
    form = f.RuleForm(request.POST or None, initial=initial)
    if save_form(request, form, services.update_rule, rule=rule):
        messages.success(request, _("The rule “%(name)s” is saved.") % {"name": rule.name})
        return redirect("routing:rules")
    return form_page(request, "agent/routing/rule_edit.html", form, rule=rule, trial=selectors.dry_run(rule))


@admin_required
@require_POST
def rule_move(request: AuthedRequest, rule_id: int, direction: str) -> HttpResponse:
    if direction not in ("up", "down"):
        raise Http404("direction")
    services.move_rule(selectors.get_rule_for_admin(rule_id), by=request.user, up=direction == "up")
    return redirect("routing:rules")


@admin_required
@require_POST
def rule_active(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.get_rule_for_admin(rule_id)
    try:
        services.set_rule_active(rule, by=request.user, active=request.POST.get("active") == "1")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("routing:rules")


@admin_required
@require_POST
def rule_delete(request: AuthedRequest, rule_id: int) -> HttpResponse:
    rule = selectors.get_rule_for_admin(rule_id)
    services.delete_rule(rule, by=request.user)
    messages.success(request, _("The rule “%(name)s” is deleted.") % {"name": rule.name})
    return redirect("routing:rules")


@admin_required
def defaults(request: AuthedRequest) -> HttpResponse:
    form = f.CategoryDefaultForm(request.POST or None)
    if save_form(request, form, services.set_category_level_default):
        messages.success(request, _("The default group is saved."))
        return redirect("routing:defaults")
    return form_page(request, "agent/routing/defaults.html", form, defaults=selectors.category_defaults_for_admin())


@admin_required
@require_POST
def default_delete(request: AuthedRequest, default_id: int) -> HttpResponse:
    services.delete_category_level_default(selectors.get_category_default_for_admin(default_id), by=request.user)
    messages.success(request, _("The default group is removed."))
    return redirect("routing:defaults")
