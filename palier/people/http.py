"""The request a signed-in view receives, typed with Palier's user (for type checkers only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    from django_htmx.middleware import HtmxDetails

    from palier.people.models import User


class AuthedRequest(HttpRequest):
    """What a view behind ``login_required`` (or ``palier.lib.web.signed_in``) receives."""

    user: User
    htmx: HtmxDetails
