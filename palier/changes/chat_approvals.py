"""Approvals decided from Slack and Microsoft Teams (docs/integrations.md, "Approvals in chat").

Any approval of the one approval engine (a catalog request's, a change's) can be listed,
approved or rejected with a chat command (``approvals``, ``approve CHG-12 [comment]``,
``reject CHG-12 <why>``; in French ``approbations``, ``approuver``, ``refuser``), and an approver
linked to a Slack account gets each new request as a direct message with an Approve button when
the Slack app has a bot token. Every decision goes through ``catalog.services.approvals.decide``
with the same rules as the pages: only the person asked, once, a reason to reject.

Who is deciding is the chat account an administrator linked to a Palier account (``ChatIdentity``);
the signature of the request proves the chat platform sent it. An email carried by a payload is not
enough to decide (the chats' ticket commands accept it; approvals do not).

This module sits in ``changes``, the lowest app above both the approval engine (``catalog``) and
the chats (``integrations``), which call it through ``palier/events.py`` (``CHAT_APPROVALS``,
``APPROVAL_ASKED``, and the outbox handler ``chat.approval_request``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from palier.catalog import selectors as catalog_selectors
from palier.catalog.models import Approval
from palier.catalog.services import approvals as engine
from palier.core import outbox
from palier.integrations import outbound
from palier.integrations import selectors as chat_selectors
from palier.integrations.models import ChatApp
from palier.lib.errors import DomainError
from palier.people.models import User

LIST_LIMIT = 10
OUTBOX_KIND = "chat.approval_request"


def _reference(approval: Approval) -> str:
    view = getattr(approval, "subject_view", None)
    if view is not None:
        return str(view.reference)
    submission = approval.step.submission
    return submission.ticket.reference if submission is not None else f"#{approval.pk}"


def _title(approval: Approval) -> str:
    view = getattr(approval, "subject_view", None)
    if view is not None:
        return str(view.title)
    submission = approval.step.submission
    return submission.item.name if submission is not None else ""


def _waiting(user: User) -> list[Approval]:
    return catalog_selectors.with_subjects(catalog_selectors.approvals_waiting_for(user)[:200])


def _find(user: User, word: str) -> Approval | None:
    """The approval waiting for ``user`` named by its subject's reference (``CHG-12``) or, from a
    button, by its number (``#41``)."""
    wanted = word.strip().upper()
    for approval in _waiting(user):
        if wanted == f"#{approval.pk}" or _reference(approval).upper() == wanted:
            return approval
    return None


def handle(user: User, action: str, argument: str, via: str) -> str:
    """Answer one approval command of ``user`` (already in their language)."""
    if action == "approvals":
        waiting = _waiting(user)
        if not waiting:
            return _("Nothing waits for your approval.")
        lines = [f"{_reference(a)} — {_title(a)}" for a in waiting[:LIST_LIMIT]]
        more = len(waiting) - LIST_LIMIT
        if more > 0:
            lines.append(_("… and %(n)d more on the “My approvals” page.") % {"n": more})
        return _("Waiting for your approval:") + "\n" + "\n".join(lines)
    word, _sp, comment = argument.strip().partition(" ")
    if not word:
        return _("Name what you decide: “approve CHG-12” or “reject CHG-12 <why>”.")
    approval = _find(user, word)
    if approval is None:
        return _("Nothing named %(ref)s waits for your approval (already decided, or not asked of you).") % {
            "ref": word[:40]
        }
    reference = _reference(approval)
    comment = comment.strip()
    if action == "reject" and not comment:
        return _("Say why you reject it, the requester reads it: “reject %(ref)s <why>”.") % {"ref": reference}
    decision = Approval.Decision.APPROVED if action == "approve" else Approval.Decision.REJECTED
    try:
        engine.decide(approval=approval, decision=decision, comment=comment, by=user, via=via)
    except engine.AlreadyDecided:
        return _("%(ref)s was already decided.") % {"ref": reference}
    except (DomainError, ValidationError) as exc:
        message = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        return _("%(ref)s: not recorded. %(why)s") % {"ref": reference, "why": message}
    if decision == Approval.Decision.APPROVED:
        return _("You approved %(ref)s.") % {"ref": reference}
    return _("You rejected %(ref)s.") % {"ref": reference}


# --- approval requests as Slack direct messages ---------------------------------------------------------


def asked(approvals: list[Approval]) -> None:
    """New approvals (in the asking transaction): one direct message each, for approvers linked to
    Slack, when a Slack app may send them. Recorded in the outbox under the approval's key: sent once."""
    if not approvals or chat_selectors.messaging_slack_app() is None:
        return
    linked = chat_selectors.linked_chat_ids(ChatApp.Kind.SLACK, [a.approver_id for a in approvals])
    for approval in approvals:
        if approval.approver_id in linked:
            outbox.add(OUTBOX_KIND, key=f"chat-approval-{approval.pk}", payload={"approval": approval.pk})


def message(approval: Approval) -> dict[str, Any]:
    """The direct message of an approval request: what is asked, and the buttons."""
    reference, title = _reference(approval), _title(approval)
    text = _("Your approval is requested: %(ref)s — %(title)s") % {"ref": reference, "title": title}
    how = _("Approve here, or write “/ticket reject %(ref)s <why>” to reject it.") % {"ref": reference}
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "plain_text", "text": text[:3000]}},
            {"type": "context", "elements": [{"type": "plain_text", "text": how[:2000]}]},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "approval_approve",
                        "style": "primary",
                        "value": str(approval.pk),
                        "text": {"type": "plain_text", "text": _("Approve")},
                    },
                    {
                        "type": "button",
                        "action_id": "approval_reject",
                        "style": "danger",
                        "value": str(approval.pk),
                        "text": {"type": "plain_text", "text": _("Reject…")},
                    },
                ],
            },
        ],
    }


def send_request(payload: dict[str, Any]) -> None:
    """Outbox handler: post the direct message, if the approval still waits and Slack may be used."""
    from django.utils import translation

    from palier.integrations.services.chat import language_for

    approval = catalog_selectors.approval_for_link(int(payload["approval"]))
    if approval is None or approval.decision != Approval.Decision.PENDING:
        return
    app = chat_selectors.messaging_slack_app()
    token = chat_selectors.chat_bot_token(app) if app is not None else ""
    channel = chat_selectors.linked_chat_ids(ChatApp.Kind.SLACK, [approval.approver_id]).get(approval.approver_id)
    if app is None or not token or not channel:
        return
    described = catalog_selectors.with_subjects([approval])[0]
    with translation.override(language_for(approval.approver)):
        body = {"channel": channel, **message(described)}
    try:
        outbound.call_slack("chat.postMessage", token=token, payload=body)
    except outbound.DeliveryError as exc:
        if not exc.retryable:
            raise outbox.Permanent(str(exc)) from exc
        raise
