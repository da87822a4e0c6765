"""The mail intake through the API (administrators): mailboxes, their connection test, and the
quarantine with its retry (docs/email.md, "API"). Secrets are write-only: ``password`` and
``oauth_secret`` are accepted, never shown (``has_password``, ``has_oauth_secret`` say whether
one is stored); an empty or missing one keeps the stored one, except when the server it is sent
to changes (then it must be sent again, as on the page). Deleting a mailbox deactivates it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from palier.api import lookups
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.pagination import keyset_page
from palier.api.resources import PageQuery, Resource, admins_only, mount, page_schema, values
from palier.api.schemas.common import Input
from palier.mail import imap, mailboxes, selectors, services
from palier.mail.models import Mailbox
from palier.people.models import User

router = Router()


def _admin(request: HttpRequest) -> User:
    user = current_user(request)
    if not admins_only(user):
        raise Problem(403, _("Only administrators can manage mailboxes."))
    return user


# --- mailboxes ------------------------------------------------------------------------------------------


class MailboxSettings(Schema):
    """A mailbox without its health (what its ETag covers: a poll does not change it)."""

    id: int
    name: str
    address: str
    is_active: bool
    imap_host: str
    imap_port: int
    imap_tls: bool
    imap_user: str
    has_password: bool = Field(description="Whether a password is stored (it is never shown).")
    password_env: str
    folder: str
    poll_interval_seconds: int
    target_group: int | None = Field(validation_alias="target_group_id")
    target_category: int | None = Field(validation_alias="target_category_id")
    target_kind: str
    allowed_sender_domains: list[str]
    create_unknown_senders: bool
    cc_become_watchers: bool
    require_address_in_to: bool
    oauth_provider: str
    oauth_tenant: str
    oauth_client_id: str
    has_oauth_secret: bool = Field(description="Whether an OAuth2 secret is stored (it is never shown).")
    oauth_secret_env: str
    authserv_id: str
    require_sender_authentication: bool
    unverified_reply: str
    acknowledge_trusted_only: bool
    created_at: datetime

    @staticmethod
    def resolve_has_password(obj: Mailbox) -> bool:
        return bool(obj.password_encrypted)

    @staticmethod
    def resolve_has_oauth_secret(obj: Mailbox) -> bool:
        return bool(obj.oauth_secret_encrypted)

    @staticmethod
    def resolve_allowed_sender_domains(obj: Mailbox) -> list[str]:
        return [line for line in obj.allowed_sender_domains.splitlines() if line.strip()]


class MailboxOut(MailboxSettings):
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    last_error: str


Provider = Literal["", "microsoft", "google"]
Kind = Literal["incident", "request"]
Unverified = Literal["new_ticket", "quarantine"]


class MailboxIn(Input):
    name: str = Field(max_length=100)
    address: str = Field(max_length=254)
    is_active: bool = True
    imap_host: str = Field("", max_length=200, description="Empty: the mailbox only receives through palier mailgate.")
    imap_port: int = Field(993, ge=0, le=65535)
    imap_tls: bool = True
    imap_user: str = Field("", max_length=200)
    password: str = Field("", max_length=1000, description="Write-only.")
    password_env: str = Field("", max_length=100, description="A PALIER_SECRET_… variable holding the password.")
    folder: str = Field("INBOX", max_length=200)
    poll_interval_seconds: int = Field(60, ge=0, le=1_000_000)
    target_group: int | None = None
    target_category: int | None = None
    target_kind: Kind = "incident"
    allowed_sender_domains: list[str] = Field(default_factory=list, max_length=500)
    create_unknown_senders: bool = True
    cc_become_watchers: bool = True
    require_address_in_to: bool = False
    oauth_provider: Provider = ""
    oauth_tenant: str = Field("", max_length=200)
    oauth_client_id: str = Field("", max_length=200)
    oauth_secret: str = Field("", max_length=20_000, description="Write-only: the client secret or Google's JSON key.")
    oauth_secret_env: str = Field("", max_length=100)
    authserv_id: str = Field("", max_length=255)
    require_sender_authentication: bool = False
    unverified_reply: Unverified = "new_ticket"
    acknowledge_trusted_only: bool = True


class MailboxPatch(Input):
    name: str | None = Field(None, max_length=100)
    address: str | None = Field(None, max_length=254)
    is_active: bool | None = None
    imap_host: str | None = Field(None, max_length=200)
    imap_port: int | None = Field(None, ge=0, le=65535)
    imap_tls: bool | None = None
    imap_user: str | None = Field(None, max_length=200)
    password: str | None = Field(None, max_length=1000, description="Write-only; empty keeps the stored one.")
    password_env: str | None = Field(None, max_length=100)
    folder: str | None = Field(None, max_length=200)
    poll_interval_seconds: int | None = Field(None, ge=0, le=1_000_000)
    target_group: int | None = None
    target_category: int | None = None
    target_kind: Kind | None = None
    allowed_sender_domains: list[str] | None = Field(None, max_length=500)
    create_unknown_senders: bool | None = None
    cc_become_watchers: bool | None = None
    require_address_in_to: bool | None = None
    oauth_provider: Provider | None = None
    oauth_tenant: str | None = Field(None, max_length=200)
    oauth_client_id: str | None = Field(None, max_length=200)
    oauth_secret: str | None = Field(None, max_length=20_000, description="Write-only; empty keeps the stored one.")
    oauth_secret_env: str | None = Field(None, max_length=100)
    authserv_id: str | None = Field(None, max_length=255)
    require_sender_authentication: bool | None = None
    unverified_reply: Unverified | None = None
    acknowledge_trusted_only: bool | None = None


class MailboxQuery(PageQuery):
    is_active: bool | None = None


NULLABLE = ("target_group", "target_category")


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    """The body as the mailbox service takes it: ids as objects, domains one per line."""
    data = {name: value for name, value in data.items() if value is not None or name in NULLABLE}
    data = values(data, {"target_group": _group, "target_category": _category})
    if "allowed_sender_domains" in data:
        data["allowed_sender_domains"] = "\n".join(data["allowed_sender_domains"])
    data.setdefault("password", "")
    data.setdefault("oauth_secret", "")
    return data


def _group(pk: int, *, field: str = "target_group") -> Any:
    return lookups.group_by_id(pk, field=field)


def _category(pk: int, *, field: str = "target_category") -> Any:
    return lookups.category_by_id(pk, field=field)


def _update(user: User, mailbox: Mailbox, data: dict[str, Any]) -> Mailbox:
    if set(data) == {"is_active"}:  # the page's switch, with its own audit record
        return mailboxes.set_active(mailbox=mailbox, active=bool(data["is_active"]), by=user)
    return mailboxes.update_mailbox(mailbox=mailbox, by=user, **_fields(data))


def _listing(filters: dict[str, Any]) -> Any:
    rows = selectors.mailboxes()
    return rows if "is_active" not in filters else rows.filter(is_active=filters["is_active"])


MAILBOX = Resource(
    name="mailbox",
    path="/mailboxes",
    tag="email",
    about="The desk addresses Palier reads (IMAP) or receives through palier mailgate, with their health. "
    "Secrets are write-only (has_password, has_oauth_secret); an empty one keeps the stored one unless the "
    "server changes. Deleting a mailbox deactivates it (its messages keep it).",
    out=MailboxOut,
    etag_schema=MailboxSettings,
    query=MailboxQuery,
    order=("name", "id"),
    listing=lambda user, filters: _listing(filters),
    fetch=lambda user, pk: selectors.get_mailbox(pk),
    create_in=MailboxIn,
    update_in=MailboxPatch,
    create=lambda user, data: mailboxes.create_mailbox(by=user, **_fields(data)),
    update=_update,
    delete=lambda user, mailbox: _deactivate(user, mailbox),
    delete_verb="Deactivate",
)


def _deactivate(user: User, mailbox: Mailbox) -> None:
    mailboxes.set_active(mailbox=mailbox, active=False, by=user)


class ConnectionOut(Schema):
    ok: bool
    message: str


@router.post(
    "/mailboxes/{int:mailbox_id}/test", response=ConnectionOut, summary="Test a mailbox's connection", tags=["email"]
)
def test_mailbox(request: HttpRequest, mailbox_id: int) -> dict[str, Any]:
    """Sign in with the saved settings and open the folder, nothing else (its health is not
    changed); ``ok`` false with the error otherwise, as the page's "Test connection"."""
    _admin(request)
    mailbox = selectors.get_mailbox(mailbox_id)
    if not mailbox.uses_imap:
        return {"ok": False, "message": _("This mailbox has no IMAP host: it only receives through palier mailgate.")}
    if error := imap.check_connection(mailbox):
        return {"ok": False, "message": _("Connection failed: %(error)s") % {"error": error}}
    folder = mailbox.folder or "INBOX"
    return {"ok": True, "message": _("Connection works: signed in and opened %(folder)s.") % {"folder": folder}}


