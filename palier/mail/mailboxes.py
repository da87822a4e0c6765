"""Mailbox administration (writes): create, update, deactivate. Admins only.

Every value is checked here, per field (``ValidationError({field: message})``), so the admin page
and any other caller refuse the same things and nothing is saved on a refusal. Secrets (the IMAP
password, the OAuth2 secret) are write-only and stored encrypted (``secrets.py``): a blank one on
update keeps the stored one, except when the server it is sent to changes, so the saved secret can
never be pointed at another host. Environment variables are accepted only with the
``PALIER_SECRET_`` prefix.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.mail import permissions, secrets, services
from palier.mail.models import Mailbox
from palier.people.models import User
from palier.tickets.models import Ticket

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
MIN_INTERVAL, MAX_INTERVAL = 10, 86400
EDITABLE = (
    "name", "address", "is_active", "imap_host", "imap_port", "imap_tls", "imap_user", "password_env", "folder",
    "poll_interval_seconds", "target_group", "target_category", "target_kind", "allowed_sender_domains",
    "create_unknown_senders", "cc_become_watchers", "require_address_in_to", "oauth_provider", "oauth_tenant",
    "oauth_client_id", "oauth_secret_env", "authserv_id", "require_sender_authentication", "unverified_reply",
    "acknowledge_trusted_only",
)  # fmt: skip
AUTHSERV_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,253}$")
P = Mailbox.OAuthProvider


def create_mailbox(*, by: User | None, password: str = "", oauth_secret: str = "", **fields: Any) -> Mailbox:
    permissions.require(by, "manage_mailboxes")
    mailbox = Mailbox()
    _assign(mailbox, fields, password, oauth_secret)
    with transaction.atomic():
        _check_unique(mailbox)
        mailbox.save()
        audit.record("mailbox.created", actor=by, target=mailbox, changes=_audited(mailbox, password, oauth_secret))
    services.clear_desk_addresses()
    return mailbox


def update_mailbox(
    *, mailbox: Mailbox, by: User | None, password: str = "", oauth_secret: str = "", **fields: Any
) -> Mailbox:
    """Change the settings; a blank ``password`` (``oauth_secret``) keeps the stored one, unless
    the server it goes to changes: then it must be entered again. Health is left as it is."""
    permissions.require(by, "manage_mailboxes")
    _check_secret_destination(mailbox, fields, password=password, oauth_secret=oauth_secret)
    before = {name: getattr(mailbox, name) for name in EDITABLE}
    _assign(mailbox, fields, password, oauth_secret)
    with transaction.atomic():
        _check_unique(mailbox)
        mailbox.save(update_fields=[*EDITABLE, "password_encrypted", "oauth_secret_encrypted"])
        changes: dict[str, Any] = {
            name: [old, getattr(mailbox, name)] for name, old in before.items() if getattr(mailbox, name) != old
        }
        changes |= {
            name: [None, "new"] for name, value in (("password", password), ("oauth_secret", oauth_secret)) if value
        }
        audit.record("mailbox.changed", actor=by, target=mailbox, changes=changes)
    services.clear_desk_addresses()
    return mailbox


def _audited(mailbox: Mailbox, password: str, oauth_secret: str) -> dict[str, Any]:
    """A new mailbox's settings for the audit log (secrets only as "set": the log masks them)."""
    changes: dict[str, Any] = {name: getattr(mailbox, name) for name in EDITABLE}
    changes |= {name: "set" for name, value in (("password", password), ("oauth_secret", oauth_secret)) if value}
    return changes


def set_active(*, mailbox: Mailbox, active: bool, by: User | None) -> Mailbox:
    permissions.require(by, "manage_mailboxes")
    with transaction.atomic():
        Mailbox.objects.filter(pk=mailbox.pk).update(is_active=active)
        audit.record("mailbox.activated" if active else "mailbox.deactivated", actor=by, target=mailbox)
    mailbox.refresh_from_db()
    return mailbox


# where a stored secret is sent: changing any of these without entering the secret again would let
# an administrator send the saved password to a server of their choosing ("Test connection")
PASSWORD_DESTINATION = ("imap_host", "imap_port", "imap_tls", "imap_user")
OAUTH_DESTINATION = ("oauth_provider", "oauth_tenant", "oauth_client_id", "imap_host", "imap_port", "imap_user")


