"""Delegation of approvals while away: a person names a deputy for a period; while it runs, what
the engine newly asks of them goes to the deputy, who decides "on behalf of" them (one step only:
the deputy's own delegation is not followed). Approvals asked before stay with the person."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.catalog.models import ApprovalDelegation
from palier.lib.errors import PermissionDenied
from palier.people.models import User

MAX_DAYS = 366


@transaction.atomic
def set_delegation(*, user: User, deputy: User | None, starts_on: date, ends_on: date) -> ApprovalDelegation:
    """Name ``deputy`` for ``starts_on``..``ends_on`` (both included). Refused: oneself, an
    inactive deputy, a period ending before it starts or already over, longer than a year, or
    overlapping another delegation of the same person."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied(_("Sign in first."))
    errors: dict[str, str] = {}
    if deputy is None or not deputy.is_active:
        errors["deputy"] = _("Choose an active person as your deputy.")
    elif deputy.pk == user.pk:
        errors["deputy"] = _("Your deputy must be someone else.")
    elif user.is_agent and not deputy.is_agent:
        errors["deputy"] = _("Your deputy must be an agent: they decide what you are asked.")
    if ends_on < starts_on:
        errors["ends_on"] = _("The period must end on or after its first day.")
    elif ends_on < timezone.localdate():
        errors["ends_on"] = _("This period is already over.")
    elif (ends_on - starts_on).days >= MAX_DAYS:
        errors["ends_on"] = _("At most a year.")
    if not errors:
        overlapping = (
            ApprovalDelegation.objects.select_for_update()
            .filter(user_id=user.pk, starts_on__lte=ends_on, ends_on__gte=starts_on)
            .exists()
        )
        if overlapping:
            errors["starts_on"] = _("You already have a deputy for part of this period.")
    if errors:
        raise ValidationError(errors)
    assert deputy is not None
    return ApprovalDelegation.objects.create(user=user, deputy=deputy, starts_on=starts_on, ends_on=ends_on)


@transaction.atomic
def end_delegation(*, user: User, delegation_id: int) -> None:
    """Remove one of one's delegations (someone else's: nothing happens, 404 upstream)."""
    deleted, _rows = ApprovalDelegation.objects.filter(pk=delegation_id, user_id=user.pk).delete()
    if not deleted:
        raise ValidationError(_("This delegation does not exist."))
