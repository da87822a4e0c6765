"""The administrators' Backups page: the last successful backup, its age and size, and the
scheduled backups' settings (docs/operations.md, "Backups and restore")."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from palier.backups import selectors
from palier.lib.web import admin_required
from palier.people.http import AuthedRequest


@admin_required
def backups(request: AuthedRequest) -> HttpResponse:
    return render(request, "agent/admin/backups.html", {"status": selectors.backup_status()})
