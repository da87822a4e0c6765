"""Inbound email: store the raw bytes first (``receive``), then turn them into a ticket or a comment
(``process``). A message that cannot be processed is quarantined with its error and can be retried;
it is never dropped. A passing error of the database or the virus scanner (lock timeout, connection
reset, "database is locked", clamd away) is not the message's fault: the message waits for an
automatic retry, with a growing delay (``next_attempt_at``, ``imap.process_pending``). A refused
attachment (blocked type, too large, empty) is dropped with an internal note; the mail is kept. Automatic mail (bounces, auto-replies, reports) never opens a ticket.

Who a message speaks for: Palier's own addresses (``.invalid``) are refused before any account is
looked up. The mailbox's trusted mail server says whether the From address is authenticated
(``parsing/authresults.py``). An unverified sender (an explicit failure; no pass on a mailbox that
requires one; always for agents and admins, who need a pass to act by mail) does not act on the
ticket it answers: the message opens a new ticket tagged ``sender-not-verified``, linked to the
claimed one, or waits in quarantine (mailbox setting). Cc addresses become watchers only when the
sender is verified and the mailbox allows it.

A vendor's reply to a ticket escalated to it becomes the vendor's note on that ticket when it
proves itself (``vendors.py``: a Message-ID sent to that vendor, or the ticket tag and a verified
sender), before any account is looked up; one that only claims it is an unverified reply.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.lib import files
from palier.lib.errors import Conflict, DomainError, NotFound, Unavailable
from palier.mail import permissions as mail_permissions
from palier.mail import vendors
from palier.mail.models import InboundMessage, Mailbox, MessageRecord
from palier.mail.parsing import (
    ParsedMessage,
    Verdict,
    content_sha256,
    parse_message,
    raw_message_id,
    raw_references,
    sha256_hex,
    verdict,
)
from palier.mail.replies import split_reply
from palier.people import services as people_services
from palier.people.models import User
from palier.tickets import permissions
from palier.tickets import selectors as ticket_selectors
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket, TicketLink

ROBOT_EMAIL = "mail-robot@palier.invalid"
MAX_RAW_BYTES = 50 * 1024 * 1024
MAX_PARENT_CHAIN = 5  # how many unprocessed ancestors a reply may pull in before itself
_TAG = re.compile(r"\[(INC|REQ)-(\d{1,12})\]", re.IGNORECASE)
S = InboundMessage.State
S_AUTH = InboundMessage.SenderAuth
UNVERIFIED_TAG = "sender-not-verified"
RATE_WINDOW = timedelta(hours=1)
PROCESSED_FIELDS = [
    "state", "error", "attempts", "sender", "subject", "full_text", "reply_text", "ticket", "comment", "processed_at",
    "sender_auth", "sender_auth_detail", "sender_domain", "opened_ticket", "acknowledge", "next_attempt_at",
]  # fmt: skip
TRANSIENT = (OperationalError, InterfaceError, Unavailable)  # retried later; anything else: quarantine
RETRY_FIRST_SECONDS = 60
RETRY_MAX_SECONDS = 3600
DESK_ADDRESSES_TTL = 30.0  # seconds a process trusts its list of desk addresses (loop protection)
_desk_addresses: tuple[float, frozenset[str]] = (0.0, frozenset())


class Refused(Exception):
    """A message Palier will not turn into a ticket on its own: it goes to the quarantine."""


# --- store -----------------------------------------------------------------------------------------


def receive(raw: bytes, *, mailbox: Mailbox | None = None) -> InboundMessage:
    """Store the raw message and commit. The same message stored twice (same Message-ID and same
    content: ``parsing.content_sha256``; without a Message-ID, the same bytes) gives back the first
    row, so a re-delivery or a re-fetch changes nothing. Another message reusing a Message-ID is
    stored as well, under ``<Message-ID>#<its digest>``."""
    raw = bytes(raw[:MAX_RAW_BYTES])
    digest = sha256_hex(raw)
    message_id = raw_message_id(raw)
    content = content_sha256(raw) if message_id else ""
    keys = [message_id, f"{message_id}#{content[:16]}"] if message_id else [f"sha256:{digest}"]
    existing = None
    for key in keys:
        try:  # a duplicate is rare: insert first, the unique key refuses a second copy
            with _durable(), transaction.atomic():
                return InboundMessage.objects.create(
                    mailbox=mailbox, raw=raw, size=len(raw), sha256=digest, message_id=message_id, dedupe_key=key,
                    content_sha256=content,
                )  # fmt: skip
        except IntegrityError:  # delivered or fetched before (or concurrently)
            existing = InboundMessage.objects.defer("raw").get(dedupe_key=key)
            if _same_message(existing, digest=digest, content=content):
                return existing
    assert existing is not None
    return existing  # a third message under one Message-ID whose digest prefix matches: not told apart


