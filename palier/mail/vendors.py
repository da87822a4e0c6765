"""A vendor's email reply reaches the ticket that was sent to it (docs/email.md, "Vendor replies").

A ticket escalated to an external vendor group (L4/L5) is mailed to the group's contacts
(``routing.services.escalation``: a VENDOR event naming the group, the mail through the outbox,
its Message-ID kept with its recipient by ``services.record_outgoing``). A message that threads
to such a ticket is the vendor's reply when

1. its one From address speaks for a vendor group the ticket was sent to: one of the group's
   contact addresses, or (group setting) any address at one of its mail domains — the exact
   domain, never a sub-domain or a look-alike (``vendor.com.evil.test``);
2. and it proves it answers that vendor's mail: its In-Reply-To/References name a Message-ID
   Palier sent for this ticket to an address of that group (a random id only the vendor got), or
   its subject carries the ticket's tag ``[INC-1042]`` (guessable) **and** the mailbox's trusted
   server verified the sender (``Authentication-Results``: a pass);
3. and the sender is not refuted: an explicit authentication failure, or no pass on a mailbox
   that requires one, is never a vendor reply, whatever it threads to.

From: alone is not an identity. A message that meets 1 but not 2 or 3 is a claimed vendor reply
and is treated like any unverified reply (a new ticket tagged ``sender-not-verified``, linked,
or the quarantine: mailbox setting); one that does not meet 1 is ordinary mail.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.db.models import Q
from django.utils.translation import gettext as _

from palier.lib import refpattern
from palier.mail.models import InboundMessage, Mailbox, MessageRecord
from palier.mail.parsing import ParsedMessage, Verdict
from palier.people.models import SupportGroup, User
from palier.tickets import services as ticket_services
from palier.tickets.models import Comment, Ticket, TicketEvent

S_AUTH = InboundMessage.SenderAuth


@dataclass(frozen=True)
class VendorReply:
    group: SupportGroup
    proven: bool
    why: str = ""  # not proven: why (shown in the quarantine or the note of the marked ticket)

    @property
    def name(self) -> str:
        return self.group.vendor_company or self.group.name


def speaks_for(group: SupportGroup, address: str) -> bool:
    """Is ``address`` one of the group's contacts, or (setting) at one of its domains exactly?"""
    address = address.strip().lower()
    if not address or "@" not in address:
        return False
    if address in group.vendor_contact_set:
        return True
    return group.vendor_accept_domain and address.rpartition("@")[2] in group.vendor_domain_set


def sent_to(ticket: Ticket) -> list[SupportGroup]:
    """The vendor groups ``ticket`` was sent to (its VENDOR events), latest first. Events written
    before they named the group are matched by the vendor's name."""
    ids: list[int] = []
    names: list[str] = []
    events = TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.VENDOR).order_by("-created_at", "-pk")
    for data in events.values_list("data", flat=True):
        group_id = data.get("group_id") if isinstance(data, dict) else None
        if isinstance(group_id, int):
            ids.append(group_id)
        elif isinstance(data, dict) and data.get("vendor"):
            names.append(str(data["vendor"]))
    if not ids and not names:
        return []
    named = Q(vendor_company__in=names) | Q(vendor_company="", name__in=names) if names else Q(pk__in=[])
    groups = {g.pk: g for g in SupportGroup.objects.filter(Q(pk__in=ids) | named, is_vendor=True)}
    ordered = [groups.pop(pk) for pk in dict.fromkeys(ids) if pk in groups]
    return ordered + sorted(groups.values(), key=lambda g: g.pk)


def match(parsed: ParsedMessage, ticket: Ticket, auth: Verdict, mailbox: Mailbox | None) -> VendorReply | None:
    """The vendor reply this message is on ``ticket`` (proven or not), or None: not a vendor's."""
    sender = parsed.sender_email.strip().lower()
    if parsed.from_count != 1 or "@" not in sender:
        return None
    groups = [group for group in sent_to(ticket) if speaks_for(group, sender)]
    if not groups:
        return None
    answered = _answered(parsed, ticket)
    threaded = [group for group in groups if any(speaks_for(group, address) for address in answered)]
    group = (threaded or groups)[0]
    if auth.status == S_AUTH.FAIL:
        return VendorReply(group, False, _("the sender's authentication failed (%(detail)s)") % {"detail": auth.detail})
    if mailbox is not None and mailbox.require_sender_authentication and not auth.verified:
        return VendorReply(group, False, _("the sender is not verified (%(detail)s)") % {"detail": auth.detail})
    if threaded:
        return VendorReply(group, True)
    tagged = f"[{ticket.reference}]".lower() in parsed.subject.lower()
    if tagged and auth.verified:
        return VendorReply(group, True)
    if tagged:
        why = _("it answers no message sent to the vendor, and its sender is not verified (%(detail)s)")
        return VendorReply(group, False, why % {"detail": auth.detail})
    return VendorReply(group, False, _("it answers no message sent to the vendor"))


def _answered(parsed: ParsedMessage, ticket: Ticket) -> set[str]:
    """The recipients of the messages Palier sent for ``ticket`` that this message names."""
    ids = parsed.references_all
    if not ids:
        return set()
    records = MessageRecord.objects.filter(
        message_id__in=ids, ticket=ticket, direction=MessageRecord.Direction.OUT
    ).exclude(address="")
    return set(records.values_list("address", flat=True))


def add_reply(
    ticket: Ticket,
    reply: VendorReply,
    *,
    parsed: ParsedMessage,
    body: str,
    uploads: list[io.BytesIO],
    by: User,
) -> Comment:
    """The vendor's reply as an internal note (or, group setting, a public reply while the ticket
    is open) by ``by`` (the mail robot), then the vendor's reference read from it."""
    group = reply.group
    public = group.vendor_reply_public and ticket.is_open
    if public:  # the requester reads it: the vendor's name, not its contact's address
        header = _("Reply from the vendor %(vendor)s:") % {"vendor": reply.name}
    else:
        header = _("Reply from the vendor %(vendor)s (%(email)s):") % {
            "vendor": reply.name, "email": parsed.sender_email.lower()
        }  # fmt: skip
    comment = ticket_services.comment_on_ticket(
        ticket, by=by, body=f"{header}\n\n{body}", internal=not public, channel=Ticket.Channel.EMAIL, uploads=uploads
    )
    if group.vendor_reference_pattern:
        found = refpattern.search(group.vendor_reference_pattern, subject=parsed.subject, body=parsed.text)
        if found.problem:
            note = _(
                "The reference pattern of the vendor %(vendor)s could not be applied to this reply "
                "(it took too long, or could not run); no reference was read. Check the pattern."
            ) % {"vendor": reply.name}
            ticket_services.comment_on_ticket(ticket, by=by, body=note, internal=True, channel=Ticket.Channel.EMAIL)
        elif found.reference:
            ticket_services.vendor_reference_seen(
                ticket, by=by, reference=found.reference, vendor=reply.name, group_id=group.pk
            )
    return comment
