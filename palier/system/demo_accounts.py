"""Accounts anyone can sign in to: the demo's, which share a password printed in the README.

``palier demo`` creates them with :data:`DEMO_PASSWORD`; ``palier up`` warns at every start while
they exist, the agent pages show administrators a banner, and ``palier check --deploy`` fails.
An account stops counting once it is deactivated or its password is changed.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth.hashers import check_password, make_password

from palier.people.models import User

DEMO_PASSWORD = "palier-demo"
# the demo's staff (admin, managers, agents) have addresses here; its requesters share their hash
DEMO_STAFF_DOMAIN = "demo.palier.test"


@lru_cache(maxsize=32)
def _is_demo_password(encoded: str) -> bool:
    # one check per distinct hash and process: password hashing is slow on purpose
    return check_password(DEMO_PASSWORD, encoded)


def _demo_password_hashes() -> list[str]:
    """The stored hashes of the demo password (the demo gives all its accounts one hash)."""
    hashes = (
        User.objects.filter(is_active=True, email__iendswith=f"@{DEMO_STAFF_DOMAIN}")
        .order_by()
        .values_list("password", flat=True)
        .distinct()[:20]
    )
    return [encoded for encoded in hashes if encoded and _is_demo_password(encoded)]


def demo_accounts_exposed() -> bool:
    """Whether an active demo account still has the published password."""
    return bool(_demo_password_hashes())


def exposed_demo_accounts() -> int:
    """How many active accounts still have the demo's published password (its stored hash)."""
    hashes = _demo_password_hashes()
    return User.objects.filter(is_active=True, password__in=hashes).count() if hashes else 0


def lock_demo_accounts() -> int:
    """Give every account that has the published password an unusable one; return how many.
    Their tickets and history stay; an administrator can set a real password later."""
    hashes = _demo_password_hashes()
    if not hashes:
        return 0
    return User.objects.filter(password__in=hashes).update(password=make_password(None))
