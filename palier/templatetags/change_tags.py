"""The changes on the agent's ticket page: ``{% load change_tags %}{% ticket_changes ticket links %}``
shows the changes linked to the ticket (reference, status, relation) and a link to raise a change
already linked to it. ``links`` comes from ``changes.selectors.changes_of_ticket`` (one query, read
by the view); the tag reads nothing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template

from palier.changes.models import ChangeTicket

register = template.Library()


@register.inclusion_tag("agent/changes/ticket_panel.html")
def ticket_changes(ticket: Any, links: Sequence[ChangeTicket] | None = None) -> dict[str, Any]:
    return {"ticket": ticket, "links": links or []}
