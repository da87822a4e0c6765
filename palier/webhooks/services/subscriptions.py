"""Subscriptions: create (the secret shown once), change, rotate the secret, re-enable, delete.
Administrators only; every write is audited, the secret never (write-only)."""

from __future__ import annotations

import secrets as random
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.integrations import outbound
from palier.lib.errors import StaleVersion
from palier.mail import secrets
from palier.people.models import User

from .. import kinds, permissions
from ..models import Delivery, Subscription

MIN_SECRET = 16
MAX_SECRET = 200


@dataclass(frozen=True)
class Issued:
    subscription: Subscription
    secret: str  # shown once, at creation or rotation


def check_url(url: str) -> str:
    """The address as it will be stored, or ``ValidationError`` (https only unless allowed, no
    credentials, every address its name resolves to public unless private ones are allowed)."""
    url = (url or "").strip()
    if len(url) > 500:
        raise ValidationError({"url": _("The address is too long (500 characters at most).")})
    try:
        target = outbound.parse_target(url, allow_http=settings.PALIER_WEBHOOKS_ALLOW_HTTP)
        outbound.resolve(target, allow_private=settings.PALIER_WEBHOOKS_ALLOW_PRIVATE)
    except outbound.UnsafeTarget as exc:
        raise ValidationError({"url": str(exc)}) from exc
    except outbound.DeliveryError as exc:
        raise ValidationError({"url": _("The address's host name cannot be found.")}) from exc
    return url


def check_types(event_types: Any) -> list[str]:
    if not isinstance(event_types, (list, tuple)) or not event_types:
        raise ValidationError({"event_types": _("Choose at least one event type.")})
    unknown = [str(t) for t in event_types if t not in kinds.TYPES]
    if unknown:
        raise ValidationError(
            {"event_types": _("Unknown event type: %(types)s.") % {"types": ", ".join(sorted(unknown))[:200]}}
        )
    return sorted(set(event_types))


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationError({"name": _("Give the subscription a name (120 characters at most).")})
    return name


def _check_secret(secret: str | None) -> str:
    if secret is None or secret == "":
        return random.token_urlsafe(32)
    if not (MIN_SECRET <= len(secret) <= MAX_SECRET) or not secret.isprintable():
        raise ValidationError(
            {
                "secret": _("A secret has %(min)s to %(max)s printable characters.")
                % {"min": MIN_SECRET, "max": MAX_SECRET}
            }
        )
    return secret


def plain_secret(subscription: Subscription) -> str:
    return secrets.decrypt(subscription.secret_encrypted)


@transaction.atomic
def create_subscription(
    *, by: User | None, name: str, url: str, event_types: Any, secret: str | None = None, is_active: bool = True
) -> Issued:
    """A new subscription; its secret (given, or made here) is returned once and never shown again."""
    permissions.require(by)
    clean_name, clean_url, types = _check_name(name), check_url(url), check_types(event_types)
    plain = _check_secret(secret)
    subscription = Subscription.objects.create(
        name=clean_name,
        url=clean_url,
        event_types=types,
        secret_encrypted=secrets.encrypt(plain),
        is_active=is_active,
        created_by=by if by is not None and by.pk else None,
    )
    audit.record(
        "webhooks.subscription_created",
        actor=by,
        target=subscription,
        target_label=subscription.name,
        changes={"url": clean_url, "event_types": types},
    )
    return Issued(subscription, plain)


def lock(subscription_id: int) -> Subscription:
    return Subscription.objects.select_for_update().get(pk=subscription_id)


def _bump(subscription: Subscription, fields: dict[str, Any]) -> None:
    fields["updated_at"] = timezone.now()
    Subscription.objects.filter(pk=subscription.pk).update(version=F("version") + 1, **fields)
    for name, value in fields.items():
        setattr(subscription, name, value)
    subscription.version += 1


@transaction.atomic
def update_subscription(
    subscription: Subscription, *, by: User | None, version: int | None = None, **changes: Any
) -> Subscription:
    """Change ``name``, ``url``, ``event_types`` or ``is_active`` (``version``: the one the caller
    saw, else ``StaleVersion``). Turning it back on is ``enable_subscription``'s."""
    permissions.require(by)
    current = lock(subscription.pk)
    if version is not None and version != current.version:
        raise StaleVersion(_("This subscription was changed by someone else; reload it and try again."))
    fields: dict[str, Any] = {}
    if "name" in changes:
        fields["name"] = _check_name(changes["name"])
    if "url" in changes and changes["url"] != current.url:
        fields["url"] = check_url(changes["url"])
    if "event_types" in changes:
        fields["event_types"] = check_types(changes["event_types"])
    if "is_active" in changes and bool(changes["is_active"]) != current.is_active:
        if changes["is_active"]:
            return enable_subscription(current, by=by, _audit_changes=fields)
        fields.update(is_active=False, disabled_reason="admin", disabled_at=timezone.now())
    if fields:
        _bump(current, fields)
        audit.record(
            "webhooks.subscription_changed",
            actor=by,
            target=current,
            target_label=current.name,
            changes={k: v for k, v in fields.items() if k in ("name", "url", "event_types", "is_active")},
        )
    return current


@transaction.atomic
def enable_subscription(
    subscription: Subscription, *, by: User | None, _audit_changes: dict[str, Any] | None = None
) -> Subscription:
    """Turn a subscription (back) on: the failure count starts again and its waiting deliveries are
    due now."""
    permissions.require(by)
    current = lock(subscription.pk)
    fields = dict(_audit_changes or {})
    fields.update(is_active=True, disabled_reason="", disabled_at=None, consecutive_failures=0, failing_since=None)
    _bump(current, fields)
    now = timezone.now()
    due = Delivery.objects.filter(subscription=current, state=Delivery.State.PENDING)
    if due.update(next_attempt_at=now):
        from .delivery import kick

        kick()
    audit.record("webhooks.subscription_enabled", actor=by, target=current, target_label=current.name)
    return current


@transaction.atomic
def rotate_secret(subscription: Subscription, *, by: User | None, secret: str | None = None) -> Issued:
    """A new secret for the subscription (returned once); deliveries sent from now on use it."""
    permissions.require(by)
    current = lock(subscription.pk)
    plain = _check_secret(secret)
    _bump(current, {"secret_encrypted": secrets.encrypt(plain)})
    audit.record("webhooks.secret_rotated", actor=by, target=current, target_label=current.name)
    return Issued(current, plain)


@transaction.atomic
def delete_subscription(subscription: Subscription, *, by: User | None, version: int | None = None) -> None:
    permissions.require(by)
    current = lock(subscription.pk)
    if version is not None and version != current.version:
        raise StaleVersion(_("This subscription was changed by someone else; reload it and try again."))
    audit.record("webhooks.subscription_deleted", actor=by, target=current, target_label=current.name)
    current.delete()