def _check_secret_destination(mailbox: Mailbox, fields: dict[str, Any], *, password: str, oauth_secret: str) -> None:
    def changed(names: tuple[str, ...]) -> bool:
        return any(name in fields and _same(fields[name]) != _same(getattr(mailbox, name)) for name in names)

    errors: dict[str, str] = {}
    if mailbox.password_encrypted and not password and changed(PASSWORD_DESTINATION):
        errors["password"] = _(
            "The server changed: enter the password again (it is only sent where it was entered for)."
        )
    if mailbox.oauth_secret_encrypted and not oauth_secret and changed(OAUTH_DESTINATION):
        errors["oauth_secret"] = _(
            "The provider or server changed: enter the OAuth2 secret again (it is only sent where it was entered for)."
        )
    if errors:
        raise ValidationError(errors)


def _same(value: Any) -> str:
    return str(value if value is not None else "").strip().lower()


def _assign(mailbox: Mailbox, fields: dict[str, Any], password: str, oauth_secret: str = "") -> None:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"unknown mailbox fields: {sorted(unknown)}")
    cleaned = {**{name: getattr(mailbox, name) for name in EDITABLE}, **fields}
    errors = validate(
        cleaned,
        has_password=bool(password or mailbox.password_encrypted),
        has_oauth_secret=bool(oauth_secret or mailbox.oauth_secret_encrypted),
    )
    if errors:
        raise ValidationError(errors)
    for name in EDITABLE:
        setattr(mailbox, name, cleaned[name])
    mailbox.allowed_sender_domains = "\n".join(_domains(cleaned["allowed_sender_domains"]))
    if password:
        mailbox.set_password(password)
    if oauth_secret:
        mailbox.set_oauth_secret(oauth_secret.strip())


def _check_unique(mailbox: Mailbox) -> None:
    others = Mailbox.objects.exclude(pk=mailbox.pk)
    errors = {}
    if others.filter(name__iexact=mailbox.name).exists():
        errors["name"] = _("A mailbox with this name already exists.")
    if others.filter(address__iexact=mailbox.address).exists():
        errors["address"] = _("Another mailbox already reads this address.")
    if errors:
        raise ValidationError(errors)


def _domains(text: str) -> list[str]:
    return [d.strip().lower().lstrip("@") for d in re.split(r"[\s,;]+", text or "") if d.strip()]


def validate(data: dict[str, Any], *, has_password: bool, has_oauth_secret: bool = False) -> dict[str, str]:
    """Per-field messages for what cannot be saved (empty when everything is fine)."""
    errors: dict[str, str] = {}
    data["name"] = str(data.get("name") or "").strip()
    data["address"] = str(data.get("address") or "").strip().lower()
    data["imap_host"] = str(data.get("imap_host") or "").strip()
    data["folder"] = str(data.get("folder") or "").strip()
    if not data["name"]:
        errors["name"] = _("Give the mailbox a name.")
    try:
        validate_email(data["address"])
    except ValidationError:
        errors["address"] = _("Enter a valid email address.")
    if data["target_kind"] not in Ticket.Kind.values:
        errors["target_kind"] = _("Choose a ticket type.")
    if not (MIN_INTERVAL <= int(data["poll_interval_seconds"] or 0) <= MAX_INTERVAL):
        errors["poll_interval_seconds"] = _("Between %(low)s and %(high)s seconds.") % {
            "low": MIN_INTERVAL, "high": MAX_INTERVAL,
        }  # fmt: skip
    bad = [d for d in _domains(data["allowed_sender_domains"]) if not DOMAIN.match(d)]
    if bad:
        errors["allowed_sender_domains"] = _("Not a domain name: %(domains)s.") % {"domains": ", ".join(bad[:5])}
    errors.update(_secret_env_errors(data))
    errors.update(_authentication_errors(data))
    if data["imap_host"]:
        errors.update(_imap_errors(data, has_password=has_password, has_oauth_secret=has_oauth_secret))
    return errors


