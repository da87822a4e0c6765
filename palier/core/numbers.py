"""Human numbers (PRB-12, CHG-7) handed out in order, once each, inside the caller's transaction."""

from __future__ import annotations

from django.db import transaction

from palier.core.models import NumberSequence


def next_number(name: str) -> int:
    """The next number of ``name``. The row stays locked until the caller's transaction ends, so
    a rolled-back creation gives its number back and two creations never share one."""
    with transaction.atomic():
        NumberSequence.objects.get_or_create(name=name)
        row = NumberSequence.objects.select_for_update().get(name=name)
        row.last += 1
        row.save(update_fields=["last"])
        return row.last
