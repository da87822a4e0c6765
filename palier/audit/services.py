"""Writes of the audit log: ``record`` (every app calls it, in its own transaction) and ``prune``
(the retention job, the only deletion path)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from palier.audit import context
from palier.audit.models import AuditEvent

MASK = "••••••"
# a change of one of these fields is recorded as "changed", never with its values
SECRET = re.compile(r"pass(word)?|secret|token|digest|key|credential", re.IGNORECASE)


class Person(Protocol):
    pk: Any
    email: str


def mask(changes: Mapping[str, Any] | None) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` (a single value is the new one) with secret fields' values masked."""
    masked: dict[str, list[Any]] = {}
    for field, value in (changes or {}).items():
        old, new = value if isinstance(value, (list, tuple)) and len(value) == 2 else (None, value)
        if SECRET.search(str(field)):
            masked[field] = [None if old is None else MASK, None if new is None else MASK]
        else:
            masked[field] = [_plain(old), _plain(new)]
    return masked


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields whose value differs (a settings change's trace)."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def _plain(value: Any) -> Any:
    """A JSON-safe form of one value (models by their label, times as ISO text)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v) for v in value]
    return str(value)


def record(
    action: str,
    *,
    actor: Person | None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: object = "",
    target_label: str = "",
    changes: Mapping[str, Any] | None = None,
    ip: str | None = None,
    actor_email: str = "",
) -> AuditEvent:
    """Append one event. ``actor`` None is Palier itself (or an unknown person: then
    ``actor_email`` names what they typed). ``ip`` defaults to the current request's address."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
        target_label = target_label or str(target)
    actor_pk = getattr(actor, "pk", None)
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor_id=actor_pk if actor_pk is not None else None,
        actor_email=(getattr(actor, "email", "") or actor_email or "")[:254],
        ip=ip if ip is not None else context.current_ip(),
        action=action[:64],
        target_type=target_type[:64],
        target_id=str(target_id if target_id is not None else "")[:64],
        target_label=str(target_label)[:200],
        changes=mask(changes),
    )


def prune(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Remove the events older than ``PALIER_AUDIT_DAYS`` days (0: keep everything), in batches;
    the only way an audit event leaves the database. Returns how many went."""
    days = settings.PALIER_AUDIT_DAYS
    if not days:
        return 0
    horizon = (now or timezone.now()) - timedelta(days=days)
    removed = 0
    while True:
        ids = list(AuditEvent.objects.filter(at__lt=horizon).order_by("at", "id").values_list("pk", flat=True)[:batch])
        if not ids:
            return removed
        with transaction.atomic():
            removed += AuditEvent.objects.filter(pk__in=ids)._prune()