@contextmanager
def _durable() -> Iterator[None]:
    """SQLite: the commit inside is synced to disk (synchronous=FULL) before it returns, so a
    message whose sender was told "stored" (``palier mailgate`` exit 0) survives a power cut; the
    desk's other commits keep synchronous=NORMAL (WAL: safe from corruption, may lose the last
    commits). PostgreSQL commits durably already. Inside a caller's transaction the caller's
    commit is the one that counts (and SQLite refuses the change there): nothing changes."""
    connection = transaction.get_connection()
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous = FULL")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous = NORMAL")


def _same_message(stored: InboundMessage, *, digest: str, content: str) -> bool:
    if stored.sha256 == digest or not content:
        return True
    if stored.content_sha256:
        return stored.content_sha256 == content
    raw = InboundMessage.objects.filter(pk=stored.pk).values_list("raw", flat=True).first()
    return raw is not None and bool(raw) and content_sha256(bytes(raw)) == content  # stored before the digest


def receive_and_process(raw: bytes, *, mailbox: Mailbox | None = None) -> InboundMessage:
    inbound = receive(raw, mailbox=mailbox)
    return process(inbound.pk)


# --- process ---------------------------------------------------------------------------------------


def process(inbound_id: int, *, released: bool = False, _chain: frozenset[int] = frozenset()) -> InboundMessage:
    """Parse and apply one stored message; an error quarantines it (with the error text), except a
    passing one (``TRANSIENT``), after which the message waits for its next attempt.
    ``released`` (an admin's Retry): opens a ticket even over the mail rate limits, and an
    unverified reply opens its marked ticket instead of going back to the quarantine."""
    try:
        with transaction.atomic():
            inbound = (
                InboundMessage.objects.select_related("mailbox").select_for_update(of=("self",)).get(pk=inbound_id)
            )
            if inbound.state in (S.PROCESSED, S.IGNORED):
                return inbound
            _parents_first(inbound, _chain | {inbound_id})
            inbound.attempts += 1
            _apply(inbound, released=released)
            inbound.processed_at = timezone.now()
            inbound.error = inbound.error if inbound.state == S.IGNORED else ""
            inbound.next_attempt_at = None
            inbound.save(update_fields=PROCESSED_FIELDS)
            return inbound
    except TRANSIENT as exc:
        if _chain:  # a parent processed first: the message that pulled it in waits as a whole
            raise
        return _defer(inbound_id, exc)
    except Exception as exc:
        error = _describe(exc)
    inbound = InboundMessage.objects.get(pk=inbound_id)
    InboundMessage.objects.filter(pk=inbound_id).update(
        state=S.QUARANTINED, error=error[:5000], attempts=inbound.attempts + 1, processed_at=timezone.now(),
        next_attempt_at=None,
    )  # fmt: skip
    inbound.refresh_from_db()
    return inbound


def _defer(inbound_id: int, exc: Exception) -> InboundMessage:
    """Note a passing error and when to try again (1 min, doubling, at most 1 h). If even that write
    fails the message simply stays received: ``imap.process_pending`` finds it all the same."""
    connection = transaction.get_connection()
    for attempt in range(2):
        try:
            inbound = InboundMessage.objects.defer("raw").get(pk=inbound_id)
            attempts, now = inbound.attempts + 1, timezone.now()
            delay = min(RETRY_FIRST_SECONDS * 2 ** min(attempts - 1, 16), RETRY_MAX_SECONDS)
            InboundMessage.objects.filter(pk=inbound_id, state=S.RECEIVED).update(
                error=_describe(exc)[:5000], attempts=attempts, processed_at=now,
                next_attempt_at=now + timedelta(seconds=delay),
            )  # fmt: skip
            inbound.refresh_from_db()
            return inbound
        except TRANSIENT:
            if attempt or connection.in_atomic_block:
                raise
            connection.close()  # a dropped connection: the next query opens a new one
    raise AssertionError("unreachable")


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
    return process(inbound_id, released=True)


