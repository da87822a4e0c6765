"""IMAP polling with ``imap-tools``: store each unseen message raw (committed) before marking it
seen, so a crash between the two re-fetches it and the Message-ID dedupe keeps it single.

Health: every poll updates the mailbox's ``last_attempt_at``; a success sets ``last_success_at``
and clears the failure count; a failure (authentication, TLS, network, quota) increments
``consecutive_failures`` and keeps ``last_error``, shown on the admin page and logged as an error
from the ``ALERT_AFTER``-th failure in a row. Fetching never stops: the next poll tries again.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted, MailMessageFlags

from palier.mail import services
from palier.mail.models import InboundMessage, Mailbox

logger = logging.getLogger("palier.mail")
ALERT_AFTER = 3
FETCH_LIMIT = 200  # messages per poll; the rest come on the next poll
TIMEOUT_SECONDS = 30


@dataclass
class FetchResult:
    fetched: int = 0
    error: str = ""


def _connect(mailbox: Mailbox) -> BaseMailBox:
    if mailbox.imap_tls:
        return MailBox(
            mailbox.imap_host, port=mailbox.imap_port, timeout=TIMEOUT_SECONDS, ssl_context=ssl.create_default_context()
        )
    return MailBoxUnencrypted(mailbox.imap_host, port=mailbox.imap_port, timeout=TIMEOUT_SECONDS)


def _login(client: BaseMailBox, mailbox: Mailbox) -> None:
    user = mailbox.imap_user or mailbox.address
    if mailbox.oauth_provider:
        # XOAUTH2 (Microsoft 365 via msal client credentials, Google service account): next step
        raise NotImplementedError("OAuth2 (XOAUTH2) mailboxes are not supported yet")
    client.login(user, mailbox.get_password(), initial_folder=mailbox.folder or "INBOX")


def _fetch(mailbox: Mailbox, limit: int) -> int:
    fetched = 0
    with _connect(mailbox) as client:
        _login(client, mailbox)
        uids = list(client.uids(AND(seen=False)))[:limit]
        for uid in uids:
            status, data = client.client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data or [] if isinstance(item, tuple)), None)
            if status != "OK" or raw is None:
                continue  # expunged meanwhile
            inbound = services.receive(bytes(raw), mailbox=mailbox)  # committed before the flag
            client.flag(uid, MailMessageFlags.SEEN, True)
            fetched += 1
            services.process(inbound.pk)
    return fetched


def fetch_mailbox(mailbox: Mailbox, *, limit: int = FETCH_LIMIT) -> FetchResult:
    """Fetch the unseen messages of one mailbox; never raises (the error goes to its health)."""
    Mailbox.objects.filter(pk=mailbox.pk).update(last_attempt_at=timezone.now())
    try:
        fetched = _fetch(mailbox, limit)
    except Exception as exc:  # authentication, TLS, network, quota...: recorded, retried next poll
        error = f"{type(exc).__name__}: {exc}"[:2000]
        Mailbox.objects.filter(pk=mailbox.pk).update(
            consecutive_failures=F("consecutive_failures") + 1, last_error=error
        )
        mailbox.refresh_from_db()
        level = logging.ERROR if mailbox.consecutive_failures >= ALERT_AFTER else logging.WARNING
        logger.log(
            level, "mailbox %s failed %s time(s) in a row: %s", mailbox.name, mailbox.consecutive_failures, error
        )
        return FetchResult(error=error)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_success_at=timezone.now(), consecutive_failures=0, last_error="")
    mailbox.refresh_from_db()
    return FetchResult(fetched=fetched)


def poll_due_mailboxes() -> int:
    """Fetch every active IMAP mailbox whose polling interval elapsed; returns messages fetched."""
    now = timezone.now()
    total = 0
    for mailbox in Mailbox.objects.filter(is_active=True).exclude(imap_host=""):
        due = mailbox.last_attempt_at is None or (now - mailbox.last_attempt_at).total_seconds() >= (
            mailbox.poll_interval_seconds
        )
        if due:
            total += fetch_mailbox(mailbox).fetched
    return total


def process_pending(older_than_seconds: int = 60) -> int:
    """Process messages stored but never processed (the worker died in between)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        InboundMessage.objects.filter(state=InboundMessage.State.RECEIVED, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for pk in ids:
        services.process(pk)
    return len(ids)
