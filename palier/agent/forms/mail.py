"""Forms of the mail admin pages: parsing only; the rules live in ``mailboxes.validate``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from palier.lib.web import StyledForm
from palier.mail.models import Mailbox
from palier.people import selectors as people_selectors
from palier.tickets import selectors as ticket_selectors
from palier.tickets.models import Ticket


class MailboxForm(StyledForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    address = forms.CharField(label=_("Desk address"), max_length=254)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    imap_host = forms.CharField(
        label=_("IMAP host"), max_length=200, required=False,
        help_text=_("Leave empty for a mailbox that only receives through palier mailgate."),
    )  # fmt: skip
    imap_port = forms.IntegerField(label=_("IMAP port"), initial=993)
    imap_tls = forms.BooleanField(label=_("TLS"), required=False, initial=True)
    imap_user = forms.CharField(
        label=_("IMAP user"), max_length=200, required=False, help_text=_("Empty: the desk address.")
    )
    password = forms.CharField(
        label=_("Password"), required=False, max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted, never shown again. Leave empty to keep the current one."),
    )  # fmt: skip
    password_env = forms.CharField(
        label=_("Password environment variable"), max_length=100, required=False,
        help_text=_(
            "Instead of storing the password: the environment variable that holds it. "
            "Its name must start with PALIER_SECRET_."
        ),
    )  # fmt: skip
    folder = forms.CharField(label=_("Folder"), max_length=200, initial="INBOX", required=False)
    poll_interval_seconds = forms.IntegerField(label=_("Polling interval (seconds)"), initial=60)
    oauth_provider = forms.ChoiceField(
        label=_("OAuth2 provider"), choices=Mailbox.OAuthProvider.choices, required=False
    )
    oauth_tenant = forms.CharField(label=_("OAuth2 tenant (Microsoft 365)"), max_length=200, required=False)
    oauth_client_id = forms.CharField(label=_("OAuth2 client id (Microsoft 365)"), max_length=200, required=False)
    oauth_secret = forms.CharField(
        label=_("OAuth2 secret"), required=False, max_length=20000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Microsoft 365: the client secret. Google: the service account's JSON key. Stored encrypted, never "
            "shown again. Leave empty to keep the current one."
        ),
    )  # fmt: skip
    oauth_secret_env = forms.CharField(
        label=_("OAuth2 secret environment variable"), max_length=100, required=False,
        help_text=_(
            "Instead of storing the secret (name starting with PALIER_SECRET_). Microsoft 365: holds the client "
            "secret. Google: holds the path of the service account JSON key."
        ),
    )  # fmt: skip
    target_kind = forms.ChoiceField(label=_("Ticket type"), choices=Ticket.Kind.choices, initial=Ticket.Kind.INCIDENT)
    target_group = forms.ModelChoiceField(
        label=_("Target group"), queryset=people_selectors.groups_by_name(), required=False
    )
    target_category = forms.ModelChoiceField(
        label=_("Target category"), queryset=ticket_selectors.categories_by_id(), required=False
    )
    allowed_sender_domains = forms.CharField(
        label=_("Allowed sender domains"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line; empty accepts every domain."),
    )  # fmt: skip
    create_unknown_senders = forms.BooleanField(
        label=_("Unknown senders become requesters"), required=False, initial=True
    )
    cc_become_watchers = forms.BooleanField(
        label=_("Cc addresses of known users become watchers"), required=False, initial=True,
        help_text=_("Only when the sender is verified."),
    )  # fmt: skip
    require_address_in_to = forms.BooleanField(label=_("Accept only when the desk address is in To"), required=False)
    authserv_id = forms.CharField(
        label=_("Trusted authserv-id"), max_length=255, required=False,
        help_text=_(
            "The name your mail server writes first in its Authentication-Results headers (for example "
            "mx.example.com); the server must remove such headers that arrive with the message. Empty: senders "
            "are not checked, and agents cannot act on tickets by mail."
        ),
    )  # fmt: skip
    require_sender_authentication = forms.BooleanField(
        label=_("Require sender authentication"), required=False,
        help_text=_("Only senders who pass DMARC (or SPF/DKIM aligned with From) may add to an existing ticket."),
    )  # fmt: skip
    acknowledge_trusted_only = forms.BooleanField(
        label=_("Acknowledge only verified senders and allowed domains"), required=False, initial=True,
        help_text=_("Otherwise anybody who writes gets an acknowledgement, which spammers can use to relay mail."),
    )  # fmt: skip
    unverified_reply = forms.ChoiceField(
        label=_("An unverified sender writes about an existing ticket"), choices=Mailbox.UnverifiedReply.choices,
        initial=Mailbox.UnverifiedReply.NEW_TICKET,
    )  # fmt: skip

    def __init__(self, *args: Any, stored: tuple[str, ...] = (), **kwargs: Any) -> None:
        """``stored``: the secret fields that have a saved value, shown masked (never the value)."""
        super().__init__(*args, **kwargs)
        for name in stored:
            self.fields[name].widget.attrs["placeholder"] = "•••••••• " + str(_("(stored)"))

    @staticmethod
    def stored_secrets(mailbox: Mailbox) -> tuple[str, ...]:
        pairs = (("password", mailbox.password_encrypted), ("oauth_secret", mailbox.oauth_secret_encrypted))
        return tuple(name for name, value in pairs if value)

    @staticmethod
    def initial_for(mailbox: Mailbox) -> dict[str, Any]:
        names = [n for n in MailboxForm.base_fields if n not in ("password", "oauth_secret")]  # write-only
        return {name: getattr(mailbox, name) for name in names}

    def to_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["allowed_sender_domains"] = data.get("allowed_sender_domains") or ""
        return data
