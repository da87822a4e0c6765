"""Asset types (administrators): bilingual names, family, active, and their own fields, checked by
``fields.clean_definitions``. Audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.lib.errors import PermissionDenied
from palier.people.models import User

from .. import fields as type_fields
from .. import permissions
from ..models import AssetType


def _clean(by: User, *, name_fr: str, name_en: str, family: str, fields: Any) -> dict[str, Any]:
    if not permissions.can_manage_catalogue(by):
        raise PermissionDenied(_("Only administrators manage asset types."))
    errors: dict[str, str] = {}
    names = {"name_fr": " ".join((name_fr or "").split()), "name_en": " ".join((name_en or "").split())}
    for key, value in names.items():
        if not value:
            errors[key] = _("Give the type its name in both languages.")
        elif len(value) > 120:
            errors[key] = _("At most %(n)d characters.") % {"n": 120}
    if family not in AssetType.Family.values:
        errors["family"] = _("Unknown family.")
    if errors:
        raise ValidationError(errors)
    return {**names, "family": family, "fields": type_fields.clean_definitions(fields)}


@transaction.atomic
def create_type(
    *, by: User, name_fr: str, name_en: str, family: str, fields: Any = (), slug: str = "", inventoried: bool = False
) -> AssetType:
    data = _clean(by, name_fr=name_fr, name_en=name_en, family=family, fields=list(fields))
    slug = slugify(slug or data["name_en"])[:60]
    if not slug:
        raise ValidationError({"slug": _("Give the type an identifier (letters, digits, hyphens).")})
    if AssetType.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("Another type has the identifier “%(slug)s”.") % {"slug": slug}})
    position = (AssetType.objects.order_by("-position").values_list("position", flat=True).first() or 0) + 1
    asset_type = AssetType.objects.create(slug=slug, inventoried=inventoried, position=position, **data)
    audit.record("asset_type.created", actor=by, target=asset_type, changes={"slug": [None, slug]})
    return asset_type


@transaction.atomic
def update_type(
    asset_type: AssetType,
    *,
    by: User,
    name_fr: str,
    name_en: str,
    family: str,
    fields: Any,
    active: bool = True,
    inventoried: bool = False,
) -> AssetType:
    """Change a type: names, family, active (an inactive type is offered for no new asset) and
    its own fields."""
    data = _clean(by, name_fr=name_fr, name_en=name_en, family=family, fields=fields)
    locked = AssetType.objects.select_for_update().get(pk=asset_type.pk)
    data.update(active=bool(active), inventoried=bool(inventoried))
    before = {key: getattr(locked, key) for key in data}
    for key, value in data.items():
        setattr(locked, key, value)
    locked.save()
    audit.record("asset_type.changed", actor=by, target=locked, changes=audit.diff(before, data))
    return locked
