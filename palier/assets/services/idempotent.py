"""Idempotent creation for the API: a retry with the same Idempotency-Key gets the first asset."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from palier.people.models import User

from ..models import Asset, AssetIdempotencyKey


def _replay(by: User, key: str, fingerprint: str) -> Asset | None:
    previous = AssetIdempotencyKey.objects.filter(user=by, key=key).select_related("asset").first()
    if previous is None:
        return None
    if previous.fingerprint != fingerprint:
        raise ValidationError(
            {"Idempotency-Key": _("This key was already used with a different request; use a new key.")}
        )
    return previous.asset


@transaction.atomic
def create_once(*, key: str, fingerprint: str, by: User, create: Callable[[], Asset]) -> tuple[Asset, bool]:
    """Run ``create`` at most once per (user, key); ``created`` is False on a replay. The same key
    with another request is refused. Two concurrent retries race on the unique key: the loser's
    asset is rolled back."""
    previous = _replay(by, key, fingerprint)
    if previous is not None:
        return previous, False
    try:
        with transaction.atomic():
            asset = create()
            AssetIdempotencyKey.objects.create(user=by, key=key, fingerprint=fingerprint, asset=asset)
    except IntegrityError:
        previous = _replay(by, key, fingerprint)
        if previous is None:
            raise
        return previous, False
    return asset, True