def _describe(exc: Exception) -> str:
    if isinstance(exc, Refused):
        return str(exc)
    messages = getattr(exc, "messages", None)
    detail = "; ".join(str(m) for m in messages) if messages else str(exc)
    return f"{type(exc).__name__}: {detail}"


def _robot() -> User:
    """The system account that signs internal notes and links made by the mail intake."""
    return people_services.system_account(email=ROBOT_EMAIL, full_name="Palier (email)")


def _apply(inbound: InboundMessage, *, released: bool = False) -> None:
    parsed = parse_message(bytes(inbound.raw))
    inbound.sender = parsed.sender_email[:254]
    inbound.sender_domain = parsed.sender_email.rpartition("@")[2][:253]
    inbound.subject = parsed.subject[:1000]
    inbound.full_text = parsed.text
    reply, _quoted = split_reply(parsed.text)
    inbound.reply_text = reply
    if parsed.is_bounce:
        _record_bounce(inbound, parsed)
        return
    mailbox = inbound.mailbox
    ignored = _ignored(parsed, mailbox)
    automatic = _vendor_may_send_automatic(parsed) if ignored else False
    if ignored and not automatic:
        inbound.state, inbound.error = S.IGNORED, ignored
        return
    _refuse_reserved(parsed)  # before any account is looked up or created
    auth = _authenticate(parsed, mailbox)
    inbound.sender_auth, inbound.sender_auth_detail = auth.status, auth.detail[:500]
    body = reply.strip() or parsed.text.strip() or _("(no text)")
    ticket = _thread(parsed)
    claim = vendors.match(parsed, ticket, auth, mailbox) if ticket is not None else None
    if _vendor_or_ignored(inbound, parsed, ticket, claim, body, ignored=ignored):
        return
    sender = _sender(parsed, mailbox)
    uploads, dropped = _uploads(parsed)
    unverified = not auth.verified and (
        auth.status == S_AUTH.FAIL or sender.is_agent or bool(mailbox and mailbox.require_sender_authentication)
    )
    opening = _Opening(inbound, parsed, sender, body, uploads, enforce_limits=not released)
    if ticket is not None and claim is not None:  # claims to be the vendor's reply, not proven
        reason = _("Not accepted as the reply of the vendor %(vendor)s to %(ticket)s: %(why)s.") % {
            "vendor": claim.name, "ticket": ticket.reference, "why": claim.why,
        }  # fmt: skip
        opening.open_unverified(ticket, Verdict(auth.status, claim.why), reason=reason, released=released)
    elif ticket is not None and _may_add(sender, ticket) and unverified:
        reason = _("Sender %(email)s not verified (%(detail)s): not added to %(ticket)s.") % {
            "email": sender.email, "detail": auth.detail, "ticket": ticket.reference,
        }  # fmt: skip
        opening.open_unverified(ticket, auth, reason=reason, released=released)
    elif ticket is not None and _may_add(sender, ticket):
        try:
            if sender.pk != ticket.requester_id and not permissions.can(sender, "comment", ticket):
                ticket_services.add_watcher(ticket, user=sender, by=_robot())
                ticket.refresh_from_db()
            comment = ticket_services.comment_on_ticket(
                ticket, by=sender, body=body, channel=Ticket.Channel.EMAIL, uploads=uploads
            )
            inbound.ticket, inbound.comment = ticket, comment
        except DomainError:  # closed ticket, or no longer allowed: a new ticket, linked
            opening.open(related=ticket)
    else:
        opening.open(related=ticket, unverified=auth if unverified else None)
    if inbound.opened_ticket:
        inbound.acknowledge = _may_acknowledge(sender, auth, mailbox)
    if dropped and inbound.ticket is not None:
        _note_dropped(inbound.ticket, dropped)
    if auth.verified:
        _add_cc_watchers(parsed, inbound.ticket, mailbox)
    _finish(inbound, parsed)


