"""The administrators' Backups page: the last successful backup, its age and size, the
scheduled backups' settings (docs/operations.md, "Backups and restore"), and the outbox's work
not done yet (failed notifications and webhooks waiting for a retry, or given up)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from palier.backups import selectors
from palier.core import selectors as core_selectors
from palier.lib.web import admin_required
from palier.people.http import AuthedRequest


@admin_required
def backups(request: AuthedRequest) -> HttpResponse:
    context = {"status": selectors.backup_status(), "outbox": core_selectors.outbox_backlog()}
    return render(request, "agent/admin/backups.html", context)
