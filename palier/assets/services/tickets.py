"""Links between tickets and the assets they touch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from palier.lib.errors import NotFound, PermissionDenied
from palier.people.models import User
from palier.tickets import hooks
from palier.tickets import permissions as ticket_permissions
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

from .. import facts, history, permissions
from ..models import Asset, AssetEvent, TicketAsset

MAX_ASSETS_PER_TICKET = 50


def check_link(actor: User | None, ticket: Ticket, asset: Asset) -> None:
    """Refuse a link ``actor`` may not make. Desk staff link any asset they see to a ticket they
    work on; a requester links only an asset assigned to them, to a ticket they opened, while it
    is open. ``actor`` None is Palier itself (a rule)."""
    if actor is None:
        return
    if not ticket_permissions.can_see(actor, ticket):
        raise NotFound(_("Ticket not found."))
    if not permissions.can(actor, "view", asset):
        raise NotFound(_("Asset not found."))
    if ticket_permissions.works_on(actor, ticket):
        return
    if (
        ticket.requester_id == actor.pk
        and asset.assigned_to_id == actor.pk
        and ticket.status not in (Ticket.Status.CLOSED, Ticket.Status.CANCELLED, Ticket.Status.RESOLVED)
    ):
        return
    raise PermissionDenied(_("You may link only your own devices to your own open requests."))


def _links_changed(ticket: Ticket) -> None:
    """Tell the ticket's ``after_change`` hooks (the SLA re-picks its policy on the business
    services' criticality) that its assets changed, with the ticket row locked as they expect."""
    list(Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk", flat=True))
    hooks.run_after_change(ticket, {"_assets": None})


@transaction.atomic
def link_ticket(actor: User | None, ticket: Ticket, asset: Asset, *, notify: bool = True) -> TicketAsset | None:
    """Link; linking twice is a no-op (returns None). ``notify`` False: the ticket's hooks already
    saw the asset (it was opened with it)."""
    check_link(actor, ticket, asset)
    if TicketAsset.objects.filter(ticket=ticket, asset=asset).exists():
        return None
    if TicketAsset.objects.filter(ticket=ticket).count() >= MAX_ASSETS_PER_TICKET:
        raise ValidationError({"asset": _("A ticket links at most %(n)d assets.") % {"n": MAX_ASSETS_PER_TICKET}})
    try:
        with transaction.atomic():
            link = TicketAsset.objects.create(ticket=ticket, asset=asset, added_by=actor)
    except IntegrityError:
        return None
    history.record(
        asset, AssetEvent.Kind.TICKET_LINKED, actor=actor, data={"ticket": ticket.pk, "number": ticket.reference}
    )
    if notify:
        _links_changed(ticket)
    return link


@transaction.atomic
def unlink_ticket(actor: User | None, ticket: Ticket, asset: Asset) -> bool:
    check_link(actor, ticket, asset)
    deleted, _rows = TicketAsset.objects.filter(ticket=ticket, asset=asset).delete()
    if deleted:
        history.record(
            asset, AssetEvent.Kind.TICKET_UNLINKED, actor=actor, data={"ticket": ticket.pk, "number": ticket.reference}
        )
        _links_changed(ticket)
    return bool(deleted)


@transaction.atomic
def open_ticket_with_assets(
    *, requester: User, by: User | None, assets: Sequence[Asset], uploads: Sequence[IO[bytes]] = (), **fields: Any
) -> Ticket:
    """Open a ticket and link ``assets`` to it in one transaction (the portal's "Which device?", a
    catalog item's asset question): a link refused opens nothing. Routing and the SLA see the
    assets while they place the ticket (``facts.opening_with``). Each link is checked for ``by``
    as ``link_ticket`` does, so a requester links only their own devices."""
    for asset in assets:
        if by is not None and not by.is_agent and not by.is_admin and asset.assigned_to_id != by.pk:
            raise ValidationError({"asset": _("Choose one of your own devices.")})
    with facts.opening_with(assets):
        ticket = ticket_services.open_ticket_with_files(requester=requester, by=by, uploads=uploads, **fields)
    for asset in assets:
        link_ticket(by, ticket, asset, notify=False)
    return ticket
