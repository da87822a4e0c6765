"""Software licences (docs/assets.md, "Licences and compliance"): the terms of a licence asset, its
seats given to people or machines, its key, and the compliance report.

A licence is an ``Asset`` of the licence family with one ``Licence`` row of terms (product, seats,
key, expiry). The key is encrypted with ``palier.mail.secrets`` (rotated by ``palier
rotate-secrets``) and never shown in full: pages and API show it masked; an administrator may
reveal it, which is audited. A seat goes to a person or a machine; the count is checked under a
row lock on the licence, so two people taking the last seat at once cannot both get it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Func, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.lib.errors import Conflict, NotFound, PermissionDenied
from palier.mail import secrets
from palier.people.models import User

from . import history, permissions, selectors
from .models import Asset, AssetEvent, AssetType, Installation, Licence, SeatAssignment
from .services import assets as asset_services

MASK = "••••"
MAX_SEATS = 1_000_000
# a licence of a retired or disposed asset no longer counts, nor does software on such a machine
GONE = (Asset.Status.RETIRED, Asset.Status.DISPOSED)


# --- terms ------------------------------------------------------------------------------------------


def _product(value: Any, errors: dict[str, str]) -> str:
    product = str(value or "").strip()
    if not product:
        errors["product"] = _("Name the software this licence covers.")
    elif len(product) > 255:
        errors["product"] = _("At most %(n)d characters.") % {"n": 255}
    return product


def _seats(value: Any, errors: dict[str, str]) -> int:
    try:
        if isinstance(value, bool) or value in (None, ""):
            raise ValueError
        number = int(str(value).strip())
    except ValueError:
        errors["seats"] = _("Enter a whole number of seats.")
        return 0
    if not 1 <= number <= MAX_SEATS:
        errors["seats"] = _("Enter between 1 and %(n)d seats.") % {"n": MAX_SEATS}
    return number


def _key(value: Any, errors: dict[str, str]) -> str:
    key = str(value or "").strip()
    if len(key) > 2000:
        errors["key"] = _("At most %(n)d characters.") % {"n": 2000}
    return key


def _expiry(value: Any, errors: dict[str, str]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors["expires_on"] = _("Enter a date as YYYY-MM-DD.")
        return None


_TERMS = {
    "product": _product,
    "publisher": lambda value, errors: str(value or "").strip()[:255],
    "seats": _seats,
    "key": _key,
    "expires_on": _expiry,
}


def clean_terms(raw: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """The licence terms given (product, publisher, seats, key, expires_on), checked; ValidationError
    naming each field at fault. Not ``partial``: product and seats (default 1) are required."""
    unknown = sorted(set(raw) - set(_TERMS))
    if unknown:
        raise ValidationError({"__all__": _("Unknown fields: %(keys)s.") % {"keys": ", ".join(unknown)}})
    given = dict(raw)
    if not partial:
        given.setdefault("product", "")
        given.setdefault("seats", 1)
    errors: dict[str, str] = {}
    out = {field: _TERMS[field](value, errors) for field, value in given.items()}
    if errors:
        raise ValidationError(errors)
    return out


def licence_type() -> AssetType:
    found = AssetType.objects.filter(family=AssetType.Family.LICENCE, active=True).order_by("position").first()
    if found is None:
        raise ValidationError({"type": _("There is no active licence type.")})
    return found


@transaction.atomic
def create_licence(
    actor: User | None,
    values: Mapping[str, Any],
    terms: Mapping[str, Any],
    *,
    status: str = Asset.Status.DEPLOYED,
    event_kind: str = AssetEvent.Kind.CREATED,
) -> Asset:
    """A licence asset with its terms. ``values`` are the asset's fields (its type defaults to the
    licence type); ``terms`` the licence's."""
    cleaned = clean_terms(terms, partial=False)
    values = dict(values)
    values.setdefault("type", licence_type())
    if values["type"].family != AssetType.Family.LICENCE:
        raise ValidationError({"type": _("Choose a licence type.")})
    asset = asset_services.create_asset(actor, values, status=status, event_kind=event_kind)
    Licence.objects.create(
        asset=asset,
        product=cleaned["product"],
        publisher=cleaned.get("publisher", ""),
        seats=cleaned["seats"],
        key_encrypted=secrets.encrypt(cleaned.get("key", "")),
        expires_on=cleaned.get("expires_on"),
    )
    return asset


def _shown(field: str, value: Any) -> Any:
    return MASK if field == "key" and value else history.plain(value)


