"""Notification pages of everyone signed in: the inbox of in-app notifications (paginated, mark
read) and the preferences page where each user ticks which events reach them by email and in
the application."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.lib.web import signed_in
from palier.notifications import selectors, services
from palier.notifications.models import NotificationPreference
from palier.people.http import AuthedRequest


@signed_in
def inbox(request: AuthedRequest) -> HttpResponse:
    page = selectors.inbox_page(request.user, page=request.GET.get("page"))
    return render(request, "portal/notifications/inbox.html", {"page": page, "is_agent": request.user.is_agent})


@signed_in
@require_POST
def mark_read(request: AuthedRequest) -> HttpResponse:
    """Mark one notification read (``id``) or all of them; unknown or foreign ids change nothing."""
    raw = request.POST.get("id", "")
    ids = [int(raw)] if raw.isdigit() else None
    services.mark_read(request.user, ids)
    return redirect("notifications:inbox")


@signed_in
def preferences(request: AuthedRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        channels = NotificationPreference.Channel.values
        enabled = [tuple(name.split(":", 1)) for name in request.POST if name.count(":") == 1]
        chosen = [(event, channel) for event, channel in enabled if channel in channels]
        try:
            services.set_preferences(request.user, enabled=chosen)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 400
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notifications:preferences")
    rows = selectors.preferences_for(request.user)
    return render(request, "portal/notifications/preferences.html", {"rows": rows}, status=status)
