"""Inbound email: store the raw bytes first (``receive``), then turn them into a ticket or a comment
(``process``). A message that cannot be processed is quarantined with its error and can be retried;
it is never dropped. Automatic mail (bounces, auto-replies, reports) never opens a ticket.
"""

from __future__ import annotations

import io
import re
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib import files
from palier.lib.errors import Conflict, DomainError, NotFound
from palier.mail import permissions as mail_permissions
from palier.mail.models import InboundMessage, Mailbox, MessageRecord
from palier.mail.parsing import ParsedMessage, parse_message, raw_message_id, raw_references, sha256_hex
from palier.mail.replies import split_reply
from palier.people import services as people_services
from palier.people.models import User
from palier.tickets import permissions
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket, TicketLink

ROBOT_EMAIL = "mail-robot@palier.invalid"
MAX_RAW_BYTES = 50 * 1024 * 1024
MAX_PARENT_CHAIN = 5  # how many unprocessed ancestors a reply may pull in before itself
_TAG = re.compile(r"\[(INC|REQ)-(\d{1,12})\]", re.IGNORECASE)
S = InboundMessage.State
PROCESSED_FIELDS = [
    "state", "error", "attempts", "sender", "subject", "full_text", "reply_text", "ticket", "comment", "processed_at",
]  # fmt: skip
DESK_ADDRESSES_TTL = 30.0  # seconds a process trusts its list of desk addresses (loop protection)
_desk_addresses: tuple[float, frozenset[str]] = (0.0, frozenset())


class Refused(Exception):
    """A message Palier will not turn into a ticket on its own: it goes to the quarantine."""


# --- store -----------------------------------------------------------------------------------------


def receive(raw: bytes, *, mailbox: Mailbox | None = None) -> InboundMessage:
    """Store the raw message and commit. The same Message-ID (or, without one, the same bytes)
    stored twice gives back the first row, so a re-delivery or a re-fetch changes nothing."""
    raw = bytes(raw[:MAX_RAW_BYTES])
    digest = sha256_hex(raw)
    message_id = raw_message_id(raw)
    key = message_id or f"sha256:{digest}"
    try:  # a duplicate is rare: insert first, the unique key refuses a second copy
        with transaction.atomic():
            return InboundMessage.objects.create(
                mailbox=mailbox, raw=raw, size=len(raw), sha256=digest, message_id=message_id, dedupe_key=key
            )
    except IntegrityError:  # delivered or fetched before (or concurrently)
        return InboundMessage.objects.defer("raw").get(dedupe_key=key)


def receive_and_process(raw: bytes, *, mailbox: Mailbox | None = None) -> InboundMessage:
    inbound = receive(raw, mailbox=mailbox)
    return process(inbound.pk)


# --- process ---------------------------------------------------------------------------------------


def process(inbound_id: int, *, _chain: frozenset[int] = frozenset()) -> InboundMessage:
    """Parse and apply one stored message; any error quarantines it (with the error text)."""
    try:
        with transaction.atomic():
            inbound = (
                InboundMessage.objects.select_related("mailbox").select_for_update(of=("self",)).get(pk=inbound_id)
            )
            if inbound.state in (S.PROCESSED, S.IGNORED):
                return inbound
            _parents_first(inbound, _chain | {inbound_id})
            inbound.attempts += 1
            _apply(inbound)
            inbound.processed_at = timezone.now()
            inbound.error = inbound.error if inbound.state == S.IGNORED else ""
            inbound.save(update_fields=PROCESSED_FIELDS)
            return inbound
    except Exception as exc:
        error = _describe(exc)
    inbound = InboundMessage.objects.get(pk=inbound_id)
    InboundMessage.objects.filter(pk=inbound_id).update(
        state=S.QUARANTINED, error=error[:5000], attempts=inbound.attempts + 1, processed_at=timezone.now()
    )
    inbound.refresh_from_db()
    return inbound


