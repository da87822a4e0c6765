"""Personal chat with the bot: what a person says or clicks, and what the bot answers.

- Someone the bot does not know gets a one-time link: signed in to Palier, they confirm that this
  Teams account is theirs (``services.confirm_link``). Only that link, or an administrator's, makes
  the bot act for an account: the Bot Framework does not say whether an email is verified.
- Words describing a problem get the matching knowledge-base articles first, in the person's
  language, then an "Open a ticket" button (channel "teams").
- "my requests" lists the open ones; a request's card shows its public conversation, takes a
  reply (a public comment, channel "teams"), confirms a resolution or reopens, and rates it.
- A reply to a message the bot sent about a ticket (``SentMessage``) is a comment on that ticket.
- Approvals asked of the person are decided from their card (``catalog``'s ``decide``, via "teams").

Every button goes through the same services and permissions as the pages. A click is acted on
once: the same button of the same card with the same inputs a second time changes nothing
(``ChatEvent`` keyed by the card's message id, the verb and the inputs).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from palier.catalog import selectors as catalog_selectors
from palier.catalog.models import Approval
from palier.catalog.services import approvals as approval_engine
from palier.integrations.models import ChatApp, ChatEvent
from palier.integrations.services import chat
from palier.kb import search as kb_search
from palier.lib.errors import DomainError
from palier.people.models import User
from palier.surveys import services as surveys
from palier.teamsbot import cards, connector
from palier.teamsbot.models import Conversation, SentMessage
from palier.teamsbot.services import Received, complete_link, link_url
from palier.tickets import selectors as ticket_selectors
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket

ARTICLES = 3
OPEN_LIST = 6
COMMENTS = 5
HELP_WORDS = {"help", "aide", "?", "bonjour", "hello", "hi", "salut"}
MINE_WORDS = {"my requests", "mes demandes", "requests", "demandes", "list", "liste", "mes tickets", "my tickets"}
CHANGING = {"open", "reply", "note", "confirm", "reopen", "rate", "approve", "reject"}
S = Ticket.Status


class _Turn:
    """One activity being answered: where to, for whom, and what to send."""

    def __init__(self, app: ChatApp, activity: dict[str, Any], conversation: Conversation | None) -> None:
        self.app = app
        self.activity = activity
        self.conversation = conversation
        self.replies: list[dict[str, Any]] = []
        self.counter = 0

    def say(self, activity: dict[str, Any], *, ticket: Ticket | None = None) -> None:
        self.replies.append(activity)
        if self.conversation is None:
            return
        self.counter += 1
        key = f"teams:{self.activity.get('id')}:{self.conversation.pk}:{self.counter}"
        connector.queue(self.conversation, activity, key=key, ticket_id=ticket.pk if ticket else None)

    def replace_card(self, content: dict[str, Any]) -> None:
        """Answer a click on a card by replacing it (Action.Submit: through the connector)."""
        message_id = str(self.activity.get("replyToId") or "")
        if self.conversation is None or not message_id:
            self.say(cards.message(content))
            return
        key = f"teams:{self.activity.get('id')}:update"
        connector.queue(self.conversation, cards.message(content), key=key, update_id=message_id)


def _language(user: User | None, activity: dict[str, Any]) -> str:
    return chat.language_for(user, str(activity.get("locale") or ""))


def handle(app: ChatApp, activity: dict[str, Any], conversation: Conversation | None) -> Received:
    """Answer one stored activity (in a transaction). Only personal conversations are served."""
    kind = activity.get("type")
    aad = str((activity.get("from") or {}).get("aadObjectId") or "")
    user = chat.identify_linked(ChatApp.Kind.TEAMS, external_id=aad)
    if conversation is not None and user is not None and conversation.user_id != user.pk:
        Conversation.objects.filter(pk=conversation.pk).update(user=user)
        conversation.user = user
    turn = _Turn(app, activity, conversation)
    with translation.override(_language(user, activity)):
        if kind == "conversationUpdate":
            return _installed(turn, user)
        if conversation is None:
            if kind == "message":
                turn.say(cards.text_message(_("Write to me in a personal chat: I do not answer in channels.")))
            return Received("ignored", replies=turn.replies)
        if user is None:
            return _stranger(turn, conversation, str(kind))
        if kind == "invoke":
            return _invoke(turn, user)
        if kind != "message":
            return Received("ignored")
        value = activity.get("value")
        if isinstance(value, dict) and isinstance(value.get("palier"), str):
            updated = _act(turn, user, value["palier"], value)
            if updated is not None:
                turn.replace_card(updated)
        else:
            _message(turn, user, str(activity.get("text") or ""))
        return Received("handled", replies=turn.replies)


def _stranger(turn: _Turn, conversation: Conversation, kind: str) -> Received:
    """Someone the bot does not know: the code Palier showed them completes the link; anything
    else gets the link to confirm who they are."""
    text = turn.activity.get("text")
    if kind == "message" and isinstance(text, str):
        user = complete_link(conversation, _clean_text(text))
        if user is not None:
            with translation.override(_language(user, turn.activity)):
                turn.say(cards.message(cards.welcome(user)))
            return Received("handled", replies=turn.replies)
    if kind in ("message", "invoke"):
        turn.say(cards.message(cards.link_account(link_url(turn.app, conversation.aad_object_id))))
    return Received("handled", replies=turn.replies, invoke=_invoke_ok() if kind == "invoke" else None)


def _installed(turn: _Turn, user: User | None) -> Received:
    """The bot added to a personal scope: say hello (or how to link the account)."""
    bot_id = str((turn.activity.get("recipient") or {}).get("id") or "")
    added = turn.activity.get("membersAdded") or []
    if turn.conversation is None or not any(isinstance(m, dict) and m.get("id") == bot_id for m in added):
        return Received("ignored")
    if user is None:
        turn.say(cards.message(cards.link_account(link_url(turn.app, turn.conversation.aad_object_id))))
    else:
        turn.say(cards.message(cards.help_card()))
    return Received("handled", replies=turn.replies)


def _invoke_ok() -> dict[str, Any]:
    return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": ""}


def _invoke(turn: _Turn, user: User) -> Received:
    """Action.Execute (``adaptiveCard/action``): the answer is the updated card itself."""
    if turn.activity.get("name") != "adaptiveCard/action":
        return Received("ignored", invoke={"statusCode": 200})
    value = turn.activity.get("value")
    action = value.get("action") if isinstance(value, dict) else None
    action = action if isinstance(action, dict) else {}
    data: dict[str, Any] = action["data"] if isinstance(action.get("data"), dict) else {}
    verb = str(action.get("verb") or data.get("palier") or "")
    updated = _act(turn, user, verb, data)
    if updated is None:
        return Received("handled", invoke=_invoke_ok(), replies=turn.replies)
    body = {"statusCode": 200, "type": cards.CARD, "value": updated}
    return Received("handled", invoke=body, replies=turn.replies)


# --- text ------------------------------------------------------------------------------------------------


def _clean_text(raw: str) -> str:
    from palier.integrations.services.teams import message_text

    return message_text(raw)[:4000]


def _message(turn: _Turn, user: User, raw: str) -> None:
    text = _clean_text(raw)
    lowered = text.lower().strip(" .!?")
    if not text or lowered in HELP_WORDS:
        turn.say(cards.message(cards.help_card()))
        return
    if lowered in MINE_WORDS:
        _mine(turn, user)
        return
    ticket = _threaded_ticket(turn, user)
    if ticket is not None:
        _reply(turn, user, ticket, text)
        return
    _deflect(turn, user, text)


def _threaded_ticket(turn: _Turn, user: User) -> Ticket | None:
    """The ticket a reply answers: the bot's message it replies to was about it."""
    reply_to = str(turn.activity.get("replyToId") or "")
    if not reply_to or turn.conversation is None:
        return None
    sent = SentMessage.objects.filter(conversation=turn.conversation, activity_id=reply_to).first()
    if sent is None:
        return None
    try:
        return ticket_selectors.get_ticket_for(user, sent.ticket_id)
    except Http404:
        return None


