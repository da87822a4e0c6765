"""IMAP polling with ``imap-tools``, by UID: the mailbox remembers its folder's UIDVALIDITY and
the highest UID it stored (``Mailbox.imap_last_uid``), and each poll fetches the UIDs above it,
read or not (a person opening the shared mailbox first takes nothing away). Each message is stored
raw (committed) before the position moves past it and before it is flagged seen, so a crash in
between re-fetches it and the Message-ID dedupe keeps it single; a message stored but not yet
processed when the worker died is processed on the next poll (or by ``process_pending``), and
``services.process`` is idempotent (row lock, state check).

Where to start when the position says nothing (``_pending``): a mailbox polled for the first time
(or pointed at another folder) starts at its oldest unread message, as a mail client would; a
folder whose UIDVALIDITY changed (deleted and created again, restored) is read again from a day
before the last successful poll, the dedupe dropping what was stored already.

Login: a password (stored encrypted or read from a ``PALIER_SECRET_…`` environment variable,
``secrets.py``), or OAuth2 (XOAUTH2)
with a token from ``oauth.py`` (Microsoft 365, Google Workspace).

Health (``health.py``): every poll updates ``last_attempt_at``; a success sets ``last_success_at``
and clears the failure streak; a failure (authentication, token, TLS, network, quota) counts in
``consecutive_failures`` with ``last_error`` and alerts the admins from the third failure in a row.
Fetching never stops: a failing mailbox is polled again, less often (``Mailbox.next_poll_at``).
"""

from __future__ import annotations

import imaplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from imap_tools import AND, BaseMailBox, MailBox, MailBoxUnencrypted, MailMessageFlags

from palier.mail import health, oauth, secrets, services
from palier.mail.models import InboundMessage, Mailbox

ALERT_AFTER = health.ALERT_AFTER
FETCH_LIMIT = 200  # messages per poll; the rest come on the next poll
BATCH = 25  # messages fetched (and flagged) per IMAP round trip
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


@dataclass(frozen=True)
class _Credentials:
    user: str
    secret: str
    oauth: bool


def _credentials(mailbox: Mailbox) -> _Credentials:
    """The sign-in, before any connection: an OAuth2 token problem never reaches the server."""
    user = mailbox.imap_user or mailbox.address
    if mailbox.oauth_provider:
        return _Credentials(user, oauth.access_token(mailbox, user), oauth=True)
    return _Credentials(user, mailbox.get_password(), oauth=False)


def _open(mailbox: Mailbox) -> BaseMailBox:
    credentials = _credentials(mailbox)
    client = _connect(mailbox)
    folder = mailbox.folder or "INBOX"
    try:
        if credentials.oauth:
            client.xoauth2(credentials.user, credentials.secret, initial_folder=folder)
        else:
            client.login(credentials.user, credentials.secret, initial_folder=folder)
    except BaseException:
        if credentials.oauth:
            oauth.forget(mailbox, credentials.user)  # the next attempt asks for a new token
        client.client.shutdown()
        raise
    return client


def _fetch(mailbox: Mailbox, limit: int, *, fan_out: bool = False) -> int:
    """Batches of ``BATCH`` messages: fetch them, store each (committed), move the position past
    them and flag the batch seen, then process each (``fan_out``: queue the batch for the worker
    pool, which processes batches in parallel; replies still wait for their parents). A crash
    anywhere loses nothing and doubles nothing (see the module doc)."""
    fetched = 0
    with _open(mailbox) as client:
        folder = mailbox.folder or "INBOX"
        position = _pending(client, mailbox, folder)
        uids = [str(uid) for uid in position.uids[:limit]]
        if not uids:
            _advance(mailbox, folder, position.validity, position.start)
        for start in range(0, len(uids), BATCH):
            stored = [
                services.receive(raw, mailbox=mailbox).pk  # committed before the position and the flag
                for raw in _bodies(client, uids[start : start + BATCH])
            ]
            _advance(mailbox, folder, position.validity, int(uids[start : start + BATCH][-1]))
            client.flag(uids[start : start + BATCH], MailMessageFlags.SEEN, True)
            fetched += len(stored)
            if fan_out and _queue(stored):
                continue
            for pk in stored:
                services.process(pk)  # a no-op when an earlier run processed it
    return fetched


@dataclass(frozen=True)
class _Position:
    validity: int
    start: int  # the highest UID known handled (when ``uids`` is empty, where the position goes)
    uids: list[int]  # to fetch, ascending


def _pending(client: BaseMailBox, mailbox: Mailbox, folder: str) -> _Position:
    """The UIDs to fetch: above the stored position, or where to start (see the module doc)."""
    status = client.folder.status(folder, ["UIDVALIDITY", "UIDNEXT"])
    validity, uid_next = status["UIDVALIDITY"], status.get("UIDNEXT", 1)
    known = mailbox.imap_uid_folder == folder and mailbox.imap_uidvalidity is not None
    if known and mailbox.imap_uidvalidity == validity:
        last = mailbox.imap_last_uid
        return _Position(validity, last, [uid for uid in _search(client, f"UID {last + 1}:*") if uid > last])
    if known and mailbox.last_success_at is not None:  # the folder was created again
        since = (mailbox.last_success_at - timedelta(days=1)).date()
        return _Position(validity, uid_next - 1, _search(client, AND(date_gte=since)))
    return _Position(validity, uid_next - 1, _search(client, AND(seen=False)))


