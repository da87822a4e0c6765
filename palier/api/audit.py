"""The audit log (administrators): who did what, when, from where, newest first."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.audit import permissions, selectors

router = Router()


class AuditQuery(Schema):
    actor: str = Field("", max_length=254, description="Part of the actor's email address.")
    action: str = Field("", max_length=64, description="An action, or a dotted prefix such as “auth”.")
    since: date | None = Field(None, description="First day included.")
    until: date | None = Field(None, description="Last day included.")
    before: int | None = Field(None, ge=1, description="The ``next_before`` of the previous page.")
    limit: int = Field(50, ge=1, le=200)


class AuditEventOut(Schema):
    id: int
    at: datetime
    actor: int | None = Field(alias="actor_id")
    actor_email: str
    ip: str | None
    action: str
    target_type: str
    target_id: str
    target_label: str
    changes: dict[str, Any] = Field(description="field -> [old, new]; secrets masked.")


class AuditPageOut(Schema):
    items: list[AuditEventOut]
    next_before: int | None


@router.get("", response=AuditPageOut)
def list_audit_events(request: HttpRequest, query: Query[AuditQuery]) -> selectors.AuditPage:
    """Security and administration events, newest first; administrators only."""
    if not permissions.may_read(current_user(request)):
        raise Problem(403, _("Only administrators can read the audit log."))
    filters = selectors.AuditFilters(actor=query.actor, action=query.action, since=query.since, until=query.until)
    return selectors.audit_page(filters, before=query.before, limit=query.limit)
