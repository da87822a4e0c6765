"""The desk's sign-in policy: one row, read at most once per request."""

from __future__ import annotations

from palier.identity.models import SignInPolicy


def current() -> SignInPolicy:
    """The policy row (created with the defaults on first use)."""
    policy, _created = SignInPolicy.objects.get_or_create(pk=1)
    return policy
