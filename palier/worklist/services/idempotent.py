"""Idempotent creation for the API: a retry with the same Idempotency-Key gets the first task or
follow-up back; the same key with another request is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from palier.people.models import User
from palier.worklist.models import IdempotencyKey, ScheduledAction, TicketTask

Made = TypeVar("Made", TicketTask, ScheduledAction)


def _replay(by: User, key: str, fingerprint: str, kind: type[Made]) -> Made | None:
    previous = IdempotencyKey.objects.filter(user=by, key=key).first()
    if previous is None:
        return None
    found = previous.task if kind is TicketTask else previous.scheduled
    if previous.fingerprint != fingerprint or found is None:
        raise ValidationError(
            {"Idempotency-Key": _("This key was already used with a different request; use a new key.")}
        )
    return found  # type: ignore[return-value]


@transaction.atomic
def create_once(
    *, key: str, fingerprint: str, by: User, kind: type[Made], create: Callable[[], Made]
) -> tuple[Made, bool]:
    """Run ``create`` at most once per (user, key); ``created`` is False on a replay. Two
    concurrent retries race on the unique key: the loser's row is rolled back."""
    previous = _replay(by, key, fingerprint, kind)
    if previous is not None:
        return previous, False
    try:
        with transaction.atomic():
            made = create()
            link = {"task": made} if isinstance(made, TicketTask) else {"scheduled": made}
            IdempotencyKey.objects.create(user=by, key=key, fingerprint=fingerprint, **link)
    except IntegrityError:
        previous = _replay(by, key, fingerprint, kind)
        if previous is None:
            raise
        return previous, False
    return made, True
