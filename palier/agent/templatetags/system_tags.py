"""Header pieces of the system app for agent pages: ``{% load system_tags %}`` then
``{% demo_accounts_banner %}``, the administrators' warning while accounts with the demo's
published password exist (``palier/system/demo_accounts.py``)."""

from __future__ import annotations

from typing import Any

from django import template

from palier.system.demo_accounts import DEMO_PASSWORD, demo_accounts_exposed

register = template.Library()


@register.inclusion_tag("agent/system/demo_banner.html", takes_context=True)
def demo_accounts_banner(context: template.Context) -> dict[str, Any]:
    user = getattr(context.get("request"), "user", None)
    show = bool(getattr(user, "is_admin", False)) and demo_accounts_exposed()
    return {"show": show, "password": DEMO_PASSWORD}
