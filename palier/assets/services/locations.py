"""Locations (administrators): create, rename or move, delete when empty. A location's ``path``
and ``depth`` (and those of every place under it) are kept here, so lists filter a subtree by
its path without walking the tree."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.lib.errors import PermissionDenied
from palier.people.models import Organisation, User

from .. import permissions
from ..models import Location
from ..selectors import LOCATION_SEPARATOR

MAX_DEPTH = 8


def _check(by: User, name: str, kind: str) -> str:
    if not permissions.can_manage_catalogue(by):
        raise PermissionDenied(_("Only administrators manage locations."))
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the location a name.")})
    if len(name) > 120 or LOCATION_SEPARATOR.strip() in name:
        raise ValidationError({"name": _("At most 120 characters, without “›”.")})
    if kind not in Location.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of location.")})
    return name


def _placed(name: str, parent: Location | None) -> tuple[str, int]:
    if parent is None:
        return name, 0
    if parent.depth + 1 >= MAX_DEPTH:
        raise ValidationError({"parent": _("Locations nest at most %(n)d levels deep.") % {"n": MAX_DEPTH}})
    return parent.path + LOCATION_SEPARATOR + name, parent.depth + 1


def _save(location: Location) -> None:
    try:
        with transaction.atomic():
            location.save()
    except IntegrityError:
        raise ValidationError({"name": _("Another location has this name at this place.")}) from None


@transaction.atomic
def create_location(
    *,
    by: User,
    name: str,
    kind: str,
    parent: Location | None = None,
    address: str = "",
    organisation: Organisation | None = None,
) -> Location:
    name = _check(by, name, kind)
    if parent is not None:
        parent = Location.objects.select_for_update().get(pk=parent.pk)
    path, depth = _placed(name, parent)
    location = Location(
        name=name,
        kind=kind,
        parent=parent,
        path=path,
        depth=depth,
        address=(address or "")[:300],
        organisation=organisation,
    )
    _save(location)
    audit.record("location.created", actor=by, target=location, changes={"path": [None, path]})
    return location


@transaction.atomic
def update_location(
    location: Location,
    *,
    by: User,
    name: str,
    kind: str,
    parent: Location | None = None,
    address: str = "",
    organisation: Organisation | None = None,
) -> Location:
    """Rename or move ``location``; the path and depth of every place under it follow. Moving a
    place under itself (or under one of its own places) is refused."""
    name = _check(by, name, kind)
    locked = Location.objects.select_for_update().get(pk=location.pk)
    if parent is not None:
        parent = Location.objects.select_for_update().get(pk=parent.pk)
        if parent.pk == locked.pk or parent.path.startswith(locked.path + LOCATION_SEPARATOR):
            raise ValidationError({"parent": _("A location cannot be moved under itself.")})
    old_path, old_depth = locked.path, locked.depth
    path, depth = _placed(name, parent)
    below = Location.objects.filter(path__startswith=old_path + LOCATION_SEPARATOR)
    if below.exists() and depth + (max(below.values_list("depth", flat=True)) - old_depth) >= MAX_DEPTH:
        raise ValidationError({"parent": _("Locations nest at most %(n)d levels deep.") % {"n": MAX_DEPTH}})
    before = {"name": locked.name, "kind": locked.kind, "path": old_path, "address": locked.address}
    locked.name, locked.kind, locked.parent, locked.path, locked.depth = name, kind, parent, path, depth
    locked.address, locked.organisation = (address or "")[:300], organisation
    _save(locked)
    if path != old_path:
        below.update(
            path=Concat(Value(path), Substr("path", len(old_path) + 1)),
            depth=F("depth") + (depth - old_depth),
        )
    after = {"name": name, "kind": kind, "path": path, "address": locked.address}
    audit.record("location.changed", actor=by, target=locked, changes=audit.diff(before, after))
    return locked


@transaction.atomic
def delete_location(location: Location, *, by: User) -> None:
    """Only an empty place goes: no place under it, no asset at it."""
    if not permissions.can_manage_catalogue(by):
        raise PermissionDenied(_("Only administrators manage locations."))
    try:
        with transaction.atomic():
            Location.objects.filter(pk=location.pk).delete()
    except ProtectedError:
        raise ValidationError(
            {"__all__": _("“%(path)s” still holds places or assets: move them first.") % {"path": location.path}}
        ) from None
    audit.record(
        "location.deleted", actor=by, target_type="assets.location", target_id=location.pk, target_label=location.path
    )
