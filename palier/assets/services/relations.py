"""Relationships between configuration items, with the cycle check."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from palier.lib.errors import PermissionDenied
from palier.people.models import User

from .. import graph, history, permissions
from ..models import Asset, AssetEvent, Relationship
from .assets import lock


@transaction.atomic
def relate(actor: User | None, source: Asset, kind: str, target: Asset) -> Relationship:
    """``source`` <kind> ``target`` ("app-01 runs on vm-12"). Refused: an item related to itself,
    the same relationship twice, and a chain that would come back to where it started for the
    kinds that forbid it. One event on each side."""
    if kind not in Relationship.Kind.values:
        raise ValidationError({"kind": _("Unknown relationship.")})
    if source.pk == target.pk:
        raise ValidationError({"target": _("An item cannot be related to itself.")})
    # lock both rows in id order: two people relating the same pair both ways cannot both pass
    first, second = sorted([source.pk, target.pk])
    locked = {first: lock(first), second: lock(second)}
    source, target = locked[source.pk], locked[target.pk]
    if actor is not None and not (
        permissions.can(actor, "change", source) and permissions.can(actor, "change", target)
    ):
        raise PermissionDenied(_("You may not change these items."))
    if Relationship.objects.filter(source=source, target=target, kind=kind).exists():
        raise ValidationError({"target": _("This relationship already exists.")})
    if kind in Relationship.ACYCLIC and graph.reaches(target.pk, source.pk, kinds=Relationship.ACYCLIC):
        raise ValidationError(
            {
                "target": _("%(target)s already needs %(source)s: this relationship would make a loop.")
                % {"target": target.tag, "source": source.tag}
            }
        )
    try:
        with transaction.atomic():
            relation = Relationship.objects.create(source=source, target=target, kind=kind, created_by=actor)
    except IntegrityError:
        raise ValidationError({"target": _("This relationship already exists.")}) from None
    label = {"kind": kind}
    history.record(source, AssetEvent.Kind.RELATED, actor=actor, data={**label, "target": target.tag})
    history.record(target, AssetEvent.Kind.RELATED, actor=actor, data={**label, "source": source.tag})
    return relation


@transaction.atomic
def unrelate(actor: User | None, relation: Relationship) -> None:
    source, target = relation.source, relation.target
    if actor is not None and not (
        permissions.can(actor, "change", source) and permissions.can(actor, "change", target)
    ):
        raise PermissionDenied(_("You may not change these items."))
    deleted, _rows = Relationship.objects.filter(pk=relation.pk).delete()
    if not deleted:
        return
    label = {"kind": relation.kind}
    history.record(source, AssetEvent.Kind.UNRELATED, actor=actor, data={**label, "target": target.tag})
    history.record(target, AssetEvent.Kind.UNRELATED, actor=actor, data={**label, "source": source.tag})
