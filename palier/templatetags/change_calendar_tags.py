"""The change page's conflicts box: ``{% load change_calendar_tags %}{% change_conflicts change %}``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.changes import calendar_selectors, conflicts
from palier.changes.models import Change

register = template.Library()


@register.inclusion_tag("agent/change_calendar/_conflicts_box.html", takes_context=True)
def change_conflicts(context: template.Context, change: Change) -> dict[str, Any]:
    """The change's conflicts (other changes on the same items, freezes, maintenance windows), the
    names of the items the viewer may not see hidden."""
    request = context.get("request")
    found = conflicts.conflicts_for_change(change)
    viewer = getattr(request, "user", None)
    if found and viewer is not None:
        visible = calendar_selectors.visible_asset_ids(viewer, {c.asset_id for c in found if c.asset_id})
        hidden = _("a restricted item")
        found = [
            c if c.asset_id is None or c.asset_id in visible else replace(c, asset_label=hidden, service_label=hidden)
            for c in found
        ]
    start = change.planned_start or timezone.now()
    year, week, _day = timezone.localtime(start).isocalendar()
    return {
        "conflicts": found,
        "has_window": bool(change.planned_start and change.planned_end),
        "week": f"{year:04d}-W{week:02d}",
        "request": request,
    }
