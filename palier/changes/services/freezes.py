"""Freeze windows and the services' maintenance windows (administrators only).

Freeze windows never overlap: a new or moved freeze that overlaps another is refused with the
other one's name. Maintenance windows are weekly slots of a business service (a day, a time from
and to on that day, a time zone or the desk's)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.assets.models import Asset, AssetType
from palier.changes import permissions
from palier.changes.models import ChangeSettings, FreezeWindow, MaintenanceWindow
from palier.lib.errors import PermissionDenied
from palier.people.models import User

MAX_NAME = 150
MAX_REASON = 5000


def _require_admin(by: User | None) -> None:
    if not permissions.can(by, "administer"):
        raise PermissionDenied(_("Only administrators manage freeze and maintenance windows."))


def _clean_freeze(name: str, reason: str, starts_at: Any, ends_at: Any) -> tuple[str, str]:
    errors: dict[str, str] = {}
    name = str(name or "").strip()
    reason = str(reason or "").strip()
    if not name:
        errors["name"] = _("Give the freeze a name.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("At most %(n)d characters.") % {"n": MAX_NAME}
    if len(reason) > MAX_REASON:
        errors["reason"] = _("At most %(n)d characters.") % {"n": MAX_REASON}
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if not isinstance(value, datetime):
            errors[field] = _("Enter a date and time.")
    if not errors and ends_at <= starts_at:
        errors["ends_at"] = _("The freeze must end after it starts.")
    if errors:
        raise ValidationError(errors)
    return name, reason


def _refuse_overlap(starts_at: datetime, ends_at: datetime, exclude: int | None = None) -> None:
    # one row locked as a mutex: two administrators cannot create overlapping freezes at once
    ChangeSettings.current()
    ChangeSettings.objects.select_for_update().filter(pk=1).exists()
    others = FreezeWindow.objects.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    other = others.order_by("starts_at").first()
    if other is not None:
        zone = timezone.get_current_timezone()
        raise ValidationError(
            {
                "starts_at": _("This freeze overlaps the freeze “%(name)s” (%(start)s to %(end)s).")
                % {
                    "name": other.name,
                    "start": other.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                    "end": other.ends_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                }
            }
        )


@transaction.atomic
def create_freeze(
    *, by: User | None, name: str, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> FreezeWindow:
    _require_admin(by)
    name, reason = _clean_freeze(name, reason, starts_at, ends_at)
    _refuse_overlap(starts_at, ends_at)
    return FreezeWindow.objects.create(
        name=name, reason=reason, starts_at=starts_at, ends_at=ends_at, created_by=by if by and by.pk else None
    )


@transaction.atomic
def update_freeze(
    freeze: FreezeWindow, *, by: User | None, name: str, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> FreezeWindow:
    _require_admin(by)
    name, reason = _clean_freeze(name, reason, starts_at, ends_at)
    _refuse_overlap(starts_at, ends_at, exclude=freeze.pk)
    freeze.name, freeze.reason, freeze.starts_at, freeze.ends_at = name, reason, starts_at, ends_at
    freeze.save(update_fields=["name", "reason", "starts_at", "ends_at"])
    return freeze


@transaction.atomic
def delete_freeze(freeze: FreezeWindow, *, by: User | None) -> None:
    _require_admin(by)
    FreezeWindow.objects.filter(pk=freeze.pk).delete()


def check_time_zone(name: str) -> str:
    name = str(name or "").strip()
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"time_zone": _("Unknown time zone: use a name like Europe/Paris.")}) from None
    return name


@transaction.atomic
def add_maintenance_window(
    *, by: User | None, service: Asset, weekday: int, start_time: time, end_time: time, time_zone: str = ""
) -> MaintenanceWindow:
    """A weekly slot when ``service`` (a business service) may be changed."""
    _require_admin(by)
    errors: dict[str, str] = {}
    if service.type.family != AssetType.Family.SERVICE:
        errors["service"] = _("Maintenance windows belong to business services.")
    if weekday not in MaintenanceWindow.Weekday.values:
        errors["weekday"] = _("Choose a day of the week.")
    if not isinstance(start_time, time):
        errors["start_time"] = _("Enter a time.")
    if not isinstance(end_time, time):
        errors["end_time"] = _("Enter a time.")
    elif isinstance(start_time, time) and end_time <= start_time:
        errors["end_time"] = _("The slot must end after it starts, on the same day.")
    try:
        time_zone = check_time_zone(time_zone)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    return MaintenanceWindow.objects.create(
        service=service, weekday=weekday, start_time=start_time, end_time=end_time, time_zone=time_zone
    )


@transaction.atomic
def delete_maintenance_window(window: MaintenanceWindow, *, by: User | None) -> None:
    _require_admin(by)
    MaintenanceWindow.objects.filter(pk=window.pk).delete()
