"""Adaptive Cards (schema 1.4, what Teams renders) for the bot's messages, in the reader's
language (the caller activates it). Every button is an ``Action.Submit`` whose data names the
verb (``palier``) and what it acts on; ``conversation.py`` checks it like any input.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from palier.tickets import display
from palier.tickets.models import Ticket

CARD = "application/vnd.microsoft.card.adaptive"
TEXT_LIMIT = 600


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **extra}


def _submit(title: str, verb: str, **data: Any) -> dict[str, Any]:
    return {"type": "Action.Submit", "title": title, "data": {"palier": verb, **data}}


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": body,
    }
    if actions:
        content["actions"] = actions
    return content


def message(content: dict[str, Any]) -> dict[str, Any]:
    """A message activity carrying one card."""
    return {"type": "message", "attachments": [{"contentType": CARD, "content": content}]}


def text_message(text: str) -> dict[str, Any]:
    return {"type": "message", "text": text}


def absolute(path: str) -> str:
    return f"{settings.PALIER_BASE_URL}{path}"


def _clip(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def link_account(url: str) -> dict[str, Any]:
    return card(
        [
            _text(_("Welcome to the service desk"), weight="Bolder", size="Medium"),
            _text(
                _(
                    "To talk to me, first confirm who you are (once): open Palier, sign in, confirm, then "
                    "type here the code Palier shows."
                )
            ),
        ],
        [{"type": "Action.OpenUrl", "title": _("Confirm in Palier"), "url": url}],
    )


def welcome(user: Any) -> dict[str, Any]:
    """After the account link is complete."""
    content = help_card()
    content["body"].insert(0, _text(_("Thanks %(name)s, I know you now.") % {"name": user.full_name}))
    return content


def help_card() -> dict[str, Any]:
    return card(
        [
            _text(_("How can I help?"), weight="Bolder", size="Medium"),
            _text(_("Describe your problem in your own words: I look for an article that solves it first.")),
        ],
        [_submit(_("My open requests"), "mine")],
    )


def articles(hits: list[tuple[str, str, str]], *, text: str, nonce: str) -> dict[str, Any]:
    """Articles found for the person's words (title, excerpt, URL), then the way to a ticket."""
    body: list[dict[str, Any]] = [
        _text(_("These articles may solve it:") if hits else _("I found no article about this."), weight="Bolder")
    ]
    for title, excerpt, url in hits:
        body.append(_text(f"[{title}]({url})"))
        if excerpt:
            body.append(_text(_clip(excerpt), isSubtle=True, spacing="None"))
    actions = [_submit(_("Open a ticket"), "open", text=text[:2000], n=nonce)]
    if hits:
        actions.insert(0, _submit(_("That solved it"), "solved"))
    return card(body, actions)


def _status(ticket: Ticket) -> str:
    return str(Ticket.Status(ticket.status).label)


def ticket_opened(ticket: Ticket) -> dict[str, Any]:
    return card(
        [
            _text(
                _("Ticket %(ref)s is open: “%(subject)s”. We will get back to you.")
                % {"ref": ticket.reference, "subject": ticket.subject}
            ),
            _text(_("Reply to this message to add to it.")),
        ],
        [_submit(_("See it"), "show", ticket=ticket.pk)],
    )


def my_requests(tickets: list[Ticket]) -> dict[str, Any]:
    if not tickets:
        return card([_text(_("You have no open request."))])
    body = [_text(_("Your open requests"), weight="Bolder", size="Medium")]
    actions = []
    for ticket in tickets:
        body.append(_text(f"**{ticket.reference}** {ticket.subject} — {_status(ticket)}"))
        actions.append(_submit(ticket.reference, "show", ticket=ticket.pk))
    return card(body, actions[:6])


