"""Admin pages of the mail intake: the quarantine (with a Retry button) and mailbox health."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.lib.web import AuthedRequest, admin_required
from palier.mail import selectors, services
from palier.mail.models import InboundMessage


@admin_required
def quarantine(request: AuthedRequest) -> HttpResponse:
    return render(
        request,
        "mail/quarantine.html",
        {"items": list(selectors.quarantine()), "mailboxes": list(selectors.mailboxes())},
    )


@admin_required
@require_POST
def retry(request: AuthedRequest, pk: int) -> HttpResponse:
    inbound = services.retry(pk, by=request.user)
    if inbound.state == InboundMessage.State.QUARANTINED:
        messages.error(request, _("The message is still quarantined: %(error)s") % {"error": inbound.error})
    else:
        messages.success(request, _("The message was processed."))
    return redirect("mail:quarantine")
