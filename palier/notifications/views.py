"""Notification pages: the inbox of in-app notifications (paginated, mark read), the preferences
page where each user ticks which events reach them by email and in the application, and the
outbox of outgoing email for administrators (failed mail visible with its error, send again)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.lib.errors import DomainError
from palier.lib.web import admin_required, signed_in
from palier.notifications import selectors, services
from palier.notifications.models import NotificationPreference
from palier.people.http import AuthedRequest


@signed_in
def inbox(request: AuthedRequest) -> HttpResponse:
    page = selectors.inbox_page(request.user, page=request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page, "is_agent": request.user.is_agent})


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
    return render(request, "notifications/preferences.html", {"rows": rows}, status=status)


@admin_required
def outbox(request: AuthedRequest) -> HttpResponse:
    """Outgoing email for administrators: what waits, what failed (with the error), what was sent."""
    state = request.GET.get("state", "pending")
    if state not in selectors.OUTBOX_FILTERS:
        state = "pending"
    page = selectors.outbox_page(state=state, page=request.GET.get("page"))
    context = {"page": page, "state": state, "filters": _outbox_filters()}
    return render(request, "notifications/outbox.html", context)


def _outbox_filters() -> list[tuple[str, str]]:
    return [("pending", _("Waiting")), ("failed", _("Failed")), ("sent", _("Sent")), ("all", _("All"))]


@admin_required
@require_POST
def outbox_retry(request: AuthedRequest, outgoing_id: int) -> HttpResponse:
    try:
        services.retry_email(outgoing_id=outgoing_id, by=request.user)
    except (ValidationError, DomainError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, _("The email is queued again."))
    return redirect(f"{reverse('notifications:outbox')}?state=failed")
