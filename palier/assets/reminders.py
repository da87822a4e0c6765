"""Warranty and licence expiry reminders (docs/assets.md, "Reminders and warnings").

The daily ``assets-reminders`` job tells the owner group's members (the administrators when the
asset has no owner group) about each asset whose warranty ends within
``PALIER_ASSET_WARRANTY_NOTICE_DAYS`` and each licence expiring within
``PALIER_LICENCE_NOTICE_DAYS``: one in-app notification and one email each, in the recipient's
language. The key names the asset, what ends and the day it ends, so a rerun sends nothing new
and a warranty extended to a later day is reminded again when that day comes close.

The other warnings are lists, not messages: the assets nobody owns and the machines whose
inventory is stale are filters of the asset list (``AssetFilters.unowned``,
``AssetFilters.inventory_before``), counted by ``warning_counts``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from palier.notifications.email import base_url, queue_email
from palier.notifications.services import notify
from palier.people.models import Membership, User

from .models import Asset, Licence
from .selectors import AssetFilters, filtered

GONE = (Asset.Status.RETIRED, Asset.Status.DISPOSED)
KIND = "asset_expiry"
BATCH = 500


@dataclass(frozen=True)
class Ending:
    asset: Asset
    what: str  # "warranty" or "licence"
    on: date

    @property
    def key(self) -> str:
        return f"asset:{self.asset.pk}:{self.what}:{self.on.isoformat()}"


def endings(today: date) -> list[Ending]:
    """The warranties and licences ending within their notice, soonest first."""
    warranty_by = today + timedelta(days=settings.PALIER_ASSET_WARRANTY_NOTICE_DAYS)
    licence_by = today + timedelta(days=settings.PALIER_LICENCE_NOTICE_DAYS)
    found = [
        Ending(asset, "warranty", asset.warranty_end)
        for asset in Asset.objects.exclude(status__in=GONE)
        .filter(warranty_end__gte=today, warranty_end__lte=warranty_by)
        .select_related("owner_group")
        .order_by("warranty_end", "id")[:BATCH]
        if asset.warranty_end is not None
    ]
    found += [
        Ending(licence.asset, "licence", licence.expires_on)
        for licence in Licence.objects.exclude(asset__status__in=GONE)
        .filter(expires_on__gte=today, expires_on__lte=licence_by)
        .select_related("asset", "asset__owner_group")
        .order_by("expires_on", "id")[:BATCH]
        if licence.expires_on is not None
    ]
    return sorted(found, key=lambda e: (e.on, e.asset.tag))


def _audiences(items: list[Ending]) -> dict[int | None, list[User]]:
    """The people each owner group's reminders go to (None: the administrators). Two queries."""
    group_ids = {e.asset.owner_group_id for e in items if e.asset.owner_group_id}
    people: dict[int | None, list[User]] = defaultdict(list)
    for membership in Membership.objects.filter(group_id__in=sorted(group_ids), user__is_active=True).select_related(
        "user"
    ):
        people[membership.group_id].append(membership.user)
    if any(e.asset.owner_group_id is None or not people.get(e.asset.owner_group_id) for e in items):
        people[None] = list(
            User.objects.filter(role=User.Role.ADMIN, is_active=True, is_system=False).exclude(
                email__endswith=".invalid"
            )
        )
    return people


def _message(ending: Ending, user: User) -> tuple[str, str]:
    asset = ending.asset
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "tag": asset.tag,
            "name": asset.name,
            "day": ending.on.isoformat(),
            "url": base_url() + reverse("assets:detail", args=[asset.pk]),
        }
        if ending.what == "warranty":
            subject = translation.gettext("Warranty of %(tag)s ends on %(day)s") % context
            text = (
                translation.gettext(
                    "The warranty of %(tag)s (%(name)s) ends on %(day)s.\n\n"
                    "Extend it, plan a replacement, or note the new end of warranty on the asset: %(url)s\n"
                )
                % context
            )
        else:
            subject = translation.gettext("Licence %(tag)s expires on %(day)s") % context
            text = (
                translation.gettext(
                    "The licence %(tag)s (%(name)s) expires on %(day)s.\n\n"
                    "Renew it, or note the new expiry date on the licence: %(url)s\n"
                )
                % context
            )
    return subject, text


@transaction.atomic
def send_reminders(*, today: date | None = None) -> int:
    """Remind of every warranty and licence ending soon; returns how many new reminders went out
    (a rerun the same day: zero)."""
    today = today or timezone.localdate()
    items = endings(today)
    if not items:
        return 0
    audiences = _audiences(items)
    sent = 0
    for ending in items:
        group = ending.asset.owner_group_id
        people = audiences.get(group) or audiences.get(None) or []
        if not people:
            continue
        notify(
            people,
            kind=KIND,
            key=ending.key,
            asset=ending.asset.pk,
            tag=ending.asset.tag,
            name=ending.asset.name,
            what=ending.what,
            ends_on=ending.on.isoformat(),
        )
        for user in people:
            subject, text = _message(ending, user)
            sent += queue_email(to=[user], subject=subject, text=text, key=ending.key, reply_to_thread=False)
    return sent


def warning_counts(user: User, *, today: date | None = None) -> dict[str, Any]:
    """How many assets ``user`` sees that nobody owns, and deployed machines whose inventory is
    stale, with the day "stale" starts from (the asset list's filters: ``unowned``,
    ``inventory_before`` and ``status``)."""
    today = today or timezone.localdate()
    stale_since = today - timedelta(days=settings.PALIER_INVENTORY_STALE_DAYS)
    stale = AssetFilters(inventory_before=stale_since, status=(Asset.Status.DEPLOYED,))
    return {
        "unowned": filtered(user, AssetFilters(unowned=True)).count(),
        "stale": filtered(user, stale).count(),
        "stale_since": stale_since,
    }
