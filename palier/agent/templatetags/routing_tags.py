"""Ticket-page and header pieces of the routing app, usable from any agent template:

``{% load routing_tags %}`` then ``{% escalate_form ticket escalation_groups %}``,
``{% reroute_button ticket %}``, ``{% vendor_reference_form ticket %}`` and
``{% availability_toggle %}``. Each renders its ``agent/routing/*.html`` partial and reads nothing: the
view passes the groups a ticket may be sent to (``routing.selectors.escalation_groups``).
"""

from __future__ import annotations

from typing import Any

from django import template

from palier.agent.forms import routing_actions as f
from palier.people.models import SupportGroup
from palier.tickets.models import Ticket

register = template.Library()


def _base(context: template.Context, ticket: Ticket | None = None) -> dict[str, Any]:
    return {"ticket": ticket, "request": context.get("request"), "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("agent/routing/escalate_form.html", takes_context=True)
def escalate_form(context: template.Context, ticket: Ticket, groups: list[SupportGroup]) -> dict[str, Any]:
    form = f.EscalateForm(initial={"version": ticket.version}, groups=groups)
    return {**_base(context, ticket), "escalate_form": form}


@register.inclusion_tag("agent/routing/reroute_button.html", takes_context=True)
def reroute_button(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    return _base(context, ticket)


@register.inclusion_tag("agent/routing/vendor_reference_form.html", takes_context=True)
def vendor_reference_form(context: template.Context, ticket: Ticket) -> dict[str, Any]:
    form = f.VendorReferenceForm(initial={"reference": ticket.vendor_reference, "version": ticket.version})
    return {**_base(context, ticket), "vendor_form": form}


@register.inclusion_tag("agent/routing/availability_toggle.html", takes_context=True)
def availability_toggle(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    return {**_base(context), "agent": getattr(request, "user", None)}