# --- the quarantine -------------------------------------------------------------------------------------


class QuarantinedOut(Schema):
    id: int
    mailbox: int | None = Field(validation_alias="mailbox_id")
    sender: str
    subject: str
    error: str = Field(description="Why it was quarantined.")
    attempts: int
    sender_auth: str
    created_at: datetime


class QuarantineQuery(PageQuery):
    mailbox: int | None = None


@router.get("/mail-quarantine", response=page_schema(QuarantinedOut), summary="Quarantined messages", tags=["email"])
def quarantine(request: HttpRequest, query: Query[QuarantineQuery]) -> dict[str, Any]:
    """The messages held back (unknown sender refused, loop, rate limit, unverified reply…),
    newest first, without their bodies."""
    _admin(request)
    rows = selectors.quarantined(mailbox=query.mailbox)
    items, cursor = keyset_page(rows, order=("-id",), cursor=query.cursor, limit=query.limit)
    return {"items": items, "next_cursor": cursor}


class RetryOut(Schema):
    id: int
    state: str = Field(description="processed, or quarantined again (then error says why).")
    error: str
    ticket: int | None = Field(validation_alias="ticket_id")


@router.post(
    "/mail-quarantine/{int:message_id}/retry",
    response=RetryOut,
    summary="Process a quarantined message again",
    tags=["email"],
)
def retry(request: HttpRequest, message_id: int) -> Any:
    """After fixing the cause (a sender rule, a mailbox setting): the message goes through the
    intake again. Retrying a message already processed changes nothing."""
    return services.retry(message_id, by=_admin(request))


RESOURCES: tuple[Resource, ...] = ()  # mounted on this module's router, beside its own endpoints
mount(router, MAILBOX)
