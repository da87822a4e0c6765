"""Rule actions without the database: the list of actions, their parameters and validation.

An action is ``{"type": "set_status", "value": "resolved"}``; parameters by type:

- ``set_status`` / ``set_priority`` / ``set_group`` / ``set_assignee`` / ``set_category``: ``value``
  (a status, 1-4, or the id of a group, agent or category);
- ``add_tags`` / ``remove_tags``: ``value`` (comma-separated tags);
- ``escalate``: ``text`` (the reason, optional); ``note``: ``text`` (an internal note);
- ``email``: ``to`` (requester, assignee, group, manager or address), ``address`` for a fixed address,
  ``subject`` and ``text`` with placeholders such as ``{reference}``, or a built-in ``template``;
- ``chat``: ``value`` (a chat app with a channel URL) and ``text``;
- ``webhook``: ``url`` (a JSON POST signed with the rule's secret); ``close``: nothing;
- ``link_asset``: ``value`` (an asset tag); ``link_requester_asset``: ``value`` (an asset type
  identifier, e.g. ``laptop``: the requester's first such asset in use);
- ``link_problem``: ``value`` (a problem's reference, ``PRB-12``): link the incident to it;
- ``add_tasks``: ``value`` (the id of a task template): add its tasks to the ticket's checklist.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palier.tickets.models import Ticket

ACTIONS: dict[str, Any] = {
    "set_status": gettext_lazy("Set the status"),
    "set_priority": gettext_lazy("Set the priority"),
    "set_group": gettext_lazy("Assign to a group"),
    "set_assignee": gettext_lazy("Assign to an agent"),
    "set_category": gettext_lazy("Set the category"),
    "add_tags": gettext_lazy("Add tags"),
    "remove_tags": gettext_lazy("Remove tags"),
    "escalate": gettext_lazy("Escalate"),
    "note": gettext_lazy("Add an internal note"),
    "email": gettext_lazy("Send an email"),
    "chat": gettext_lazy("Post to a Teams or Slack channel"),
    "webhook": gettext_lazy("Call a webhook"),
    "close": gettext_lazy("Close the ticket"),
    "link_asset": gettext_lazy("Link the asset with this tag"),
    "link_requester_asset": gettext_lazy("Link the requester's asset of this type"),
    "link_problem": gettext_lazy("Link the incident to the problem (PRB-n)"),
    "add_tasks": gettext_lazy("Add the tasks of a task template"),
}

RECIPIENTS: dict[str, Any] = {
    "requester": gettext_lazy("the requester"),
    "assignee": gettext_lazy("the assignee"),
    "group": gettext_lazy("the group's members"),
    "manager": gettext_lazy("the group's manager"),
    "address": gettext_lazy("a fixed address"),
}

# built-in email templates (rendered in each recipient's language): name -> label
TEMPLATES: dict[str, Any] = {
    "reminder": gettext_lazy("Reminder: we are waiting for your answer"),
    "p1_opened": gettext_lazy("A P1 ticket was opened"),
}

# placeholders of custom email subjects and bodies, chat messages and notes
PLACEHOLDERS = ("reference", "subject", "status", "priority", "group", "assignee", "requester", "link", "rule")

REFERENCE_ACTIONS = {
    "set_group": "group",
    "set_assignee": "user",
    "set_category": "category",
    "chat": "chat",
    "add_tasks": "task_template",
}
MAX_TEXT = 5000
_TAG_SPLIT = re.compile(r"[,\s]+")
_PROBLEM = re.compile(r"^(?:PRB-?)?(\d{1,12})$", re.IGNORECASE)


def split_tags(text: str) -> list[str]:
    return sorted({t.strip().lower()[:50] for t in _TAG_SPLIT.split(text or "") if t.strip()})


def _text(
    action: Mapping[str, Any],
    name: str,
    *,
    required: bool,
    maximum: int = MAX_TEXT,
    known: Sequence[str] = PLACEHOLDERS,
) -> str:
    value = str(action.get(name) or "").replace("\x00", "").strip()
    if required and not value:
        raise ValueError(_("Enter the text."))
    if len(value) > maximum:
        raise ValueError(_("At most %(n)d characters.") % {"n": maximum})
    check_placeholders(value, known)
    return value


def text_param(
    action: Mapping[str, Any],
    name: str,
    *,
    required: bool,
    maximum: int = MAX_TEXT,
    known: Sequence[str] = PLACEHOLDERS,
) -> str:
    """A text parameter of an action, its placeholders among ``known``, or ``ValueError``."""
    return _text(action, name, required=required, maximum=maximum, known=known)


def check_placeholders(text: str, known: Sequence[str] = PLACEHOLDERS) -> None:
    try:
        names = {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    except ValueError:
        raise ValueError(_("Braces must enclose a placeholder such as {reference}.")) from None
    unknown = sorted(names - set(known))
    if unknown:
        raise ValueError(
            _("Unknown placeholder {%(name)s}; use %(known)s.") % {"name": unknown[0], "known": placeholder_list(known)}
        )


def placeholder_list(known: Sequence[str] = PLACEHOLDERS) -> str:
    return ", ".join("{" + name + "}" for name in known)


def clean_url(action: Mapping[str, Any]) -> str:
    """A webhook address the desk may call: https (http only with ``PALIER_WEBHOOKS_ALLOW_HTTP``),
    no credentials, and not a private, loopback or link-local address written as such (a name is
    checked again at each delivery, after resolving it; ``PALIER_WEBHOOKS_ALLOW_PRIVATE``)."""
    import ipaddress

    from django.conf import settings

    from palier.integrations import outbound

    url = str(action.get("url") or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValueError(_("Enter a valid http(s) address.")) from None
    try:
        target = outbound.parse_target(url, allow_http=settings.PALIER_WEBHOOKS_ALLOW_HTTP)
    except outbound.UnsafeTarget as exc:
        raise ValueError(str(exc)) from None
    try:
        literal = ipaddress.ip_address(target.host.strip("[]"))
    except ValueError:
        literal = None
    local = target.host.lower() == "localhost" or target.host.lower().endswith(".localhost")
    if not settings.PALIER_WEBHOOKS_ALLOW_PRIVATE and (local or (literal and not outbound.is_public(str(literal)))):
        raise ValueError(_("The address leads to a private or local network, which is not allowed."))
    return url


def _reference(action: Mapping[str, Any]) -> int:
    try:
        value = int(action.get("value") or 0)
    except (TypeError, ValueError):
        value = 0
    if value <= 0:
        raise ValueError(_("Choose a value from the list."))
    return value


def _email(action: Mapping[str, Any]) -> dict[str, Any]:
    to = action.get("to") or ""
    if to not in RECIPIENTS:
        raise ValueError(_("Choose who receives the email."))
    cleaned: dict[str, Any] = {"type": "email", "to": to}
    if to == "address":
        address = str(action.get("address") or "").strip()
        try:
            validate_email(address)
        except ValidationError:
            raise ValueError(_("Enter a valid email address.")) from None
        cleaned["address"] = address
    template = action.get("template") or ""
    if template:
        if template not in TEMPLATES:
            raise ValueError(_("Unknown email template."))
        cleaned["template"] = template
        return cleaned
    cleaned["subject"] = _text(action, "subject", required=True, maximum=200)
    cleaned["text"] = _text(action, "text", required=True)
    return cleaned


def clean_action(action: Mapping[str, Any]) -> dict[str, Any]:  # noqa: C901  (one branch per action type)
    """A validated action, or ``ValueError`` with a sentence for the form."""
    kind = action.get("type")
    if kind not in ACTIONS:
        raise ValueError(_("Choose an action."))
    if kind == "set_status":
        if action.get("value") not in Ticket.Status.values:
            raise ValueError(_("Choose a status."))
        return {"type": kind, "value": action["value"]}
    if kind == "set_priority":
        if str(action.get("value")) not in ("1", "2", "3", "4"):
            raise ValueError(_("The priority must be between 1 and 4."))
        return {"type": kind, "value": int(action["value"])}
    if kind in REFERENCE_ACTIONS:
        cleaned = {"type": kind, "value": _reference(action)}
        if kind == "chat":
            cleaned["text"] = _text(action, "text", required=True, maximum=2000)
        return cleaned
    if kind in ("add_tags", "remove_tags"):
        tags = split_tags(str(action.get("value") or ""))
        if not tags:
            raise ValueError(_("Enter at least one tag."))
        return {"type": kind, "value": ", ".join(tags)}
    if kind in ("link_asset", "link_requester_asset"):
        value = str(action.get("value") or "").strip()
        if not value:
            raise ValueError(_("Enter an asset tag.") if kind == "link_asset" else _("Enter an asset type identifier."))
        if len(value) > 64:
            raise ValueError(_("At most %(n)d characters.") % {"n": 64})
        return {"type": kind, "value": value if kind == "link_asset" else value.lower()}
    if kind == "link_problem":
        match = _PROBLEM.match(str(action.get("value") or "").strip())
        if match is None:
            raise ValueError(_("Enter a problem's reference, such as PRB-12."))
        return {"type": kind, "value": f"PRB-{int(match.group(1))}"}
    if kind in ("escalate", "note"):
        return {"type": kind, "text": _text(action, "text", required=kind == "note")}
    if kind == "email":
        return _email(action)
    if kind == "webhook":
        return {"type": kind, "url": clean_url(action)}
    return {"type": kind}


def clean_actions(actions: Any) -> list[dict[str, Any]]:
    if not isinstance(actions, list) or not actions:
        raise ValidationError({"actions": _("Add at least one action.")})
    cleaned = []
    for index, action in enumerate(actions):
        try:
            cleaned.append(clean_action(action if isinstance(action, Mapping) else {}))
        except ValueError as exc:
            raise ValidationError({"actions": _("Action %(n)d: %(error)s") % {"n": index + 1, "error": exc}}) from None
    return cleaned


def references(actions: Sequence[Mapping[str, Any]]) -> list[tuple[str, int]]:
    """(reference kind, id) of every group, agent, category and chat app the actions name."""
    return [(REFERENCE_ACTIONS[a["type"]], int(a["value"])) for a in actions if a.get("type") in REFERENCE_ACTIONS]


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace the placeholders (validated on save; an unknown one is left as it is)."""
    try:
        return string.Formatter().vformat(text, (), _Defaulting(values))
    except (ValueError, IndexError):
        return text


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