def _finish(inbound: InboundMessage, parsed: ParsedMessage) -> None:
    if parsed.message_id and inbound.ticket is not None:
        MessageRecord.objects.bulk_create(
            [MessageRecord(message_id=parsed.message_id, ticket=inbound.ticket)], ignore_conflicts=True
        )
    inbound.state = S.PROCESSED


def _vendor_may_send_automatic(parsed: ParsedMessage) -> bool:
    """Is the message automatic mail a vendor's reply may be (an auto-reply, ``Auto-Submitted``)?
    A vendor's desk sends its case number that way. Reports and receipts stay ignored (and mail
    from a desk address: ``_vendor_or_ignored``)."""
    if not parsed.is_automatic or parsed.is_report or parsed.is_bounce:
        return False
    return not people_services.is_reserved_email(parsed.sender_email)


def _vendor_or_ignored(
    inbound: InboundMessage,
    parsed: ParsedMessage,
    ticket: Ticket | None,
    claim: vendors.VendorReply | None,
    body: str,
    *,
    ignored: str,
) -> bool:
    """Done with the message? A vendor's proven reply is added to its ticket; an automatic message
    (``ignored`` says why) is only ever taken as such a reply, otherwise it is ignored."""
    proven = ticket is not None and claim is not None and claim.proven
    if proven and not (ignored and _ignored(parsed, inbound.mailbox, automatic=False)):
        assert ticket is not None and claim is not None
        _add_vendor_reply(inbound, parsed, ticket, claim, body)
        return True
    if ignored:
        inbound.state, inbound.error = S.IGNORED, ignored
        return True
    return False


def _add_vendor_reply(
    inbound: InboundMessage, parsed: ParsedMessage, ticket: Ticket, claim: vendors.VendorReply, body: str
) -> None:
    """The vendor's proven reply: a note (or public reply) by the mail robot on the ticket, with
    its attachments and the reference its pattern reads (``vendors.add_reply``). No account is
    made for the vendor's address, and the mailbox's sender rules (allowed domains, unknown
    senders) do not apply: the vendor group's settings decided."""
    robot = _robot()
    uploads, dropped = _uploads(parsed)
    inbound.comment = vendors.add_reply(ticket, claim, parsed=parsed, body=body, uploads=uploads, by=robot)
    inbound.ticket = ticket
    if dropped:
        _note_dropped(ticket, dropped)
    _finish(inbound, parsed)


def _ignored(parsed: ParsedMessage, mailbox: Mailbox | None, *, automatic: bool = True) -> str:
    """Why the message is ignored (no ticket, no answer), or "" (``automatic=False``: whatever
    its being automatic)."""
    if automatic and parsed.is_automatic:
        return _("Automatic mail (%(reason)s): no ticket, no answer.") % {"reason": parsed.automatic_reason}
    if parsed.sender_email.lower() in _desk_address_set():  # one desk writing to another (or itself) would loop
        return _("Mail from a desk address: no ticket, no answer.")
    if (
        mailbox is not None
        and mailbox.require_address_in_to
        and mailbox.address.lower() not in {a.email for a in parsed.to}
    ):
        return _("The desk address is not in To (only in Cc); not accepted by this mailbox.")
    return ""


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


def _uploads(parsed: ParsedMessage) -> tuple[list[io.BytesIO], list[str]]:
    """The attachments to store, and why each refused one (blocked type, too large, empty) is not:
    it is dropped, the mail kept. An infected one is stored as such (recorded, no bytes)."""
    uploads: list[io.BytesIO] = []
    dropped: list[str] = []
    for attachment in parsed.attachments:
        upload = files.QuarantineUpload(attachment.content, attachment.filename)
        reason = files.refusal(upload)
        if reason:
            dropped.append(reason)
        else:
            uploads.append(upload)
    return uploads, dropped


