"""Reads of the webhooks app, for administrators (``permissions.can``) only."""

from __future__ import annotations

from uuid import UUID

from django.db.models import QuerySet
from django.http import Http404

from palier.people.models import User

from . import permissions
from .models import Attempt, Delivery, Subscription


def _require(user: User) -> None:
    if not permissions.can(user, "manage"):
        raise Http404


def subscriptions(user: User) -> QuerySet[Subscription]:
    _require(user)
    return Subscription.objects.all()


def subscription(user: User, subscription_id: int) -> Subscription:
    _require(user)
    found = Subscription.objects.filter(pk=subscription_id).first()
    if found is None:
        raise Http404
    return found


def deliveries(user: User, subscription: Subscription, *, state: str = "") -> QuerySet[Delivery]:
    _require(user)
    qs = Delivery.objects.filter(subscription=subscription).defer("body")
    return qs.filter(state=state) if state else qs


def delivery(user: User, subscription: Subscription, delivery_id: UUID | str) -> Delivery:
    _require(user)
    found = (
        Delivery.objects.filter(subscription=subscription, delivery_id=delivery_id)
        .select_related("subscription")
        .first()
    )
    if found is None:
        raise Http404
    return found


def attempts_of(deliveries: list[Delivery]) -> dict[int, list[Attempt]]:
    """The attempts of each delivery shown, in one query."""
    out: dict[int, list[Attempt]] = {d.pk: [] for d in deliveries}
    for attempt in Attempt.objects.filter(delivery_id__in=list(out)).order_by("delivery_id", "id"):
        out[attempt.delivery_id].append(attempt)
    return out
