"""``demo_accounts_open`` for the administrators' banner of the agent and administration pages
(``agent/system/demo_banner.html``). Lazy, so a page or partial without the banner asks nothing;
computed once per request, so a second rendering of the same context reads nothing."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from palier.system.demo_accounts import DEMO_PASSWORD, demo_accounts_exposed


def demo_accounts(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if not getattr(user, "is_admin", False):
        return {}  # only administrators see it
    return {"demo_accounts_open": SimpleLazyObject(demo_accounts_exposed), "demo_password": DEMO_PASSWORD}