@transaction.atomic
def update_terms(
    actor: User | None,
    asset: Asset | int,
    terms: Mapping[str, Any],
    *,
    expected_version: int | None = None,
    event_kind: str = AssetEvent.Kind.CHANGED,
) -> Licence:
    """Change a licence's terms (one event listing them, the key masked); fewer seats than are
    assigned is refused."""
    locked = asset_services.lock(asset, expected_version)
    if actor is not None and not permissions.can(actor, "change", locked):
        raise PermissionDenied(_("You may not change this licence."))
    licence = Licence.objects.select_for_update().filter(asset=locked).first()
    cleaned = clean_terms(terms, partial=licence is not None)
    if licence is None:
        if locked.type.family != AssetType.Family.LICENCE:
            raise ValidationError({"type": _("Only a licence asset has licence terms.")})
        licence = Licence(asset=locked, product=cleaned["product"], seats=cleaned["seats"])
    used = licence.assignments.count() if licence.pk else 0
    if "seats" in cleaned and cleaned["seats"] < used:
        raise ValidationError(
            {
                "seats": _("%(used)d seats are assigned: release some before lowering the count to %(n)d.")
                % {"used": used, "n": cleaned["seats"]}
            }
        )
    changes: dict[str, list[Any]] = {}
    for field, new in cleaned.items():
        if field == "key":
            old = reveal_plain(licence)
            if old != new:
                changes["key"] = [_shown("key", old), _shown("key", new)]
                licence.key_encrypted = secrets.encrypt(new)
            continue
        old = getattr(licence, field)
        if old != new or licence.pk is None:
            changes[field] = [_shown(field, old), _shown(field, new)]
            setattr(licence, field, new)
    if not changes:
        return licence
    licence.save()
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.save(update_fields=["version", "updated_at"])
    history.record(locked, event_kind, actor=actor, data={f"licence.{k}": v for k, v in changes.items()})
    return licence


# --- the key ----------------------------------------------------------------------------------------


def reveal_plain(licence: Licence) -> str:
    try:
        return secrets.decrypt(licence.key_encrypted)
    except secrets.SecretError:
        return ""


def masked_key(licence: Licence) -> str:
    """The key as pages and API show it: its last four characters at most, never the whole."""
    if not licence.key_encrypted:
        return ""
    key = reveal_plain(licence)
    if len(key) < 12:
        return MASK
    return MASK + key[-4:]


def reveal_key(actor: User, licence: Licence) -> str:
    """The whole key, for an administrator who asked for it explicitly; audited."""
    if not (actor.is_authenticated and actor.is_active and actor.is_admin):
        raise PermissionDenied(_("Only administrators may see a licence key."))
    try:
        key = secrets.decrypt(licence.key_encrypted)
    except secrets.SecretError as exc:
        raise Conflict(str(exc)) from None
    audit.record("asset.licence_key_revealed", actor=actor, target=licence.asset, target_label=licence.asset.tag)
    return key


# --- seats ------------------------------------------------------------------------------------------


@transaction.atomic
def assign_seat(
    actor: User | None, asset: Asset, *, user: User | None = None, machine: Asset | None = None
) -> SeatAssignment:
    """Give one seat of the licence ``asset`` to a person or a machine (exactly one). Refused with
    a clear message when every seat is used; the count is read under a row lock on the licence."""
    if (user is None) == (machine is None):
        raise ValidationError({"user": _("Give the seat to a person or to a machine (one of them).")})
    licence = Licence.objects.select_for_update().select_related("asset").filter(asset_id=asset.pk).first()
    if licence is None:
        raise NotFound(_("This asset is not a licence."))
    if actor is not None and not permissions.can(actor, "change", licence.asset):
        raise PermissionDenied(_("You may not change this licence."))
    if licence.asset.status in GONE:
        raise Conflict(_("This licence is retired: its seats cannot be given."))
    if user is not None and not user.is_active:
        raise ValidationError({"user": _("This person's account is deactivated.")})
    if machine is not None and not machine.type.inventoried:
        raise ValidationError({"machine": _("A machine seat goes to a computer, a server or a device.")})
    holder = Q(user=user) if user is not None else Q(machine=machine)
    if licence.assignments.filter(holder).exists():
        raise Conflict(_("This seat is already given to them."))
    used = licence.assignments.count()
    if used >= licence.seats:
        raise Conflict(
            _("All %(n)d seats of this licence are used: release one or raise the number of seats.")
            % {"n": licence.seats}
        )
    try:
        with transaction.atomic():
            seat = SeatAssignment.objects.create(licence=licence, user=user, machine=machine, assigned_by=actor)
    except IntegrityError:
        raise Conflict(_("This seat is already given to them.")) from None
    label = {"user": user.email} if user is not None else {"machine": machine.tag if machine else ""}
    history.record(licence.asset, AssetEvent.Kind.SEAT, actor=actor, data=label)
    if machine is not None:
        history.record(machine, AssetEvent.Kind.SEAT, actor=actor, data={"licence": licence.asset.tag})
    return seat