def _note_dropped(ticket: Ticket, reasons: list[str]) -> None:
    note = _("Attachments of this email not kept:") + "\n" + "\n".join(f"- {reason}" for reason in reasons)
    ticket_services.comment_on_ticket(ticket, by=_robot(), body=note, internal=True, channel=Ticket.Channel.EMAIL)


def _refuse_reserved(parsed: ParsedMessage) -> None:
    """Palier's own addresses (``automation@palier.invalid``, the mail robot, any ``.invalid``) are
    never senders: such a message is forged."""
    email = parsed.sender_email
    if people_services.is_reserved_email(email):
        raise Refused(_("Mail from Palier's own address %(email)s is never processed.") % {"email": email})


def _authenticate(parsed: ParsedMessage, mailbox: Mailbox | None) -> Verdict:
    """The trusted server's verdict on the From address (``unchecked`` without an authserv-id).
    A message with more than one From address is never verified: which one was checked?"""
    if mailbox is None or not mailbox.authserv_id.strip():
        return Verdict(S_AUTH.UNCHECKED, _("no trusted authserv-id set for this mailbox"))
    if parsed.from_count != 1 or "@" not in parsed.sender_email:
        return Verdict(S_AUTH.FAIL, _("not exactly one From address"))
    return verdict(
        parsed.authentication_results,
        authserv_id=mailbox.authserv_id,
        from_domain=parsed.sender_email.rsplit("@", 1)[1],
    )


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
        user = _new_requester(email)  # never the display name the sender chose: it would be echoed
    if not user.is_active:
        raise Refused(_("The sender's account %(email)s is deactivated.") % {"email": email})
    if user.is_system:
        raise Refused(_("Mail from Palier's own address is never processed."))
    return user


def _new_requester(email: str) -> User:
    """Create the sender's account, without a name: the display name of a mail is whatever the
    sender typed (``Your account is locked, call …``) and every email to the requester would
    repeat it. When a concurrent message from the same new sender created it first (two mailgate
    pipes at once), use that one."""
    try:
        with transaction.atomic():
            return people_services.create_user(email=email, by=None)  # Palier itself
    except (IntegrityError, Conflict):
        user = User.objects.select_related("organisation").filter(email__iexact=email).first()
        if user is None:
            raise
        return user


def _thread(parsed: ParsedMessage) -> Ticket | None:
    """In-Reply-To and References against every known Message-ID, then the [INC-1042] subject tag;
    a ticket merged into another answers with the one it was merged into."""
    return ticket_selectors.merge_survivor(_threaded(parsed))


def _threaded(parsed: ParsedMessage) -> Ticket | None:
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


class _Opening:
    """Opens the message's ticket (at most once) after the rate limits, and notes it on the row."""

    def __init__(
        self,
        inbound: InboundMessage,
        parsed: ParsedMessage,
        sender: User,
        body: str,
        uploads: list[io.BytesIO],
        *,
        enforce_limits: bool,
    ) -> None:
        self.inbound, self.parsed, self.sender, self.body, self.uploads = inbound, parsed, sender, body, uploads
        self.enforce_limits = enforce_limits

    def open(self, *, related: Ticket | None, unverified: Verdict | None = None) -> None:
        if self.enforce_limits:
            mailbox = self.inbound.mailbox
            _check_rate_limits(
                self.inbound.sender_domain, per_domain=not mailbox or self.inbound.sender_domain not in mailbox.domains
            )
        self.inbound.ticket = _open(
            self.parsed, self.sender, self.body, self.uploads, self.inbound.mailbox, related=related,
            unverified=unverified,
        )  # fmt: skip
        self.inbound.opened_ticket = True

    def open_unverified(self, claimed: Ticket, verdict: Verdict, *, reason: str, released: bool) -> None:
        """An unverified reply to ``claimed``: its own marked ticket, linked, or (mailbox setting,
        unless an admin released it) the quarantine with ``reason``."""
        mailbox = self.inbound.mailbox
        if not released and mailbox is not None and mailbox.unverified_reply == Mailbox.UnverifiedReply.QUARANTINE:
            raise Refused(reason)
        self.open(related=claimed, unverified=verdict)


