"""Suppliers (administrators): create and edit, audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.lib.errors import PermissionDenied
from palier.people.models import User

from .. import permissions
from ..models import Supplier

FIELDS = ("name", "email", "phone", "website", "notes")


def _clean(by: User, values: dict[str, Any]) -> dict[str, str]:
    if not permissions.can_manage_catalogue(by):
        raise PermissionDenied(_("Only administrators manage suppliers."))
    data = {key: str(values.get(key) or "").strip() for key in FIELDS}
    if not data["name"]:
        raise ValidationError({"name": _("Give the supplier a name.")})
    if len(data["name"]) > 200:
        raise ValidationError({"name": _("At most %(n)d characters.") % {"n": 200}})
    return data


def _save(supplier: Supplier) -> None:
    try:
        with transaction.atomic():
            supplier.full_clean(exclude=["id"])
            supplier.save()
    except IntegrityError:
        raise ValidationError({"name": _("Another supplier has this name.")}) from None


@transaction.atomic
def create_supplier(*, by: User, **values: Any) -> Supplier:
    data = _clean(by, values)
    if Supplier.objects.filter(name__iexact=data["name"]).exists():
        raise ValidationError({"name": _("Another supplier has this name.")})
    supplier = Supplier(**data)
    _save(supplier)
    audit.record("supplier.created", actor=by, target=supplier, changes={"name": [None, supplier.name]})
    return supplier


@transaction.atomic
def update_supplier(supplier: Supplier, *, by: User, **values: Any) -> Supplier:
    data = _clean(by, values)
    locked = Supplier.objects.select_for_update().get(pk=supplier.pk)
    if Supplier.objects.filter(name__iexact=data["name"]).exclude(pk=locked.pk).exists():
        raise ValidationError({"name": _("Another supplier has this name.")})
    before = {key: getattr(locked, key) for key in FIELDS}
    for key, value in data.items():
        setattr(locked, key, value)
    _save(locked)
    audit.record("supplier.changed", actor=by, target=locked, changes=audit.diff(before, data))
    return locked
