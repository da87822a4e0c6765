"""Idempotent creation: a retry with the same ``Idempotency-Key`` gets the first object back.

One record per (scope, caller, key) in ``IdempotencyRecord``. The key is claimed in the same
transaction as the creation, so a creation rolled back leaves no key behind, and two concurrent
retries race on the unique constraint: the loser's creation is rolled back and it answers with the
winner's object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from palier.core.models import IdempotencyRecord

T = TypeVar("T", bound=Model)


def _previous(scope: str, user: Any, key: str, fingerprint: str) -> int | None:
    record = IdempotencyRecord.objects.filter(scope=scope, user=user, key=key).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise ValidationError(
            {"Idempotency-Key": _("This key was already used with a different request; use a new key.")}
        )
    return record.object_id


@transaction.atomic
def create_once(
    *, scope: str, key: str, fingerprint: str, user: Any, create: Callable[[], T], load: Callable[[int], T]
) -> tuple[T, bool]:
    """Run ``create`` at most once per (scope, user, key); ``created`` is False on a replay, whose
    object comes from ``load(pk)`` (which applies the caller's visibility). The same key with a
    different ``fingerprint`` is refused (422)."""
    previous = _previous(scope, user, key, fingerprint)
    if previous is not None:
        return load(previous), False
    try:
        with transaction.atomic():
            made = create()
            IdempotencyRecord.objects.create(
                scope=scope, user=user, key=key, fingerprint=fingerprint, object_id=made.pk
            )
    except IntegrityError:
        previous = _previous(scope, user, key, fingerprint)
        if previous is None:
            raise
        return load(previous), False
    return made, True


def prune(*, older_than_days: int = 30) -> int:
    """Forget keys older than ``older_than_days`` (clients retry within minutes, not months)."""
    from datetime import timedelta

    from django.utils import timezone

    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _kinds = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