@transaction.atomic
def release_seat(actor: User | None, seat: SeatAssignment) -> None:
    licence = Licence.objects.select_for_update().select_related("asset").get(pk=seat.licence_id)
    if actor is not None and not permissions.can(actor, "change", licence.asset):
        raise PermissionDenied(_("You may not change this licence."))
    deleted, _rows = SeatAssignment.objects.filter(pk=seat.pk).delete()
    if not deleted:
        return
    label = (
        {"user": seat.user.email} if seat.user is not None else {"machine": seat.machine.tag if seat.machine else ""}
    )
    history.record(licence.asset, AssetEvent.Kind.SEAT_RELEASED, actor=actor, data=label)
    if seat.machine_id and seat.machine is not None:
        history.record(seat.machine, AssetEvent.Kind.SEAT_RELEASED, actor=actor, data={"licence": licence.asset.tag})


# --- reads ------------------------------------------------------------------------------------------


def licences_visible_to(user: User) -> QuerySet[Licence]:
    """The licences of the licence assets ``user`` sees, with ``used`` (seats assigned)."""
    return (
        Licence.objects.filter(asset__in=selectors.assets_visible_to(user).values("pk"))
        .select_related("asset", "asset__type", "asset__owner_group")
        .annotate(used=Count("assignments"))
    )


def get_licence_for(user: User, asset_id: int) -> Licence:
    licence = licences_visible_to(user).filter(asset_id=asset_id).first()
    if licence is None:
        raise NotFound(_("Licence not found."))
    return licence


def get_seat_for(licence: Licence, seat_id: int) -> SeatAssignment:
    seat = licence.assignments.select_related("user", "machine").filter(pk=seat_id).first()
    if seat is None:
        raise NotFound(_("Seat not found."))
    return seat


def seats_of(licence: Licence) -> QuerySet[SeatAssignment]:
    return licence.assignments.select_related("user", "machine").order_by("id")


def expiring(user: User, *, days: int, today: date | None = None) -> QuerySet[Licence]:
    """Licences in use that expire within ``days`` days (or have expired), soonest first."""
    today = today or timezone.localdate()
    return (
        licences_visible_to(user)
        .exclude(asset__status__in=GONE)
        .filter(expires_on__isnull=False, expires_on__lte=today + timedelta(days=days))
        .order_by("expires_on", "asset__tag")
    )


def over_allocated(user: User) -> QuerySet[Licence]:
    """Licences with more seats given than owned (seats lowered by an import, a restored backup)."""
    return licences_visible_to(user).exclude(asset__status__in=GONE).filter(used__gt=F("seats"))  # type: ignore[misc]


class CountDistinct(Func):
    function = "COUNT"
    template = "COUNT(DISTINCT %(expressions)s)"


@dataclass
class ComplianceRow:
    product: str
    licences: int
    owned: int
    assigned: int
    installed: int

    @property
    def used(self) -> int:
        return max(self.assigned, self.installed)

    @property
    def state(self) -> str:
        if self.used > self.owned:
            return "over_deployed"
        if self.used < self.owned:
            return "under_used"
        return "compliant"

    @property
    def state_label(self) -> str:
        return {
            "over_deployed": _("over-deployed"),
            "under_used": _("under-used"),
            "compliant": _("compliant"),
        }[self.state]


def compliance(user: User) -> list[ComplianceRow]:
    """Per licensed product (lower-cased): seats owned, seats assigned, machines where software
    whose name starts with the product is installed. One query (a row per licence, grouped here);
    the installations are counted by a subquery on their indexed ``product``."""
    installed = (
        Installation.objects.filter(product__startswith=OuterRef("product_key"))
        .exclude(asset__status__in=GONE)
        .order_by()
        .annotate(n=CountDistinct("asset_id"))
        .values("n")
    )
    rows = (
        licences_visible_to(user)
        .exclude(asset__status__in=GONE)
        .annotate(product_key=Lower("product"))
        .annotate(installed=Subquery(installed))
        .values_list("product_key", "product", "seats", "used", "installed")
        .order_by("product_key", "asset__tag")
    )
    out: dict[str, ComplianceRow] = {}
    for key, product, seats, used, installed_count in rows:
        row = out.get(key)
        if row is None:
            row = out[key] = ComplianceRow(product, 0, 0, 0, int(installed_count or 0))
        row.licences += 1
        row.owned += seats
        row.assigned += used
    return list(out.values())
