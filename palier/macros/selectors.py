"""Reads for macros, always scoped by ``permissions``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404

from palier.macros import permissions
from palier.macros.models import Macro
from palier.macros.services import render_macro
from palier.people.models import User
from palier.tickets.models import Ticket

PICKER_LIMIT = 10


def macros_managed_by(user: User, *, query: str = "") -> QuerySet[Macro]:
    """The macros ``user`` may edit, by name (the list page paginates it)."""
    macros = Macro.objects.filter(permissions.manageable(user)).select_related("owner", "group")
    if query.strip():
        macros = macros.filter(name__icontains=query.strip())
    return macros.order_by("name", "pk")


def macros_usable_by(user: User) -> QuerySet[Macro]:
    """The macros ``user`` may pick in the reply box (active: theirs, their groups', everyone's)."""
    return Macro.objects.filter(permissions.usable(user))


def get_macro_visible_to(user: User, macro_id: int) -> Macro:
    """One macro ``user`` may use or edit, or 404."""
    macro = (
        Macro.objects.filter(permissions.manageable(user), pk=macro_id).first()
        or Macro.objects.filter(permissions.usable(user), pk=macro_id).first()
    )
    if macro is None:
        raise Http404("macro")
    return macro


def get_macro_for(user: User, macro_id: int, *, action: str = "change") -> Macro:
    """One macro ``user`` may use or edit, or 404."""
    scope = permissions.usable(user) if action == "use" else permissions.manageable(user)
    macro = Macro.objects.filter(scope, pk=macro_id).select_related("group", "set_group", "set_assignee").first()
    if macro is None:
        raise Http404("macro")
    return macro


@dataclass(frozen=True)
class PickerEntry:
    pk: int
    name: str
    text: str
    changes: bool
    scope: str


def picker_entries(user: User, *, ticket: Ticket, query: str) -> list[PickerEntry]:
    """The macros matching ``query`` (by name), rendered for ``ticket``; most used first."""
    macros = Macro.objects.filter(permissions.usable(user))
    if query.strip():
        macros = macros.filter(name__icontains=query.strip())
    macros = macros.order_by("-usage_count", "name")[:PICKER_LIMIT]
    return [
        PickerEntry(
            pk=m.pk,
            name=m.name,
            text=render_macro(macro=m, ticket=ticket, agent=user),
            changes=m.has_changes,
            scope=m.get_visibility_display(),
        )
        for m in macros
    ]
