"""The outbox of outgoing email for administrators (failed mail visible with its error, send again)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.lib.errors import DomainError
from palier.lib.web import admin_required
from palier.notifications import selectors, services
from palier.people.http import AuthedRequest


@admin_required
def outbox(request: AuthedRequest) -> HttpResponse:
    """Outgoing email for administrators: what waits, what failed (with the error), what was sent."""
    state = request.GET.get("state", "pending")
    if state not in selectors.OUTBOX_FILTERS:
        state = "pending"
    page = selectors.outbox_page(state=state, page=request.GET.get("page"))
    context = {"page": page, "state": state, "filters": _outbox_filters()}
    return render(request, "agent/notifications/outbox.html", context)


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
