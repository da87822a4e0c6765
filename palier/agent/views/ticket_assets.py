"""The ticket page's "Affected assets" panel: link an asset by its tag or from the requester's
assets (one click), remove a link. Plain form posts answered by a redirect to the ticket page,
with the outcome (or why not) as a message; the rules are ``assets.services.link_ticket``'s."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.assets import selectors as asset_selectors
from palier.assets import services as asset_services
from palier.lib.errors import DomainError
from palier.lib.web import agent_required
from palier.people.http import AuthedRequest
from palier.tickets import selectors

MAX_TAG = 64


def _back(ticket_id: int) -> HttpResponse:
    return redirect(reverse("agent:ticket-detail", args=[ticket_id]) + "#affected-assets")


def _failed(request: AuthedRequest, exc: Exception) -> None:
    if isinstance(exc, DomainError):
        text = exc.message
    elif isinstance(exc, ValidationError):
        text = " ".join(exc.messages)
    else:  # pragma: no cover - only the errors above are caught
        text = str(exc)
    messages.error(request, text)


@agent_required
@require_POST
def ticket_asset_link(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Link the asset named by ``asset`` (an id, from the requester's card) or ``tag`` (typed)."""
    ticket = selectors.get_ticket_for(request.user, ticket_id, action="update")
    tag = (request.POST.get("tag") or "").strip()[:MAX_TAG]
    asset_id = (request.POST.get("asset") or "").strip()
    try:
        if asset_id:
            asset = asset_selectors.get_asset_for(request.user, asset_id)
        elif tag:
            asset = asset_selectors.get_asset_by_tag_for(request.user, tag)
        else:
            raise ValidationError({"tag": _("Enter the tag of the asset to link.")})
        link = asset_services.link_ticket(request.user, ticket, asset)
    except (ValidationError, DomainError) as exc:
        _failed(request, exc)
    else:
        if link is None:
            messages.info(request, _("%(tag)s was already linked.") % {"tag": asset.tag})
        else:
            messages.success(request, _("%(tag)s linked to the ticket.") % {"tag": asset.tag})
    return _back(ticket_id)


@agent_required
@require_POST
def ticket_asset_unlink(request: AuthedRequest, ticket_id: int, asset_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id, action="update")
    try:
        asset = asset_selectors.get_asset_for(request.user, asset_id)
        removed = asset_services.unlink_ticket(request.user, ticket, asset)
    except (ValidationError, DomainError) as exc:
        _failed(request, exc)
    else:
        if removed:
            messages.success(request, _("%(tag)s is no longer linked to the ticket.") % {"tag": asset.tag})
    return _back(ticket_id)
