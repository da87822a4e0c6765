"""``demo_accounts_open`` for the administrators' banner of the agent and administration pages
(``agent/system/demo_banner.html``): computed before rendering, so templates read nothing."""

from __future__ import annotations

from django.http import HttpRequest

from palier.system.demo_accounts import DEMO_PASSWORD, demo_accounts_exposed


def demo_accounts(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not getattr(user, "is_admin", False) or getattr(request, "htmx", False):
        return {}  # only administrators see it, and only on full pages
    if not demo_accounts_exposed():
        return {}
    return {"demo_accounts_open": True, "demo_password": DEMO_PASSWORD}
