"""Monitoring alerts: sources and their tokens, deliveries stored raw, incidents per alert group.

A firing group opens an incident; a repeat (same group key or fingerprint) while that incident is
open adds an occurrence (an internal note and a counter) instead of a new ticket; a resolved
notification adds a note and, when the source says so, resolves the incident. The same delivery
received twice (same key, status and alert times) is counted once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.integrations import alert_payloads as payloads
from palier.integrations import permissions
from palier.integrations.models import AlertDelivery, AlertIncident, AlertSource, default_severity_map
from palier.integrations.services.chat import announce_ticket
from palier.lib.errors import Conflict, IllegalTransition
from palier.people import services as people_services
from palier.people.models import SupportGroup, User
from palier.tickets import services as ticket_services
from palier.tickets.models import Category, Level, Ticket

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "plra_"
ROBOT_EMAIL = "monitoring-robot@palier.invalid"  # writes the notes on monitoring incidents
MAX_KEY = 500
D = AlertDelivery.State


@dataclass(frozen=True)
class IssuedSource:
    source: AlertSource
    token: str  # shown once, never stored


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


# --- sources -----------------------------------------------------------------------------------------


def _clean_severity_map(raw: dict[str, Any] | None) -> dict[str, Any]:
    mapping = default_severity_map()
    for severity, pair in (raw or {}).items():
        valid = isinstance(pair, list | tuple) and len(pair) == 2 and all(v in Level.values for v in pair)
        if severity not in mapping or not valid:
            raise ValidationError({"severity_map": _("Map critical, warning and info to an impact and an urgency.")})
        mapping[severity] = list(pair)
    return mapping


def _clean_category_rules(rules: Sequence[dict[str, str]]) -> list[dict[str, str]]:
    cleaned = []
    for rule in rules:
        label, value, slug = (str(rule.get(k, "")).strip() for k in ("label", "value", "category"))
        if not (label and value and slug):
            raise ValidationError({"category_rules": _("Each rule needs a label, a value and a category.")})
        if not Category.objects.filter(slug=slug, is_active=True).exists():
            raise ValidationError({"category_rules": _("Unknown category “%(slug)s”.") % {"slug": slug}})
        cleaned.append({"label": label, "value": value, "category": slug})
    return cleaned


@transaction.atomic
def create_alert_source(
    *,
    name: str,
    kind: str,
    user: User,
    group: SupportGroup | None = None,
    category: Category | None = None,
    auto_resolve: bool = False,
    severity_map: dict[str, Any] | None = None,
    category_rules: Sequence[dict[str, str]] = (),
    by: User | None,
) -> IssuedSource:
    """Register a monitoring system. The token is returned once; only its SHA-256 is kept."""
    permissions.require(by, "manage")
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if kind not in AlertSource.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of source.")})
    if not user.is_active or not user.is_agent:
        raise ValidationError({"user": _("Choose an active agent account: it adds the internal notes.")})
    if AlertSource.objects.filter(name__iexact=name).exists():
        raise Conflict(_("A source with this name already exists."), field="name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    source = AlertSource(
        name=name[:100],
        kind=kind,
        user=user,
        group=group,
        category=category,
        auto_resolve=auto_resolve,
        severity_map=_clean_severity_map(severity_map),
        category_rules=_clean_category_rules(category_rules),
        token_prefix=token[:12],
        token_digest=hash_token(token),
    )
    try:
        with transaction.atomic():
            source.save()
            changes = {"kind": kind, "user": user.email, "group": group, "token": "issued"}
            audit.record("integration.created", actor=by, target=source, changes=changes)
    except IntegrityError as exc:
        raise Conflict(_("A source with this name already exists."), field="name") from exc
    return IssuedSource(source=source, token=token)


@transaction.atomic
def revoke_alert_source(source: AlertSource, *, by: User | None) -> AlertSource:
    """Refuse the source's token from now on; its incidents and deliveries stay."""
    permissions.require(by, "manage")
    if source.revoked_at is None:
        source.revoked_at = timezone.now()
        source.save(update_fields=["revoked_at"])
        audit.record("integration.revoked", actor=by, target=source)
    return source


