"""Inbound email: mailboxes, every message stored raw before anything else, and the Message-ID map."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palier.mail import secrets

MAX_BACKOFF_SECONDS = 900  # a failing mailbox is still tried at least every 15 minutes


class Mailbox(models.Model):
    """A desk address Palier reads (IMAP polling) or receives through ``palier mailgate``."""

    class OAuthProvider(models.TextChoices):
        NONE = "", _("None (password)")
        MICROSOFT = "microsoft", _("Microsoft 365")
        GOOGLE = "google", _("Google Workspace")

    class UnverifiedReply(models.TextChoices):
        NEW_TICKET = "new_ticket", _("Open a new ticket marked “sender not verified”, linked to it")
        QUARANTINE = "quarantine", _("Put the message in quarantine")

    name = models.CharField(_("name"), max_length=100, unique=True)
    address = models.EmailField(_("desk address"), unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    imap_host = models.CharField(_("IMAP host"), max_length=200, blank=True)
    imap_port = models.PositiveIntegerField(_("IMAP port"), default=993)
    imap_tls = models.BooleanField(_("TLS"), default=True)
    imap_user = models.CharField(_("IMAP user"), max_length=200, blank=True)
    password_encrypted = models.TextField(blank=True, editable=False)
    password_env = models.CharField(
        _("password environment variable"), max_length=100, blank=True,
        help_text=_("Read the password from this environment variable (its name starts with PALIER_SECRET_)."),
    )  # fmt: skip
    folder = models.CharField(_("folder"), max_length=200, default="INBOX")
    poll_interval_seconds = models.PositiveIntegerField(_("polling interval (seconds)"), default=60)
    target_group = models.ForeignKey(
        "people.SupportGroup", verbose_name=_("target group"), null=True, blank=True, on_delete=models.SET_NULL
    )
    target_category = models.ForeignKey(
        "tickets.Category", verbose_name=_("target category"), null=True, blank=True, on_delete=models.SET_NULL
    )
    target_kind = models.CharField(_("ticket type"), max_length=16, default="incident")
    allowed_sender_domains = models.TextField(
        _("allowed sender domains"), blank=True, help_text=_("One per line; empty accepts every domain.")
    )
    create_unknown_senders = models.BooleanField(_("unknown senders become requesters"), default=True)
    cc_become_watchers = models.BooleanField(
        _("Cc addresses of known users become watchers"), default=True,
        help_text=_("Only for messages whose sender is verified."),
    )  # fmt: skip
    require_address_in_to = models.BooleanField(_("accept only when the desk address is in To"), default=False)
    # sender authentication (Authentication-Results, RFC 8601), see parsing/authresults.py
    authserv_id = models.CharField(
        _("trusted authserv-id"), max_length=255, blank=True,
        help_text=_(
            "The name your mail server writes first in its Authentication-Results headers "
            "(for example mx.example.com). Headers with any other name are ignored."
        ),
    )  # fmt: skip
    require_sender_authentication = models.BooleanField(
        _("require sender authentication"), default=False,
        help_text=_("Senders who do not pass DMARC (or SPF/DKIM aligned with From) cannot act on an existing ticket."),
    )  # fmt: skip
    acknowledge_trusted_only = models.BooleanField(
        _("acknowledge only verified senders and allowed domains"), default=True,
        help_text=_("Otherwise anybody who writes gets an acknowledgement, which spammers can use to relay mail."),
    )  # fmt: skip
    unverified_reply = models.CharField(
        _("an unverified sender writes about an existing ticket"), max_length=16,
        choices=UnverifiedReply.choices, default=UnverifiedReply.NEW_TICKET,
    )  # fmt: skip
    # OAuth2 (XOAUTH2, see oauth.py): Microsoft 365 client credentials (the client secret), Google
    # service account (its JSON key); stored encrypted, or in a PALIER_SECRET_ environment variable
    # (for Google: the variable holds the key file's path)
    oauth_provider = models.CharField(_("OAuth2 provider"), max_length=16, blank=True, choices=OAuthProvider.choices)
    oauth_tenant = models.CharField(_("OAuth2 tenant"), max_length=200, blank=True)
    oauth_client_id = models.CharField(_("OAuth2 client id"), max_length=200, blank=True)
    oauth_secret_env = models.CharField(_("OAuth2 secret environment variable"), max_length=100, blank=True)
    oauth_secret_encrypted = models.TextField(blank=True, editable=False)  # client secret, or Google's JSON key
    # IMAP position (``imap.py``): the folder, its UIDVALIDITY and the highest UID stored from it
    imap_uid_folder = models.CharField(max_length=200, blank=True, editable=False)
    imap_uidvalidity = models.BigIntegerField(null=True, blank=True, editable=False)
    imap_last_uid = models.BigIntegerField(default=0, editable=False)
    # health
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)  # start of the current failure streak
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("mailbox")
        verbose_name_plural = _("mailboxes")

    def __str__(self) -> str:
        return self.name

    def set_password(self, password: str) -> None:
        self.password_encrypted = secrets.encrypt(password)

    def get_password(self) -> str:
        """The IMAP password: from its ``PALIER_SECRET_…`` variable, else the stored one
        (``secrets.SecretError`` when the variable is refused or the key changed)."""
        if self.password_env:
            return secrets.from_environment(self.password_env)
        return secrets.decrypt(self.password_encrypted)

    def set_oauth_secret(self, secret: str) -> None:
        self.oauth_secret_encrypted = secrets.encrypt(secret)

    def get_oauth_secret(self) -> str:
        """The stored OAuth2 secret, else the one in its ``PALIER_SECRET_…`` variable."""
        if self.oauth_secret_encrypted:
            return secrets.decrypt(self.oauth_secret_encrypted)
        return secrets.from_environment(self.oauth_secret_env)

    @property
    def uses_imap(self) -> bool:
        return bool(self.imap_host)

    @property
    def next_poll_at(self) -> datetime | None:
        """When the poller tries again: the polling interval, doubled per failure in a row
        (at most ``MAX_BACKOFF_SECONDS`` unless the interval itself is longer)."""
        if self.last_attempt_at is None:
            return None
        return self.last_attempt_at + timedelta(seconds=self.poll_delay_seconds)

    @property
    def poll_delay_seconds(self) -> int:
        interval = max(1, self.poll_interval_seconds)
        if not self.consecutive_failures:
            return interval
        backoff = interval * (1 << min(self.consecutive_failures, 16))
        return max(interval, min(backoff, MAX_BACKOFF_SECONDS))

    @property
    def domains(self) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in self.allowed_sender_domains.split() if d.strip()]


class InboundMessage(models.Model):
    """One received message, raw bytes first; processing fills the rest."""

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored (automatic mail)")
        QUARANTINED = "quarantined", _("Quarantined")

    class SenderAuth(models.TextChoices):
        PASS = "pass", _("Verified")
        FAIL = "fail", _("Not verified (authentication failed)")
        NONE = "none", _("Not verified (no result from the trusted server)")
        UNCHECKED = "unchecked", _("Not checked (no trusted server configured)")

    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages")
    raw = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, db_index=True)
    message_id = models.CharField(max_length=500, blank=True, db_index=True)
    # the Message-ID ("<id>#<content digest>" for another message reusing it), or "sha256:<hex>" without one
    dedupe_key = models.CharField(max_length=520, unique=True)
    content_sha256 = models.CharField(max_length=64, blank=True)  # parsing.content_sha256: authored headers, body
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECEIVED, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sender = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=1000, blank=True)
    full_text = models.TextField(blank=True)  # body with quotes, for "show quoted text"
    reply_text = models.TextField(blank=True)
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound_messages"
    )
    comment = models.ForeignKey("tickets.Comment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    sender_auth = models.CharField(max_length=16, choices=SenderAuth.choices, blank=True)
    sender_auth_detail = models.CharField(max_length=500, blank=True)
    sender_domain = models.CharField(max_length=253, blank=True)  # for the per-domain rate limit
    opened_ticket = models.BooleanField(default=False)  # this message opened ``ticket`` (rate limits)
    acknowledge = models.BooleanField(default=True)  # may the ticket it opened be acknowledged by email
    raw_purged_at = models.DateTimeField(null=True, blank=True)  # raw bytes blanked after the retention period
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    # a passing database error: when the message is processed again (``services.process``)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["processed_at"], name="mail_inbound_processed_idx"),  # global limit, retention
            models.Index(fields=["sender_domain", "processed_at"], name="mail_inbound_domain_idx"),
        ]
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")

    def __str__(self) -> str:
        return self.message_id or self.sha256[:12]


class MessageRecord(models.Model):
    """Every Message-ID Palier received or sent, and its ticket (threading by In-Reply-To/References)."""

    class Direction(models.TextChoices):
        IN = "in", _("received")
        OUT = "out", _("sent")

    message_id = models.CharField(max_length=500, unique=True)
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="message_records")
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.IN)
    # sent: the one recipient of that message (a vendor's reply proves itself by answering it)
    address = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("message record")
        verbose_name_plural = _("message records")

    def __str__(self) -> str:
        return self.message_id
