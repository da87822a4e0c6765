"""The person's calendar feed links: regenerating them makes every older link stop working."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from palier.changes import permissions
from palier.changes.models import CalendarFeedKey
from palier.lib.errors import PermissionDenied
from palier.people.models import User


@transaction.atomic
def regenerate_feed_links(*, by: User | None) -> int:
    """Raise ``by``'s feed generation; the new generation."""
    if by is None or not permissions.can(by, "view"):
        raise PermissionDenied(_("You may not do this with changes."))
    row, created = CalendarFeedKey.objects.select_for_update().get_or_create(user_id=by.pk, defaults={"generation": 2})
    if not created:
        CalendarFeedKey.objects.filter(pk=row.pk).update(generation=F("generation") + 1)
        row.refresh_from_db(fields=["generation"])
    return row.generation
