"""``palier rotate-secrets`` for the identity app: the providers' secrets, the authenticator apps'
secrets and the desk's SAML private key, re-encrypted under the current ``SECRET_KEY`` (listed in
``SECRET_HOLDERS`` of ``palier/events.py``, which the command calls)."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import cast

from django.db import transaction
from django.utils.functional import SimpleLazyObject

from palier.identity.mfa.models import TotpDevice
from palier.identity.models import Provider
from palier.mail import secrets

# pysaml2 takes half a second to import: loaded on the first SAML request, not with the URLs
saml = cast(ModuleType, SimpleLazyObject(lambda: importlib.import_module("palier.identity.saml")))


@transaction.atomic
def rotate() -> tuple[int, list[str]]:
    """How many secrets were rewritten, and what holds a secret no known key opens (to enter again
    or, for an authenticator app, to reset)."""
    rotated, unreadable = 0, []
    for provider in Provider.objects.exclude(secret="").order_by("pk"):
        try:
            Provider.objects.filter(pk=provider.pk).update(secret=secrets.rotate(provider.secret))
            rotated += 1
        except secrets.SecretError:
            unreadable.append(f"identity provider {provider.slug}")
    for device in TotpDevice.objects.select_related("user").order_by("pk"):
        try:
            TotpDevice.objects.filter(pk=device.pk).update(secret=secrets.rotate(device.secret))
            rotated += 1
        except secrets.SecretError:
            unreadable.append(f"authenticator app of {device.user.email}")
    try:
        rotated += int(saml.rotate_service_key())
    except secrets.SecretError:
        unreadable.append("the SAML private key of the desk")
    return rotated, unreadable
