"""Agent workspace state: saved filters and presence on a ticket."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib.errors import NotFound, PermissionDenied
from palier.people.models import User
from palier.tickets.models import (
    SavedFilter,
    Ticket,
    TicketViewer,
)
from palier.tickets.services._common import (
    _clean_text,
)

# --- agent workspace ---------------------------------------------------------------------------------

MAX_SAVED_FILTERS = 30


@transaction.atomic
def save_filter(*, user: User, name: str, query: str) -> SavedFilter:
    """Save a personal queue view (replacing the one of the same name), last in the list."""
    if not user.is_agent:
        raise PermissionDenied(_("Only agents can save queue filters."))
    name = _clean_text(name, field="name", maximum=80, required=True)
    query = _clean_text(query, field="query", maximum=1000, required=False).lstrip("?")
    mine = SavedFilter.objects.select_for_update().filter(user=user)
    existing = mine.filter(name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if mine.count() >= MAX_SAVED_FILTERS:
        raise ValidationError({"name": _("At most %(n)d saved filters.") % {"n": MAX_SAVED_FILTERS}})
    last = mine.order_by("-position").values_list("position", flat=True).first()
    return SavedFilter.objects.create(user=user, name=name, query=query, position=(last or 0) + 1)


@transaction.atomic
def update_filter(saved: SavedFilter, *, by: User, name: str | None = None, query: str | None = None) -> SavedFilter:
    """Rename a saved view or change its query (the name stays unique among the agent's views)."""
    if saved.user_id != by.pk or not by.is_agent:
        raise NotFound(_("Saved filter not found."))
    saved = SavedFilter.objects.select_for_update().get(pk=saved.pk)
    if name is not None:
        saved.name = _clean_text(name, field="name", maximum=80, required=True)
        if SavedFilter.objects.filter(user=by, name=saved.name).exclude(pk=saved.pk).exists():
            raise ValidationError({"name": _("You already have a saved filter with this name.")})
    if query is not None:
        saved.query = _clean_text(query, field="query", maximum=1000, required=False).lstrip("?")
    saved.save(update_fields=["name", "query"])
    return saved


@transaction.atomic
def delete_filter(saved: SavedFilter, *, by: User) -> None:
    if saved.user_id != by.pk:
        raise NotFound(_("Saved filter not found."))
    saved.delete()


def see_ticket(ticket: Ticket, *, user: User, now: datetime | None = None) -> None:
    """Record that ``user`` has the ticket page open (presence; not history, so no event)."""
    now = now or timezone.now()
    if not TicketViewer.objects.filter(ticket=ticket, user=user).update(last_seen=now):
        try:
            with transaction.atomic():
                TicketViewer.objects.create(ticket=ticket, user=user, last_seen=now)
        except IntegrityError:  # a concurrent poll of the same agent created it first
            TicketViewer.objects.filter(ticket=ticket, user=user).update(last_seen=now)