def _check_rate_limits(domain: str, *, per_domain: bool = True) -> None:
    """Refuse (to the quarantine) a ticket over the hourly limits of tickets opened by mail, per
    sender domain (not for the mailbox's allowed domains: the organisation's own) and in all.
    Counted from the stored messages, so every worker sees the same numbers; concurrent workers
    may each let one more through."""
    since = timezone.now() - RATE_WINDOW
    opened = InboundMessage.objects.filter(opened_ticket=True, processed_at__gte=since)
    limit = settings.PALIER_MAIL_TICKETS_PER_DOMAIN_PER_HOUR
    if per_domain and limit and opened.filter(sender_domain=domain).count() >= limit:
        raise Refused(
            _("Rate limit: %(count)s tickets were opened by mail from %(domain)s in the last hour.")
            % {"count": limit, "domain": domain}
        )
    total = settings.PALIER_MAIL_TICKETS_PER_HOUR
    if total and opened.count() >= total:
        raise Refused(_("Rate limit: %(count)s tickets were opened by mail in the last hour.") % {"count": total})


def _may_acknowledge(sender: User, auth: Verdict, mailbox: Mailbox | None) -> bool:
    """Only a verified sender, or one from the mailbox's allowed domains, gets the acknowledgement
    (unless the mailbox acknowledges everybody): otherwise anybody could make the desk mail a
    text of their choosing to an address of their choosing."""
    if auth.verified:
        return True
    if mailbox is None:
        return False
    if not mailbox.acknowledge_trusted_only:
        return True
    return sender.email.rpartition("@")[2].lower() in mailbox.domains


def _open(
    parsed: ParsedMessage,
    sender: User,
    body: str,
    uploads: list[io.BytesIO],
    mailbox: Mailbox | None,
    *,
    related: Ticket | None,
    unverified: Verdict | None = None,
) -> Ticket:
    """A new ticket from the message; ``unverified``: the sender could not be verified, so the
    ticket is tagged ``sender-not-verified`` and an internal note says why and which ticket the
    message claimed to answer."""
    fields: dict[str, object] = {}
    if mailbox is not None:
        fields.update(group=mailbox.target_group, category=mailbox.target_category, kind=mailbox.target_kind)
    if unverified is not None:
        fields["tags"] = [UNVERIFIED_TAG]
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
    if unverified is not None:
        note = _("Sender not verified: this message claims to come from %(email)s, but %(detail)s.") % {
            "email": sender.email, "detail": unverified.detail,
        }  # fmt: skip
        if related is not None:
            note += " " + _("It answered %(ticket)s, which it was not added to.") % {"ticket": related.reference}
        ticket_services.comment_on_ticket(ticket, by=_robot(), body=note, internal=True, channel=Ticket.Channel.EMAIL)
    return ticket


def _add_cc_watchers(parsed: ParsedMessage, ticket: Ticket | None, mailbox: Mailbox | None) -> None:
    """Known people in Cc watch the ticket; only called for a verified sender."""
    if ticket is None or mailbox is None or not mailbox.cc_become_watchers:
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


def purge_raw_messages(*, now: datetime | None = None) -> int:
    """Blank the raw bytes of messages processed more than ``PALIER_MAIL_RAW_RETENTION_DAYS`` ago
    (the row, its sender, subject and text, and the ticket stay); quarantined and unprocessed
    messages keep theirs. Idempotent; returns how many were blanked."""
    days = settings.PALIER_MAIL_RAW_RETENTION_DAYS
    if not days:
        return 0
    now = now or timezone.now()
    return InboundMessage.objects.filter(
        state__in=(S.PROCESSED, S.IGNORED), processed_at__lt=now - timedelta(days=days), raw_purged_at__isnull=True
    ).update(raw=b"", raw_purged_at=now)


def record_outgoing(message_id: str, ticket: Ticket, *, address: str = "") -> None:
    """For email out: remember a Message-ID Palier sent (to ``address``) so replies and bounces
    thread to ``ticket``."""
    MessageRecord.objects.get_or_create(
        message_id=message_id.strip("<>"),
        defaults={"ticket": ticket, "direction": MessageRecord.Direction.OUT, "address": address.lower()[:254]},
    )
