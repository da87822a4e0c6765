"""Major-incident pieces of other pages: ``{% load major_tags %}`` then

- ``{% major_banner major_banner %}`` on the agent's ticket page: "Major incident — <headline>"
  linking to its page when the ticket is one or is attached to one, else (for managers and
  administrators, on an open incident) the "Declare a major incident" form. The banner comes
  from ``major_selectors.banner_for`` (one query, in ``agent/contexts.ticket_page_extras``): the
  tag reads nothing; without it, it shows nothing.
- ``{% portal_outages %}`` on the portal's home page: the ongoing published outages. One query.
"""

from __future__ import annotations

from typing import Any

from django import template

from palier.problems import major_selectors, permissions
from palier.tickets.models import Ticket

register = template.Library()


@register.inclusion_tag("agent/major/includes/banner.html", takes_context=True)
def major_banner(context: template.Context, banner: major_selectors.Banner | None) -> dict[str, Any]:
    user = context["request"].user
    ticket: Ticket = context["ticket"]
    if banner is None:
        return {"banner": None, "may_declare": False}
    may_declare = (
        banner.major is None
        and ticket.kind == Ticket.Kind.INCIDENT
        and ticket.status not in (Ticket.Status.CLOSED, Ticket.Status.CANCELLED)
        and permissions.can(user, "declare_major")
    )
    return {"banner": banner, "ticket": ticket, "may_declare": may_declare, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("portal/outages/includes/home.html", takes_context=True)
def portal_outages(context: template.Context) -> dict[str, Any]:
    return {"outages": major_selectors.live_outages(context["request"].user)}