def _deflect(turn: _Turn, user: User, text: str) -> None:
    """The articles first; the button to open a ticket carries the words."""
    language = kb_search.reader_language()
    hits = kb_search.search_articles(user, text, language, ARTICLES, any_word=True)
    rows = [
        (
            hit.translation.title,
            str(hit.translation.summary or "")[:300],
            cards.absolute(reverse("kb:article", args=[hit.article.pk])),
        )
        for hit in hits
    ]
    turn.say(cards.message(cards.articles(rows, text=text, nonce=secrets.token_urlsafe(8))))


def _mine(turn: _Turn, user: User) -> None:
    open_statuses = [s for s in S.values if s not in (S.RESOLVED, S.CLOSED, S.CANCELLED)]
    tickets = list(
        ticket_selectors.tickets_visible_to(user)
        .filter(requester=user, status__in=open_statuses)
        .order_by("-created_at")[:OPEN_LIST]
    )
    turn.say(cards.message(cards.my_requests(tickets)))


def _show(turn: _Turn, user: User, ticket: Ticket) -> None:
    comments = list(
        ticket_selectors.comments_visible(user, ticket).filter(is_internal=False).select_related("author")
        .order_by("-created_at")[:COMMENTS]
    )  # fmt: skip
    rows = [(c.author.full_name if c.author else "", c.body) for c in reversed(comments)]
    can_reply = ticket.status not in (S.CLOSED, S.CANCELLED)
    turn.say(cards.message(cards.ticket_view(ticket, rows, can_reply=can_reply)), ticket=ticket)


def _reply(turn: _Turn, user: User, ticket: Ticket, text: str) -> None:
    ticket_services.comment_on_ticket(ticket, by=user, body=text, channel=Ticket.Channel.TEAMS)
    turn.say(
        cards.text_message(_("Added to %(ref)s.") % {"ref": ticket.reference}),
        ticket=ticket,
    )


