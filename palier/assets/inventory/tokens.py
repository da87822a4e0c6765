"""Inventory tokens: what an inventory agent (or a fleet of them) posts with. Only the SHA-256 of
the secret is stored (as for ``people.ApiToken``); the scope (organisation, location, owner group)
is given to the machines its reports create. Administrators create and revoke them, audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.people.models import Organisation, SupportGroup, User
from palier.people.permissions import require_admin

from ..models import InventoryToken, Location

PREFIX = "pinv_"
MAX_DAYS = 3650


@dataclass(frozen=True)
class IssuedToken:
    token: InventoryToken
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@transaction.atomic
def create_token(
    *,
    name: str,
    by: User | None,
    organisation: Organisation | None = None,
    location: Location | None = None,
    owner_group: SupportGroup | None = None,
    days: int | None = None,
) -> IssuedToken:
    require_admin(by, message=_("Only administrators manage inventory tokens."))
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Give the token a name (which agents use it).")
    elif len(name) > 100:
        errors["name"] = _("At most %(n)d characters.") % {"n": 100}
    if days is not None and not 1 <= days <= MAX_DAYS:
        errors["days"] = _("A token lives from 1 to %(max)d days.") % {"max": MAX_DAYS}
    if errors:
        raise ValidationError(errors)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = InventoryToken.objects.create(
        name=name,
        prefix=secret[:12],
        digest=hash_secret(secret),
        organisation=organisation,
        location=location,
        owner_group=owner_group,
        created_by=by if by is not None and by.pk else None,
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    audit.record(
        "inventory_token.created",
        actor=by,
        target=token,
        target_label=name,
        changes={
            "organisation": [None, str(organisation) if organisation else None],
            "location": [None, str(location) if location else None],
            "owner_group": [None, str(owner_group) if owner_group else None],
            "expires_at": [None, token.expires_at],
        },
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def revoke_token(token: InventoryToken, *, by: User | None) -> InventoryToken:
    require_admin(by, message=_("Only administrators manage inventory tokens."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record("inventory_token.revoked", actor=by, target=token, target_label=token.name)
    return token


def authenticate(secret: str, *, ip: str | None = None) -> InventoryToken | None:
    """The active, unexpired token for a presented secret, or None. Keeps its last use (at most
    one write a minute)."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    now = timezone.now()
    token = (
        InventoryToken.objects.select_related("organisation", "location", "owner_group")
        .filter(digest=hash_secret(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        InventoryToken.objects.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
        token.last_used_at, token.last_used_ip = now, ip
    return token