def _secret_env_errors(data: dict[str, Any]) -> dict[str, str]:
    """Only ``PALIER_SECRET_…`` variables: nothing else of the server's environment is readable."""
    errors: dict[str, str] = {}
    for name in ("password_env", "oauth_secret_env"):
        data[name] = str(data.get(name) or "").strip()
        if data[name] and not ENV_NAME.match(data[name]):
            errors[name] = _("An environment variable name: letters, digits and _, not starting with a digit.")
        elif data[name] and not secrets.env_name_allowed(data[name]):
            errors[name] = _(
                "Only environment variables whose name starts with %(prefix)s can hold a mailbox secret "
                "(the operator sets them for Palier); or leave this empty and enter the secret itself."
            ) % {"prefix": secrets.ENV_PREFIX}
    return errors


def _authentication_errors(data: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    data["authserv_id"] = str(data.get("authserv_id") or "").strip().lower()
    if data["authserv_id"] and not AUTHSERV_ID.match(data["authserv_id"]):
        errors["authserv_id"] = _("The authserv-id is one word, usually your mail server's name (mx.example.com).")
    if data["require_sender_authentication"] and not data["authserv_id"]:
        errors["authserv_id"] = _("Requiring sender authentication needs the authserv-id of your mail server.")
    if data["unverified_reply"] not in Mailbox.UnverifiedReply.values:
        errors["unverified_reply"] = _("Choose what happens to an unverified sender's reply.")
    return errors


def _imap_errors(data: dict[str, Any], *, has_password: bool, has_oauth_secret: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    port = int(data["imap_port"] or 0)
    if not 1 <= port <= 65535:
        errors["imap_port"] = _("A port between 1 and 65535.")
    elif data["imap_tls"] and port == 143:
        errors["imap_tls"] = _("Port 143 is plain IMAP: use port 993 with TLS, or turn TLS off.")
    if not data["folder"]:
        errors["folder"] = _("Name the folder to read (usually INBOX).")
    provider = data["oauth_provider"]
    if provider not in P.values:
        errors["oauth_provider"] = _("Choose a provider.")
    elif provider:
        errors.update(_oauth_errors(data, has_oauth_secret=has_oauth_secret))
    elif not has_password and not data["password_env"]:
        errors["password"] = _("Enter the password, or the environment variable that holds it.")
    return errors


def _oauth_errors(data: dict[str, Any], *, has_oauth_secret: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data["oauth_provider"] == P.MICROSOFT:
        data["oauth_tenant"] = str(data["oauth_tenant"] or "").strip()
        data["oauth_client_id"] = str(data["oauth_client_id"] or "").strip()
        if not data["oauth_tenant"]:
            errors["oauth_tenant"] = _("Microsoft 365 needs the tenant (its id or domain).")
        if not data["oauth_client_id"]:
            errors["oauth_client_id"] = _("Microsoft 365 needs the application (client) id.")
    if not data["oauth_secret_env"] and not has_oauth_secret:
        errors["oauth_secret_env"] = (
            _("Enter the client secret, or the environment variable that holds it.")
            if data["oauth_provider"] == P.MICROSOFT
            else _("Enter the service account's JSON key, or the environment variable that holds the path of its file.")
        )
    return errors


def rotate_secrets(*, by: User | None) -> tuple[int, list[str]]:
    """Re-encrypt every stored mailbox secret under the current ``SECRET_KEY`` (after a key change,
    with the old key in ``SECRET_KEY_FALLBACKS``). Returns how many mailboxes were rewritten and the
    names of those whose secrets no known key opens (to be entered again)."""
    permissions.require(by, "manage_mailboxes")
    rotated, unreadable = 0, []
    for mailbox in Mailbox.objects.exclude(password_encrypted="", oauth_secret_encrypted="").order_by("pk"):
        try:
            password, oauth_secret = (
                secrets.rotate(mailbox.password_encrypted),
                secrets.rotate(mailbox.oauth_secret_encrypted),
            )
        except secrets.SecretError:
            unreadable.append(mailbox.name)
            continue
        Mailbox.objects.filter(pk=mailbox.pk).update(password_encrypted=password, oauth_secret_encrypted=oauth_secret)
        rotated += 1
    return rotated, unreadable
