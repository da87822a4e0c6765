"""The administration pages' warning when no backup succeeded in the last day (the Backups page
says it in its own words, so it is not repeated there)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from palier.backups.selectors import backup_overdue

register = template.Library()


@register.inclusion_tag("includes/backup_notice.html", takes_context=True)
def backup_notice(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    url = reverse("agent:admin-backups")
    if request is not None and request.path == url:
        return {"backup_overdue": False}
    return {"backup_overdue": backup_overdue(), "backups_url": url}
