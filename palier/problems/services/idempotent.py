"""Idempotent creation for the API: a retry with the same Idempotency-Key gets the first record.

One helper for problems and changes: ``store`` is the key model (``ProblemIdempotencyKey``,
``ChangeIdempotencyKey``) and ``field`` the name of its foreign key to the record created."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from palier.people.models import User

T = TypeVar("T", bound=Model)


def _replay(store: type[Model], field: str, by: User, key: str, fingerprint: str) -> Any:
    previous = store._default_manager.filter(user=by, key=key).select_related(field).first()
    if previous is None:
        return None
    if previous.fingerprint != fingerprint:  # type: ignore[attr-defined]
        raise ValidationError(
            {"Idempotency-Key": _("This key was already used with a different request; use a new key.")}
        )
    return getattr(previous, field)


@transaction.atomic
def create_once(
    *, store: type[Model], field: str, key: str, fingerprint: str, by: User, create: Callable[[], T]
) -> tuple[T, bool]:
    """Run ``create`` at most once per (user, key); ``created`` is False on a replay. The same key
    with another request is refused. Two concurrent retries race on the unique key: the loser's
    record is rolled back."""
    previous = _replay(store, field, by, key, fingerprint)
    if previous is not None:
        return previous, False
    try:
        with transaction.atomic():
            made = create()
            store._default_manager.create(user=by, key=key, fingerprint=fingerprint, **{field: made})
    except IntegrityError:
        previous = _replay(store, field, by, key, fingerprint)
        if previous is None:
            raise
        return previous, False
    return made, True
