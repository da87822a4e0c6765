"""Chat (Slack, Microsoft Teams): who is writing, what they ask, tickets opened from a message,
status answers limited to what the sender may see, and channel announcements of new tickets."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.integrations import outbound, permissions
from palier.integrations.models import ChatApp, ChatEvent, ChatIdentity
from palier.lib.errors import Conflict
from palier.people.models import SupportGroup, User
from palier.tickets import display
from palier.tickets import selectors as ticket_selectors
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
_SLUG = re.compile(r"^[a-z0-9-]{1,50}$")
_APP_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


@dataclass(frozen=True)
class Command:
    action: str  # "open", "status", "help", or an approval command: "approvals", "approve", "reject"
    argument: str = ""


# the approval commands' words (English and French) -> action
APPROVAL_WORDS = {
    "approvals": "approvals",
    "approbations": "approvals",
    "approve": "approve",
    "approuver": "approve",
    "approuve": "approve",
    "reject": "reject",
    "refuser": "reject",
    "refuse": "reject",
    "rejeter": "reject",
}

# who answers the approval commands and buttons (``CHAT_APPROVALS`` in palier/events.py): the app
# above both the approval engine and the chats; called with (user, action, argument, via)
approval_handlers: list[Callable[[User, str, str, str], str]] = []


def parse_command(text: str) -> Command:
    """``status INC-1042`` asks for a status, ``help`` (or nothing) for help, ``approve CHG-12 …``,
    ``reject CHG-12 <why>`` and ``approvals`` decide or list approvals (when approvals are wired),
    anything else opens."""
    text = text.strip()
    words = text.split()
    if not words or words[0].lower() in {"help", "aide", "?"}:
        return Command("help")
    if words[0].lower() in {"status", "statut", "état", "etat"}:
        return Command("status", words[1]) if len(words) == 2 else Command("help")
    action = APPROVAL_WORDS.get(words[0].lower())
    if action is not None and approval_handlers:
        return Command(action, text[len(words[0]) :].strip())
    return Command("open", text)


def approval_answer(kind: str, *, external_id: str, command: Command, fallback_language: str = "") -> str:
    """Answer an approval command. Deciding is for the person an administrator linked to this chat
    account: an email the chat payload carries is not enough."""
    user = identify_linked(kind, external_id=external_id)
    if user is None:
        return unknown_sender_answer(kind, external_id or "?", fallback_language=fallback_language)
    with translation.override(language_for(user, fallback_language)):
        return approval_handlers[0](user, command.action, command.argument, kind)


def identify_linked(kind: str, *, external_id: str) -> User | None:
    """The active account an administrator linked to this chat user id (no email fallback)."""
    if not external_id:
        return None
    link = (
        ChatIdentity.objects.select_related("user")
        .filter(kind=kind, external_id=external_id, user__is_active=True)
        .first()
    )
    return link.user if link is not None else None


def language_for(user: User | None, fallback: str = "") -> str:
    if user is not None and user.language:
        return user.language
    fallback = fallback[:2].lower()
    return fallback if fallback in {"fr", "en"} else settings.LANGUAGE_CODE


# --- identities ------------------------------------------------------------------------------------------


def identify(kind: str, *, external_id: str, email: str = "") -> User | None:
    """The active account behind a chat user: its link first, then the email the payload carries."""
    if external_id:
        link = (
            ChatIdentity.objects.select_related("user")
            .filter(kind=kind, external_id=external_id, user__is_active=True)
            .first()
        )
        if link is not None:
            return link.user
    if email and "@" in email:
        return User.objects.filter(email__iexact=email.strip(), is_active=True).first()
    return None


@transaction.atomic
def link_identity(*, kind: str, external_id: str, user: User, by: User | None) -> ChatIdentity:
    """Link a Slack user id or a Teams Azure AD object id to an account (admins)."""
    permissions.require(by, "manage")
    external_id = external_id.strip()
    if kind not in ChatApp.Kind.values:
        raise ValidationError({"kind": _("Choose Slack or Microsoft Teams.")})
    if not external_id or len(external_id) > 100:
        raise ValidationError({"external_id": _("Enter the chat user id (at most 100 characters).")})
    try:
        with transaction.atomic():
            identity = ChatIdentity.objects.create(kind=kind, external_id=external_id, user=user)
            audit.record("chat_identity.linked", actor=by, target=identity, changes={"user": user.email})
            return identity
    except IntegrityError as exc:
        raise Conflict(_("This chat user is already linked."), field="external_id") from exc


@transaction.atomic
def unlink_identity(identity: ChatIdentity, *, by: User | None) -> None:
    permissions.require(by, "manage")
    audit.record("chat_identity.unlinked", actor=by, target=identity, changes={"user": identity.user.email})
    identity.delete()


# --- chat apps -------------------------------------------------------------------------------------------


@transaction.atomic
def create_chat_app(
    *,
    kind: str,
    name: str,
    slug: str,
    secret_env: str,
    bot_token_env: str = "",
    bot_app_id: str = "",
    notify_url: str = "",
    group: SupportGroup | None = None,
    by: User | None,
) -> ChatApp:
    """Register a Slack app or a Teams outgoing webhook; its secret is read from the environment."""
    permissions.require(by, "manage")
    errors: dict[str, str] = {}
    if kind not in ChatApp.Kind.values:
        errors["kind"] = _("Choose Slack or Microsoft Teams.")
    if not name.strip():
        errors["name"] = _("This field is required.")
    if not _SLUG.match(slug):
        errors["slug"] = _("Use lower-case letters, digits and hyphens.")
    if not _ENV_NAME.match(secret_env):
        errors["secret_env"] = _("Enter an environment variable name such as PALIER_SLACK_SECRET.")
    if bot_token_env and (kind != ChatApp.Kind.SLACK or not _ENV_NAME.match(bot_token_env)):
        errors["bot_token_env"] = _(
            "Slack apps only: enter an environment variable name such as PALIER_SLACK_BOT_TOKEN."
        )
    bot_app_id = bot_app_id.strip()
    if bot_app_id and (kind != ChatApp.Kind.TEAMS or not _APP_ID.match(bot_app_id)):
        errors["bot_app_id"] = _("Teams apps only: enter the application (client) id shown in Microsoft Entra ID.")
    if notify_url and not notify_url.startswith(("https://", "http://")):
        errors["notify_url"] = _("Enter an http or https address.")
    if errors:
        raise ValidationError(errors)
    if ChatApp.objects.filter(slug=slug).exists():
        raise Conflict(_("This address is already used."), field="slug")
    app = ChatApp.objects.create(
        kind=kind,
        name=name.strip()[:100],
        slug=slug,
        secret_env=secret_env,
        bot_token_env=bot_token_env,
        bot_app_id=bot_app_id,
        notify_url=notify_url,
        group=group,
    )
    changes = {
        "kind": kind,
        "slug": slug,
        "secret_env": secret_env,
        "bot_token_env": bot_token_env,
        "bot_app_id": bot_app_id,
        "notify_url": notify_url,
        "group": group,
    }
    audit.record("integration.created", actor=by, target=app, changes=changes)
    return app


@transaction.atomic
def set_chat_app_active(app: ChatApp, *, active: bool, by: User | None) -> ChatApp:
    permissions.require(by, "manage")
    if app.is_active != active:
        app.is_active = active
        app.save(update_fields=["is_active"])
        audit.record("integration.activated" if active else "integration.deactivated", actor=by, target=app)
    return app


def first_time(app: ChatApp, event_id: str) -> bool:
    """Remember an event id; False when it was already received (a retry)."""
    if not event_id:
        return True
    try:
        with transaction.atomic():
            ChatEvent.objects.create(app=app, event_id=event_id[:200])
    except IntegrityError:
        return False
    return True


# --- tickets from chat -----------------------------------------------------------------------------------


def open_ticket_from_chat(*, app: ChatApp, user: User, text: str) -> Ticket:
    """Open an incident for ``user`` from a chat message: first line as subject, all as description."""
    text = text.strip()
    first = text.splitlines()[0] if text else ""
    ticket = ticket_services.open_ticket(
        requester=user,
        by=None,
        channel=app.kind,  # "slack" and "teams" are ticket channels
        subject=first[:120] or _("Message from chat"),
        description=text,
        group=app.group,
    )
    announce_ticket(ticket)
    return ticket


def opened_answer(ticket: Ticket, user: User) -> str:
    with translation.override(language_for(user)):
        return _("Ticket %(ref)s is open: “%(subject)s”. We will get back to you.") % {
            "ref": ticket.reference,
            "subject": ticket.subject,
        }


def status_answer(user: User, reference: str) -> str:
    """The status of a ticket the user may see; any other ticket is "not found"."""
    with translation.override(language_for(user)):
        ticket = ticket_selectors.get_ticket_by_reference(user, reference)
        if ticket is None:
            return _("Ticket %(ref)s not found.") % {"ref": reference[:30]}
        status = Ticket.Status(ticket.status).label
        text = _("%(ref)s “%(subject)s”: %(status)s.") % {
            "ref": ticket.reference,
            "subject": ticket.subject,
            "status": status,
        }
        if not user.is_agent:
            text += " " + display.status_explanation(ticket.status)
        return text


def help_answer(user: User | None, *, command: str, fallback_language: str = "", status: bool = True) -> str:
    with translation.override(language_for(user, fallback_language)):
        if not status:
            return _("Write “%(cmd)s <your problem>” to open a ticket.") % {"cmd": command}
        return _("Write “%(cmd)s <your problem>” to open a ticket, or “%(cmd)s status INC-1042” for its status.") % {
            "cmd": command
        }


def not_in_a_channel_answer(user: User) -> str:
    """What a status request gets where a whole channel would read the answer."""
    with translation.override(language_for(user)):
        return _(
            "Ticket details are not posted in a channel, where everyone can read them: open the ticket in "
            "Palier to see where it stands."
        )


def unknown_sender_answer(kind: str, external_id: str, *, fallback_language: str = "") -> str:
    with translation.override(language_for(None, fallback_language)):
        return _(
            "I do not know you yet. Ask the service desk to link your %(chat)s account (id %(id)s) to your "
            "Palier account, then try again."
        ) % {"chat": ChatApp.Kind(kind).label, "id": external_id}


def acknowledgement(user: User) -> str:
    with translation.override(language_for(user)):
        return _("Thanks, I am opening a ticket for you…")


# --- channel announcements ------------------------------------------------------------------------------


def announce_ticket(ticket: Ticket) -> None:
    """After commit, post the new ticket to every active chat app watching its group (or all)."""
    apps = [
        app
        for app in ChatApp.objects.filter(is_active=True).exclude(notify_url="")
        if app.group_id is None or app.group_id == ticket.group_id
    ]
    if not apps:
        return
    title = f"{ticket.reference} {ticket.subject}"
    facts = {
        _("Priority"): f"P{ticket.priority}",
        _("Channel"): str(Ticket.Channel(ticket.channel).label),
    }
    for app in apps:
        if app.kind == ChatApp.Kind.SLACK:
            payload = outbound.slack_message(_("New ticket %(title)s") % {"title": title})
        else:
            payload = outbound.teams_card(title=_("New ticket"), text=title, facts=facts)
        outbound.post_later(app.notify_url, payload)
