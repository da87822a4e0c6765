"""The received reports after the intake: the raw body for an administrator (audited) and the
retention (the ``inventory-reports-prune`` periodic job)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.people.models import User
from palier.people.permissions import require_admin

from ..models import InventoryReport
from . import selectors

# rejected and held reports wait for an administrator longer than applied ones
KEEP_PROBLEMS_DAYS = 90
CHUNK = 1000
R = InventoryReport.State


@transaction.atomic
def raw_for_admin(report_id: int, *, by: User) -> InventoryReport:
    require_admin(by, message=_("Only administrators read inventory reports."))
    report = selectors.get_report_for_admin(report_id)
    audit.record(
        "inventory_report.downloaded", actor=by, target=report, target_label=report.device_id or str(report.pk)
    )
    return report


def prune(*, now: datetime | None = None) -> int:
    """Delete applied reports older than PALIER_INVENTORY_RAW_DAYS and rejected or held ones
    older than 90 days, in chunks; returns how many."""
    now = now or timezone.now()
    rules = (
        ([R.APPLIED, R.UNCHANGED, R.RECEIVED], now - timedelta(days=settings.PALIER_INVENTORY_RAW_DAYS)),
        ([R.REJECTED, R.HELD], now - timedelta(days=KEEP_PROBLEMS_DAYS)),
    )
    deleted = 0
    for states, cutoff in rules:
        while True:
            ids = list(
                InventoryReport.objects.filter(state__in=states, received_at__lt=cutoff).values_list("pk", flat=True)[
                    :CHUNK
                ]
            )
            if not ids:
                break
            deleted += InventoryReport.objects.filter(pk__in=ids).delete()[0]
    return deleted
