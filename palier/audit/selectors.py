"""Reads of the audit log, newest first, for the admin page, its CSV export and the API. The
interfaces check ``permissions.may_read`` first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from palier.audit.models import AuditEvent

# the actions Palier records, for the page's suggestions and the documentation (docs/audit.md)
ACTIONS = (
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.password_changed",
    "auth.password_reset_requested",
    "auth.password_reset_limited",
    "auth.password_reset",
    "auth.password_reset_refused",
    "auth.password_set",
    "auth.password_reset_sent",
    "auth.session_ended",
    "auth.sessions_ended",
    "identity.policy_changed",
    "organisation.password_sign_in",
    "auth.mfa_enrolled",
    "auth.mfa_removed",
    "auth.mfa_reset",
    "auth.mfa_failed",
    "auth.mfa_locked",
    "auth.mfa_recovery_used",
    "auth.mfa_recovery_regenerated",
    "user.created",
    "user.changed",
    "user.role_changed",
    "user.password_changed",
    "user.activated",
    "user.deactivated",
    "group.member_added",
    "group.member_removed",
    "token.created",
    "token.used",
    "token.revoked",
    "export.tickets",
    "export.report",
    "export.data",
    "export.data_downloaded",
    "deleted",
)


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # part of the actor's email address
    action: str = ""  # an action or a dotted prefix: "auth" selects every sign-in event
    since: date | None = None  # first day included (the desk's time zone)
    until: date | None = None  # last day included


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    next_before: int | None  # pass it back as ``before`` for the next (older) page


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def matching(filters: AuditFilters) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if filters.actor.strip():
        qs = qs.filter(actor_email__icontains=filters.actor.strip())
    action = filters.action.strip().rstrip(".")
    if action:
        qs = qs.filter(Q(action=action) | Q(action__startswith=action + "."))
    if filters.since:
        qs = qs.filter(at__gte=_start_of(filters.since))
    if filters.until:
        qs = qs.filter(at__lt=_start_of(filters.until + timedelta(days=1)))
    return qs


def audit_page(filters: AuditFilters, *, before: int | None = None, limit: int = 50) -> AuditPage:
    """One page, newest first (by id, the order of insertion), with a keyset cursor."""
    qs = matching(filters)
    if before is not None:
        qs = qs.filter(pk__lt=before)
    rows = list(qs.order_by("-id")[: limit + 1])
    if len(rows) <= limit:
        return AuditPage(rows, None)
    return AuditPage(rows[:limit], rows[limit - 1].pk)


def export_rows(filters: AuditFilters) -> Iterator[AuditEvent]:
    """Every matching event, newest first, read in chunks (the CSV export streams them)."""
    return matching(filters).order_by("-id").iterator(chunk_size=2000)