# --- card actions ----------------------------------------------------------------------------------------


def _first_click(turn: _Turn, verb: str, data: dict[str, Any]) -> bool:
    """False when this button of this card was already acted on with the same inputs."""
    card_id = str(turn.activity.get("replyToId") or "")
    fingerprint = json.dumps(data, sort_keys=True, default=str)
    raw = f"{turn.activity.get('conversation', {}).get('id')}|{card_id}|{verb}|{fingerprint}"
    key = "click:" + hashlib.sha256(raw.encode()).hexdigest()
    try:
        with transaction.atomic():
            ChatEvent.objects.create(app=turn.app, event_id=key)
    except IntegrityError:
        return False
    return True


def _ticket(user: User, data: dict[str, Any]) -> Ticket | None:
    try:
        return ticket_selectors.get_ticket_for(user, int(data.get("ticket")))  # type: ignore[arg-type]
    except (Http404, TypeError, ValueError):
        return None


def _act(turn: _Turn, user: User, verb: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """Do what a button asks; returns the card that replaces the clicked one, if it changes."""
    said = len(turn.replies)
    try:
        with transaction.atomic():  # refused: nothing of it stays, the click may be tried again
            if verb in CHANGING and not _first_click(turn, verb, data):
                return cards.done(_("Already done: nothing was changed."))
            return _do(turn, user, verb, data)
    except (DomainError, ValidationError, PermissionDenied) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        del turn.replies[said:]
        return cards.done(_("Not done: %(why)s") % {"why": message})


def _do(turn: _Turn, user: User, verb: str, data: dict[str, Any]) -> dict[str, Any] | None:
    if verb == "mine":
        _mine(turn, user)
        return None
    if verb == "solved":
        return cards.done(_("Glad it is solved. Write to me whenever you need help."))
    if verb == "open":
        text = str(data.get("text") or "").strip()[:4000]
        if not text:
            return cards.done(_("Describe the problem first."))
        ticket = chat.open_ticket_from_chat(app=turn.app, user=user, text=text)
        turn.say(cards.message(cards.ticket_opened(ticket)), ticket=ticket)
        return cards.done(_("Ticket %(ref)s is open.") % {"ref": ticket.reference})
    if verb in ("approve", "reject"):
        return _decide(user, verb, data)
    target = _ticket(user, data)
    if target is None:
        return cards.done(_("This request was not found."))
    return _on_ticket(turn, user, verb, target, data)


def _on_ticket(turn: _Turn, user: User, verb: str, ticket: Ticket, data: dict[str, Any]) -> dict[str, Any] | None:
    """A button about one of the person's requests (already checked visible to them)."""
    if verb == "show":
        _show(turn, user, ticket)
        return None
    if verb == "reply":
        text = str(data.get("comment") or "").strip()
        if not text:
            raise ValidationError(_("Write your reply first."))
        _reply(turn, user, ticket, text)
        return cards.done(_("Your reply was added to %(ref)s.") % {"ref": ticket.reference})
    if verb == "note":
        text = str(data.get("comment") or "").strip()
        if not text:
            raise ValidationError(_("Write the note first."))
        ticket_services.comment_on_ticket(ticket, by=user, body=text, internal=True, channel=Ticket.Channel.TEAMS)
        return cards.done(_("Internal note added to %(ref)s.") % {"ref": ticket.reference})
    if verb == "confirm":
        ticket = ticket_services.transition_ticket(ticket, to=S.CLOSED, by=user)
        if surveys.surveys_wanted(ticket):
            turn.say(cards.message(cards.rating(ticket)), ticket=ticket)
        return cards.done(_("Thanks, %(ref)s is closed.") % {"ref": ticket.reference})
    if verb == "reopen":
        ticket_services.transition_ticket(ticket, to=S.IN_PROGRESS, by=user)
        return cards.done(_("%(ref)s is reopened: tell us what is still wrong.") % {"ref": ticket.reference})
    if verb == "rate":
        try:
            score = int(str(data.get("score") or ""))
        except ValueError as exc:
            raise ValidationError(_("Choose a score.")) from exc
        surveys.answer_survey(ticket=ticket, requester=user, score=score, comment=str(data.get("comment") or ""))
        return cards.done(_("Thanks for your answer."))
    return None


def _decide(user: User, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    """An approval from its card: only the person asked, once, a reason to reject."""
    try:
        approval_id = int(data.get("approval"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        approval_id = 0
    approval = catalog_selectors.approvals_waiting_for(user).filter(pk=approval_id).first()
    if approval is None:
        return cards.done(_("Nothing waits for your decision here any more."))
    decision = Approval.Decision.APPROVED if verb == "approve" else Approval.Decision.REJECTED
    try:
        approval_engine.decide(
            approval=approval, decision=decision, comment=str(data.get("comment") or ""), by=user, via="teams"
        )
    except approval_engine.AlreadyDecided:
        return cards.done(_("This was already decided."))
    if decision == Approval.Decision.APPROVED:
        return cards.done(_("You approved it."))
    return cards.done(_("You rejected it."))