def authenticate_source(token: str) -> AlertSource | None:
    """The active source for a presented token, or None. Touches last use at most once a minute."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    source = (
        AlertSource.objects.select_related("user")
        .filter(token_digest=hash_token(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if source is None:
        return None
    now = timezone.now()
    if source.last_used_at is None or (now - source.last_used_at).total_seconds() > 60:
        AlertSource.objects.filter(pk=source.pk).update(last_used_at=now)
        source.last_used_at = now
    return source


# --- deliveries ------------------------------------------------------------------------------------------


def receive_alert(source: AlertSource, *, body: bytes) -> AlertDelivery:
    """Check the payload, store it raw, then process it.

    Raises ``PayloadError`` (nothing stored) when the body is not what the source sends. A failure
    while processing is kept on the delivery (state failed, with the error) and not raised.
    """
    group = payloads.parse(source.kind, payloads.load_json(body))
    delivery = AlertDelivery.objects.create(
        source=source,
        body=body.decode("utf-8"),
        group_key=_key(group.key),
        idempotency_key=group.idempotency_key(),
    )
    return process_delivery(delivery, group)


def _key(key: str) -> str:
    return key if len(key) <= MAX_KEY else "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def process_delivery(delivery: AlertDelivery, group: payloads.AlertGroup) -> AlertDelivery:
    try:
        with transaction.atomic():
            state, ticket = _apply(delivery, group)
            delivery.state, delivery.ticket = state, ticket
            delivery.save(update_fields=["state", "ticket"])
    except Exception as exc:  # kept on the delivery for the admins, never lost
        logger.exception("alert delivery %s failed", delivery.pk)
        delivery.state, delivery.error = D.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        delivery.save(update_fields=["state", "error"])
    return delivery


def _apply(delivery: AlertDelivery, group: payloads.AlertGroup) -> tuple[str, Ticket | None]:
    source = delivery.source
    incident, _created = AlertIncident.objects.select_for_update().get_or_create(source=source, key=delivery.group_key)
    ticket = Ticket.objects.filter(pk=incident.ticket_id).first() if incident.ticket_id else None
    done = AlertDelivery.objects.filter(source=source, idempotency_key=delivery.idempotency_key, state=D.PROCESSED)
    if done.exclude(pk=delivery.pk).exists():
        return D.DUPLICATE, ticket
    if group.status == payloads.FIRING:
        return D.PROCESSED, _fire(source, incident, ticket, group)
    if ticket is None or not ticket.is_open:
        return D.IGNORED, ticket
    _resolve(source, incident, ticket, group)
    return D.PROCESSED, ticket


def _impact_urgency(source: AlertSource, group: payloads.AlertGroup) -> tuple[str, str]:
    mapping = source.severity_map or default_severity_map()
    pair = mapping.get(group.severity or "warning") or default_severity_map()["warning"]
    return str(pair[0]), str(pair[1])


def _category(source: AlertSource, group: payloads.AlertGroup) -> Category | None:
    label_sets = [group.labels, *(alert.labels for alert in group.alerts)]
    for rule in source.category_rules or []:
        if any(labels.get(rule["label"]) == rule["value"] for labels in label_sets):
            found = Category.objects.filter(slug=rule["category"], is_active=True).first()
            if found is not None:
                return found
    return source.category if source.category is None or source.category.is_active else None


def _fire(source: AlertSource, incident: AlertIncident, ticket: Ticket | None, group: payloads.AlertGroup) -> Ticket:
    incident.last_seen = timezone.now()
    if ticket is None or not ticket.is_open:
        impact, urgency = _impact_urgency(source, group)
        ticket = ticket_services.open_ticket(
            requester=source.user,
            by=None,
            channel=Ticket.Channel.MONITORING,
            subject=group.title[: ticket_services.MAX_SUBJECT],
            description=_body(group),
            impact=impact,
            urgency=urgency,
            group=source.group,
            category=_category(source, group),
        )
        incident.ticket, incident.occurrences = ticket, 1
        incident.save()
        announce_ticket(ticket)
        return ticket
    incident.occurrences += 1
    incident.save(update_fields=["occurrences", "last_seen"])
    note = _("The alert fired again (occurrence %(n)d).") % {"n": incident.occurrences}
    ticket_services.comment_on_ticket(
        ticket, by=_robot(), internal=True, channel=Ticket.Channel.MONITORING, body=f"{note}\n\n{_body(group)}"
    )
    return ticket


def _resolve(source: AlertSource, incident: AlertIncident, ticket: Ticket, group: payloads.AlertGroup) -> None:
    incident.last_seen = timezone.now()
    incident.save(update_fields=["last_seen"])
    note = _("The monitoring system reports the alert as resolved.")
    ticket_services.comment_on_ticket(
        ticket, by=_robot(), internal=True, channel=Ticket.Channel.MONITORING, body=f"{note}\n\n{_body(group)}"
    )
    if source.auto_resolve:
        # every open status may go straight to resolved (tickets/rules.py TRANSITIONS), unless a
        # guard keeps it open (a mandatory task still open): the note is there for the agent
        try:
            with transaction.atomic():
                ticket_services.transition_ticket(ticket, to=Ticket.Status.RESOLVED, by=None, note=note)
        except IllegalTransition:
            logger.info("alert incident %s stays open: a guard refused its resolution", ticket.pk)


def _robot() -> User:
    """Who writes the monitoring notes: Palier's own monitoring account. The source's account is
    the incidents' requester, and a requester (agent or not) adds no internal note to their own
    ticket (``tickets.permissions.works_on``)."""
    return people_services.system_account(email=ROBOT_EMAIL, full_name="Palier (monitoring)")


def _body(group: payloads.AlertGroup) -> str:
    text = group.description
    if group.url:
        text += f"\n\n{group.url}"
    return text[: ticket_services.MAX_BODY] or group.title
