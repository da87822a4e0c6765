"""Writes of the reports app.

Scheduled summaries and exports (docs/reports-subscriptions.md): ``subscribe``,
``change_subscription``, ``unsubscribe``, and the periodic run ``run_due_subscriptions``.

The run takes the due rows (``is_active`` and ``next_run_at <= now``, indexed) and claims each
slot with a conditional UPDATE (``WHERE next_run_at = <the slot it read>``), so two workers never
send the same slot twice. A summary is queued in the outbox in the claim's transaction: if
anything fails, the claim rolls back and the next run tries again (the outbox key
``report-subscription:<id>:<first day>`` keeps one mail per period anyway). An export is sent
after the claim commits (it carries an attachment, which the outbox does not store); if sending
fails, the slot is given back so the next run tries again. A subscription whose owner lost the
right to it (inactive, no longer a manager, a group out of reach) is turned off, not sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from palier.lib.errors import DomainError, PermissionDenied
from palier.people.models import User
from palier.reports import permissions
from palier.reports import subscriptions as subs
from palier.reports.filters import parse_filters, scope_for
from palier.reports.models import ReportSubscription
from palier.reports.periods import Period
from palier.reports.services.export_jobs import record_export

log = logging.getLogger(__name__)

BATCH = 100
Kind = ReportSubscription.Kind


# --- scheduled summaries and exports: subscribe, change, unsubscribe ---------------------------------


def _require_manage(by: User, subscription: ReportSubscription) -> None:
    if not permissions.can_manage_subscription(by, subscription.owner_id):
        raise PermissionDenied(_("You cannot change this subscription."))


def _require_subscribe(user: User, kind: str) -> None:
    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose a value from the list.")})
    if kind == Kind.EXPORT and not permissions.can_subscribe(user, "subscribe_export"):
        raise PermissionDenied(_("Only administrators can schedule exports."))
    if not permissions.can_subscribe(user, "subscribe_summary"):
        raise PermissionDenied(_("Only managers and administrators can subscribe to summaries."))


def _check_choice(name: str, value: str, choices: list[str]) -> str:
    if value not in choices:
        raise ValidationError({name: _("Choose a value from the list.")})
    return value


def _export_fields(kind: str, metric: str, fmt: str, recipients: str | list[str]) -> dict[str, Any]:
    if kind != Kind.EXPORT:
        return {"metric": "", "format": "", "recipients": []}
    return {
        "metric": _check_choice("metric", metric, list(subs.EXPORTS)),
        "format": _check_choice("format", fmt, ReportSubscription.Format.values),
        "recipients": subs.clean_recipients(recipients),
    }


@transaction.atomic
def subscribe(
    *,
    by: User,
    kind: str,
    frequency: str,
    filters: Mapping[str, Any],
    metric: str = "",
    format: str = "",
    recipients: str | list[str] = "",
    now: datetime | None = None,
) -> ReportSubscription:
    """``by`` subscribes to a summary of what they may see (managers, administrators) or, for
    administrators, schedules an export of one report to a list of addresses."""
    _require_subscribe(by, kind)
    frequency = _check_choice("frequency", frequency, ReportSubscription.Frequency.values)
    cleaned = subs.clean_filters(by, filters)
    now = now or timezone.now()
    return ReportSubscription.objects.create(
        owner=by, kind=kind, frequency=frequency, filters=cleaned, **_export_fields(kind, metric, format, recipients),
        next_run_at=subs.next_slot(frequency, subs.zone_of(by), now), created_at=now, updated_at=now,
    )  # fmt: skip


@transaction.atomic
def change_subscription(
    subscription: ReportSubscription, *, by: User, now: datetime | None = None, **fields: Any
) -> ReportSubscription:
    """Change the frequency, the filters, the active flag or (exports) the report, the format and
    the addresses. Checked for the owner, who receives it; a new schedule starts from now."""
    allowed = {"frequency", "filters", "is_active", "metric", "format", "recipients"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    _require_manage(by, subscription)
    row = ReportSubscription.objects.select_for_update().select_related("owner").get(pk=subscription.pk)
    _require_subscribe(row.owner, row.kind)
    if row.kind == Kind.EXPORT:
        _require_subscribe(by, row.kind)
    frequency = _check_choice("frequency", fields.get("frequency", row.frequency), ReportSubscription.Frequency.values)
    is_active = bool(fields.get("is_active", row.is_active))
    rescheduled = (frequency, is_active) != (row.frequency, row.is_active)
    if "filters" in fields:
        row.filters = subs.clean_filters(row.owner, fields["filters"])
    export = _export_fields(
        row.kind, fields.get("metric", row.metric), fields.get("format", row.format),
        fields.get("recipients", row.recipients),
    )  # fmt: skip
    for name, value in {**export, "frequency": frequency, "is_active": is_active}.items():
        setattr(row, name, value)
    now = now or timezone.now()
    if rescheduled:
        row.next_run_at = subs.next_slot(frequency, subs.zone_of(row.owner), now) if is_active else None
        row.problem = ""
    row.updated_at = now
    row.save()
    return row


@transaction.atomic
def unsubscribe(subscription: ReportSubscription, *, by: User) -> None:
    """Remove a subscription (its owner or an administrator)."""
    _require_manage(by, subscription)
    ReportSubscription.objects.filter(pk=subscription.pk).delete()


# --- scheduled summaries and exports: the periodic run -----------------------------------------------


def _refusal(row: ReportSubscription) -> str | None:
    """Why the owner may no longer receive this subscription, or None."""
    owner = row.owner
    try:
        _require_subscribe(owner, row.kind)
        scope_for(owner, parse_filters(dict(row.filters)))
    except (DomainError, ValidationError) as exc:
        return exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
    return None


def _language(owner: User) -> str:
    return owner.language or settings.LANGUAGE_CODE


def _queue_summary(row: ReportSubscription, period: Period) -> int:
    from palier.notifications import email

    owner = row.owner
    filters = parse_filters(dict(row.filters))
    with translation.override(_language(owner)):
        context = {
            "subscription": row,
            "sections": subs.summary_sections(owner=owner, filters=filters, period=period),
            "period_text": subs.period_text(period),
            "weekly": row.frequency == ReportSubscription.Frequency.WEEKLY,
            "dashboard_url": subs.dashboard_url(row.filters, period),
            "subscriptions_url": email.base_url() + reverse("reports:subscriptions"),
        }
    key = f"report-subscription:{row.pk}:{period.first.isoformat()}"
    return email.queue_templated(to=[owner], template="reports/email/summary", context=context, key=key)


def _send_export(row: ReportSubscription, period: Period) -> None:
    from palier.notifications import email

    owner = row.owner
    with translation.override(_language(owner)):
        filters = parse_filters(dict(row.filters))
        table = subs.export_table(owner=owner, key=row.metric, filters=filters, period=period)
        name, content, content_type = subs.export_file(table, fmt=row.format, key=row.metric, period=period)
        record_export(
            by=owner,
            what=f"report:{row.metric}",
            fmt=row.format,
            rows=len(table.rows),
            filters={**dict(row.filters), "recipients": list(row.recipients)},
        )
        context = {"report": str(subs.EXPORTS[row.metric].label), "period_text": subs.period_text(period),
                   "rows": len(table.rows), "file_name": name, "owner": owner}  # fmt: skip
        subject = " ".join(render_to_string("reports/email/export_subject.txt", context).split())
        text = render_to_string("reports/email/export.txt", context)
        html = render_to_string("reports/email/export.html", context)
    headers = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
    sender = email.sender_address(None)
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=sender, to=list(row.recipients), reply_to=[sender], headers=headers
    )
    message.attach_alternative(html, "text/html")
    message.attach(name, content, content_type)
    message.send(fail_silently=False)


def _problem(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


def _turn_off(row: ReportSubscription, reason: str) -> None:
    log.info("report subscription %s turned off: %s", row.pk, reason)
    ReportSubscription.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
        is_active=False, next_run_at=None, problem=reason[:300]
    )


def run_subscription(row: ReportSubscription, now: datetime) -> bool:
    """Claim the slot the row was read with and send it. False when another worker won, the owner
    lost the right (the row is turned off) or sending failed (tried again at the next run)."""
    slot = row.next_run_at
    if slot is None:
        return False
    reason = _refusal(row)
    if reason is not None:
        _turn_off(row, reason)
        return False
    zone = subs.zone_of(row.owner)
    period = subs.period_of(row.frequency, zone, slot)
    following = subs.next_slot(row.frequency, zone, max(now, slot))
    held = slot  # the slot as stored after the claim's transaction: ``following`` once committed
    try:
        with transaction.atomic():
            claimed = ReportSubscription.objects.filter(pk=row.pk, is_active=True, next_run_at=slot).update(
                next_run_at=following, last_run_at=now, problem=""
            )
            if not claimed:
                return False
            if row.kind == Kind.SUMMARY:
                _queue_summary(row, period)
        held = following
        if row.kind == Kind.EXPORT:
            _send_export(row, period)
    except Exception as exc:  # logged, shown on the page, and tried again at the next run
        log.exception("report subscription %s could not be sent", row.pk)
        ReportSubscription.objects.filter(pk=row.pk, next_run_at=held).update(
            next_run_at=slot, last_run_at=row.last_run_at, problem=_problem(exc)
        )
        return False
    return True


def run_due_subscriptions(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Send the summaries and exports whose slot has come, once per slot. Returns how many were sent."""
    now = now or timezone.now()
    return sum(1 for row in subs.due_subscriptions(now, limit=batch) if run_subscription(row, now))