def _parents_first(inbound: InboundMessage, chain: frozenset[int]) -> None:
    """Process the stored, not yet processed messages this one answers before it, so a reply
    joins its parent's ticket even when several workers process a mailbox at once (a worker
    busy with the parent holds its row: this waits for it, then finds it processed)."""
    if inbound.state != S.RECEIVED or len(chain) > MAX_PARENT_CHAIN:
        return
    references = raw_references(bytes(inbound.raw))
    if not references:
        return
    parents = (
        InboundMessage.objects.filter(message_id__in=references, state=S.RECEIVED)
        .exclude(pk__in=chain)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for parent_id in list(parents):
        process(parent_id, _chain=chain)


def retry(inbound_id: int, *, by: User | None = None) -> InboundMessage:
    """Process a quarantined message again (after an admin fixed the cause)."""
    mail_permissions.require(by, "retry_messages")
    inbound = InboundMessage.objects.filter(pk=inbound_id).first()
    if inbound is None:
        raise NotFound(_("Message not found."))
    if inbound.state == S.QUARANTINED:
        InboundMessage.objects.filter(pk=inbound_id).update(state=S.RECEIVED)
    return process(inbound_id)


def _describe(exc: Exception) -> str:
    if isinstance(exc, Refused):
        return str(exc)
    messages = getattr(exc, "messages", None)
    detail = "; ".join(str(m) for m in messages) if messages else str(exc)
    return f"{type(exc).__name__}: {detail}"


def _robot() -> User:
    """The system account that signs internal notes and links made by the mail intake."""
    return people_services.system_account(email=ROBOT_EMAIL, full_name="Palier (email)")


def _apply(inbound: InboundMessage) -> None:
    parsed = parse_message(bytes(inbound.raw))
    inbound.sender = parsed.sender_email[:254]
    inbound.subject = parsed.subject[:1000]
    inbound.full_text = parsed.text
    reply, _quoted = split_reply(parsed.text)
    inbound.reply_text = reply
    if parsed.is_bounce:
        _record_bounce(inbound, parsed)
        return
    if parsed.is_automatic:
        inbound.state = S.IGNORED
        inbound.error = _("Automatic mail (%(reason)s): no ticket, no answer.") % {"reason": parsed.automatic_reason}
        return
    if parsed.sender_email.lower() in _desk_address_set():
        inbound.state = S.IGNORED  # one desk writing to another (or to itself) would loop
        inbound.error = _("Mail from a desk address: no ticket, no answer.")
        return
    mailbox = inbound.mailbox
    if (
        mailbox is not None
        and mailbox.require_address_in_to
        and mailbox.address.lower() not in {a.email for a in parsed.to}
    ):
        inbound.state = S.IGNORED
        inbound.error = _("The desk address is not in To (only in Cc); not accepted by this mailbox.")
        return
    sender = _sender(parsed, mailbox)
    body = reply.strip() or parsed.text.strip() or _("(no text)")
    ticket = _thread(parsed)
    uploads = [_upload(a.filename, a.content) for a in parsed.attachments]
    if ticket is not None and _may_add(sender, ticket):
        try:
            if sender.pk != ticket.requester_id and not permissions.can(sender, "comment", ticket):
                ticket_services.add_watcher(ticket, user=sender, by=_robot())
                ticket.refresh_from_db()
            comment = ticket_services.comment_on_ticket(
                ticket, by=sender, body=body, channel=Ticket.Channel.EMAIL, uploads=uploads
            )
            inbound.ticket, inbound.comment = ticket, comment
        except DomainError:  # closed ticket, or no longer allowed: a new ticket, linked
            inbound.ticket = _open(parsed, sender, body, uploads, mailbox, related=ticket)
    else:
        inbound.ticket = _open(parsed, sender, body, uploads, mailbox, related=ticket)
    _add_cc_watchers(parsed, inbound.ticket, mailbox)
    if parsed.message_id and inbound.ticket is not None:
        MessageRecord.objects.bulk_create(
            [MessageRecord(message_id=parsed.message_id, ticket=inbound.ticket)], ignore_conflicts=True
        )
    inbound.state = S.PROCESSED


def _desk_address_set() -> frozenset[str]:
    """Every mailbox address, lower-cased; re-read at most every ``DESK_ADDRESSES_TTL`` seconds."""
    global _desk_addresses
    loaded_at, addresses = _desk_addresses
    now = time.monotonic()
    if now - loaded_at > DESK_ADDRESSES_TTL or not loaded_at:
        addresses = frozenset(a.lower() for a in Mailbox.objects.values_list("address", flat=True))
        _desk_addresses = (now, addresses)
    return addresses


def clear_desk_addresses() -> None:
    global _desk_addresses
    _desk_addresses = (0.0, frozenset())


def _upload(name: str, content: bytes) -> io.BytesIO:
    """An attachment to store; an infected one is quarantined (recorded, not stored), the mail kept."""
    return files.QuarantineUpload(content, name)


def _sender(parsed: ParsedMessage, mailbox: Mailbox | None) -> User:
    email = parsed.sender_email
    if not email or "@" not in email:
        raise Refused(_("The message has no usable sender address."))
    domain = email.rsplit("@", 1)[1]
    if mailbox is not None and mailbox.domains and domain not in mailbox.domains:
        raise Refused(_("Sender domain %(domain)s is not allowed for this mailbox.") % {"domain": domain})
    user = User.objects.select_related("organisation").filter(email__iexact=email).first()
    if user is None:
        if mailbox is not None and not mailbox.create_unknown_senders:
            raise Refused(_("Unknown sender %(email)s; this mailbox does not create requesters.") % {"email": email})
        user = _new_requester(email, parsed.from_.name if parsed.from_ else "")
    if not user.is_active:
        raise Refused(_("The sender's account %(email)s is deactivated.") % {"email": email})
    if user.email == ROBOT_EMAIL:
        raise Refused(_("Mail from Palier's own address is never processed."))
    return user


def _new_requester(email: str, name: str) -> User:
    """Create the sender's account; when a concurrent message from the same new sender created it
    first (two mailgate pipes at once), use that one."""
    try:
        with transaction.atomic():
            return people_services.create_user(email=email, full_name=name[:150], by=None)  # Palier itself
    except (IntegrityError, Conflict):
        user = User.objects.select_related("organisation").filter(email__iexact=email).first()
        if user is None:
            raise
        return user


def _thread(parsed: ParsedMessage) -> Ticket | None:
    """In-Reply-To and References against every known Message-ID, then the [INC-1042] subject tag."""
    ids = parsed.references_all
    if ids:
        records = {r.message_id: r for r in MessageRecord.objects.filter(message_id__in=ids).select_related("ticket")}
        for mid in ids:
            if mid in records:
                return records[mid].ticket
    match = _TAG.search(parsed.subject)
    if match:
        kinds = {prefix: kind for kind, prefix in Ticket.PREFIXES.items()}
        return Ticket.objects.filter(kind=kinds[match.group(1).upper()], number=int(match.group(2))).first()
    return None


def _may_add(sender: User, ticket: Ticket) -> bool:
    """Requester, watcher, an agent who may reply, or (setting) the requester's organisation domain."""
    if sender.pk == ticket.requester_id or ticket.watchers.filter(pk=sender.pk).exists():
        return True
    if sender.is_agent:
        return permissions.can(sender, "comment", ticket)
    if settings.PALIER_MAIL_TRUST_ORGANISATION_DOMAIN:
        org = ticket.requester.organisation
        domain = (org.email_domain if org else "").strip().lower().lstrip("@")
        return bool(domain) and sender.email.lower().endswith("@" + domain)
    return False


def _open(
    parsed: ParsedMessage,
    sender: User,
    body: str,
    uploads: list[io.BytesIO],
    mailbox: Mailbox | None,
    *,
    related: Ticket | None,
) -> Ticket:
    fields: dict[str, object] = {}
    if mailbox is not None:
        fields.update(group=mailbox.target_group, category=mailbox.target_category, kind=mailbox.target_kind)
    ticket = ticket_services.open_ticket_with_files(
        requester=sender,
        by=None,
        channel=Ticket.Channel.EMAIL,
        subject=parsed.subject.strip()[:200] or _("(no subject)"),
        description=body,
        uploads=uploads,
        **fields,
    )
    if related is not None:
        ticket_services.link_tickets(ticket, target=related, kind=TicketLink.Kind.RELATED, by=_robot())
    return ticket


def _add_cc_watchers(parsed: ParsedMessage, ticket: Ticket | None, mailbox: Mailbox | None) -> None:
    if ticket is None or (mailbox is not None and not mailbox.cc_become_watchers):
        return
    addresses = {a.email for a in parsed.cc} - {parsed.sender_email, mailbox.address.lower() if mailbox else ""}
    if not addresses:
        return
    robot = None
    for user in User.objects.filter(email__in=addresses, is_active=True).exclude(pk=ticket.requester_id):
        robot = robot or _robot()
        ticket_services.add_watcher(ticket, user=user, by=robot)


def _record_bounce(inbound: InboundMessage, parsed: ParsedMessage) -> None:
    """A bounce never opens a ticket; when it returns one of Palier's own messages, an internal
    note on that ticket says so (signed by the mail robot)."""
    inbound.state = S.IGNORED
    inbound.error = _("Bounce (%(reason)s): no ticket, no answer.") % {"reason": parsed.automatic_reason}
    ids = [i for i in [parsed.bounced_message_id, *parsed.references_all] if i]
    record = MessageRecord.objects.filter(message_id__in=ids).select_related("ticket").first() if ids else None
    if record is None:
        return
    inbound.ticket = record.ticket
    body = _("A message sent for this ticket could not be delivered (%(subject)s).") % {
        "subject": parsed.subject or parsed.automatic_reason
    }
    inbound.comment = ticket_services.comment_on_ticket(
        record.ticket, by=_robot(), body=body, internal=True, channel=Ticket.Channel.EMAIL
    )


def record_outgoing(message_id: str, ticket: Ticket) -> None:
    """For email out: remember a Message-ID Palier sent so replies and bounces thread to ``ticket``."""
    MessageRecord.objects.get_or_create(
        message_id=message_id.strip("<>"), defaults={"ticket": ticket, "direction": MessageRecord.Direction.OUT}
    )