def _search(client: BaseMailBox, criteria: str | AND) -> list[int]:
    return sorted(int(uid) for uid in client.uids(criteria))


def _advance(mailbox: Mailbox, folder: str, validity: int, uid: int) -> None:
    """Move the stored position to ``uid`` (never back within the same folder and UIDVALIDITY)."""
    same = Q(imap_uid_folder=folder, imap_uidvalidity=validity)
    Mailbox.objects.filter(pk=mailbox.pk).exclude(same & Q(imap_last_uid__gte=uid)).update(
        imap_uid_folder=folder, imap_uidvalidity=validity, imap_last_uid=uid
    )


def _queue(inbound_ids: list[int]) -> bool:
    """Queue one batch of stored messages for a worker; False when the queue is unreachable."""
    from palier.mail.tasks import process_messages_task

    try:
        process_messages_task.enqueue(inbound_ids)
    except Exception:  # the queue is down: process here rather than wait for the safety net
        return False
    return True


def _bodies(client: BaseMailBox, uids: list[str]) -> list[bytes]:
    """The raw messages of ``uids`` in one round trip (an expunged one is simply absent)."""
    status, data = client.client.uid("FETCH", ",".join(uids), "(UID BODY.PEEK[])")
    if status != "OK":
        raise imaplib.IMAP4.error(f"FETCH failed: {data!r}"[:500])
    return [bytes(item[1]) for item in data or [] if isinstance(item, tuple) and len(item) == 2]


def _describe(exc: Exception) -> str:
    if isinstance(exc, oauth.OAuthError):
        return f"OAuth2: {exc}"
    if isinstance(exc, secrets.SecretError):
        return str(exc)
    if type(exc) is imaplib.IMAP4.error:  # its class is called "error": say which protocol
        return f"IMAP: {exc}"
    return f"{type(exc).__name__}: {exc}"


def fetch_mailbox(mailbox: Mailbox, *, limit: int = FETCH_LIMIT, fan_out: bool = False) -> FetchResult:
    """Fetch the unseen messages of one mailbox; never raises (the error goes to its health).
    ``fan_out``: the worker pool processes what was fetched (the periodic poll); otherwise this
    call processes it (``palier mailfetch``)."""
    health.record_attempt(mailbox_id=mailbox.pk)
    try:
        if not fan_out:  # queued messages are the workers'; process_pending catches lost ones
            _process_leftovers(mailbox)
        fetched = _fetch(mailbox, limit, fan_out=fan_out)
    except Exception as exc:  # authentication, token, TLS, network, quota...: recorded, retried later
        error = _describe(exc)[:2000]
        health.record_failure(mailbox_id=mailbox.pk, error=error)
        mailbox.refresh_from_db()
        return FetchResult(error=error)
    health.record_success(mailbox_id=mailbox.pk)
    mailbox.refresh_from_db()
    return FetchResult(fetched=fetched)


def _process_leftovers(mailbox: Mailbox, limit: int = 500) -> None:
    """Messages of this mailbox stored and flagged by a run that died before processing them."""
    pending = InboundMessage.objects.filter(mailbox=mailbox, state=InboundMessage.State.RECEIVED)
    ids = pending.order_by("pk").values_list("pk", flat=True)[:limit]  # in arrival order: parents first
    for pk in list(ids):
        services.process(pk)


def check_connection(mailbox: Mailbox) -> str:
    """Log in and open the folder, nothing else; '' when it works, else the error (health untouched)."""
    try:
        with _open(mailbox):
            pass
    except Exception as exc:
        return _describe(exc)[:2000]
    return ""


def poll_due_mailboxes() -> int:
    """Fetch every active IMAP mailbox that is due (interval, longer after failures); returns messages fetched."""
    now = timezone.now()
    total = 0
    for mailbox in Mailbox.objects.filter(is_active=True).exclude(imap_host=""):
        next_poll = mailbox.next_poll_at
        if next_poll is None or next_poll <= now:
            total += fetch_mailbox(mailbox, fan_out=True).fetched
    return total


def process_pending(older_than_seconds: int = 60, *, now: datetime | None = None) -> int:
    """Process messages stored but never processed (the worker died in between), and those whose
    retry after a passing database error is due."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=older_than_seconds)
    ids = list(
        InboundMessage.objects.filter(state=InboundMessage.State.RECEIVED)
        .filter(Q(next_attempt_at__isnull=True, created_at__lt=cutoff) | Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        services.process(pk)
    return len(ids)