def ticket_view(ticket: Ticket, comments: list[tuple[str, str]], *, can_reply: bool) -> dict[str, Any]:
    """One request with its public conversation (author, text), oldest first, and what the person
    may do now."""
    body: list[dict[str, Any]] = [
        _text(f"{ticket.reference} {ticket.subject}", weight="Bolder", size="Medium"),
        _text(f"{_status(ticket)}. {display.status_explanation(ticket.status)}", isSubtle=True),
    ]
    for author, text in comments:
        body.append(_text(f"**{author}**", spacing="Medium"))
        body.append(_text(_clip(text), spacing="None"))
    actions: list[dict[str, Any]] = []
    if ticket.status == Ticket.Status.RESOLVED:
        actions.append(_submit(_("It is solved"), "confirm", ticket=ticket.pk))
        actions.append(_submit(_("It is not solved"), "reopen", ticket=ticket.pk))
    if can_reply:
        body.append({"type": "Input.Text", "id": "comment", "isMultiline": True, "label": _("Your reply")})
        actions.append(_submit(_("Send"), "reply", ticket=ticket.pk))
    actions.append({"type": "Action.OpenUrl", "title": _("Open in Palier"), "url": absolute(_portal_url(ticket))})
    return card(body, actions)


def _portal_url(ticket: Ticket) -> str:
    return reverse("portal:ticket-detail", args=[ticket.pk])


def rating(ticket: Ticket) -> dict[str, Any]:
    """The satisfaction survey of a finished request."""
    choices = [{"title": "★" * score, "value": str(score)} for score in range(5, 0, -1)]
    return card(
        [
            _text(_("How did we do on %(ref)s?") % {"ref": ticket.reference}, weight="Bolder"),
            {"type": "Input.ChoiceSet", "id": "score", "style": "expanded", "choices": choices, "isRequired": True},
            {"type": "Input.Text", "id": "comment", "isMultiline": True, "label": _("A comment (optional)")},
        ],
        [_submit(_("Send"), "rate", ticket=ticket.pk)],
    )


def done(text: str) -> dict[str, Any]:
    """What an answered card becomes: no more buttons."""
    return card([_text(text)])


def agent_reply(ticket: Ticket, author: str, text: str) -> dict[str, Any]:
    return card(
        [
            _text(f"{ticket.reference} {ticket.subject}", weight="Bolder"),
            _text(f"**{author}**"),
            _text(_clip(text), spacing="None"),
            _text(_("Reply to this message to answer."), isSubtle=True),
        ],
        [_submit(_("See it"), "show", ticket=ticket.pk)],
    )


def resolution(ticket: Ticket) -> dict[str, Any]:
    """A resolution to confirm: solved (closes it) or not (reopens it)."""
    return card(
        [
            _text(f"{ticket.reference} {ticket.subject}", weight="Bolder"),
            _text(_("We think this is solved. Is it?")),
        ],
        [
            _submit(_("It is solved"), "confirm", ticket=ticket.pk),
            _submit(_("It is not solved"), "reopen", ticket=ticket.pk),
        ],
    )


def status_changed(ticket: Ticket, status: str) -> dict[str, Any]:
    label = Ticket.Status(status).label if status in Ticket.Status.values else status
    return card(
        [
            _text(f"{ticket.reference} {ticket.subject}", weight="Bolder"),
            _text(_("Status: %(status)s.") % {"status": label} + " " + display.status_explanation(status)),
        ],
        [_submit(_("See it"), "show", ticket=ticket.pk)],
    )


def assigned(ticket: Ticket) -> dict[str, Any]:
    """For the agent a ticket was assigned to: what it is, and an internal note in one step."""
    return card(
        [
            _text(_("Assigned to you"), weight="Bolder", size="Medium"),
            _text(f"**{ticket.reference}** {ticket.subject} — P{ticket.priority}"),
            _text(_clip(ticket.description), isSubtle=True),
            {"type": "Input.Text", "id": "comment", "isMultiline": True, "label": _("Internal note")},
        ],
        [
            _submit(_("Add the internal note"), "note", ticket=ticket.pk),
            {"type": "Action.OpenUrl", "title": _("Open in Palier"), "url": absolute(_agent_url(ticket))},
        ],
    )


def _agent_url(ticket: Ticket) -> str:
    return reverse("agent:ticket-detail", args=[ticket.pk])


def approval(reference: str, title: str, approval_id: int) -> dict[str, Any]:
    return card(
        [
            _text(_("Your approval is asked"), weight="Bolder", size="Medium"),
            _text(f"**{reference}** {title}"),
            {"type": "Input.Text", "id": "comment", "isMultiline": True, "label": _("Comment (required to reject)")},
        ],
        [
            _submit(_("Approve"), "approve", approval=approval_id),
            _submit(_("Reject"), "reject", approval=approval_id),
        ],
    )
