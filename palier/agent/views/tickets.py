"""The agent's ticket page: timeline, reply box, side panel of inline edits, requester card,
"take it", and presence (who else is viewing, what changed since the page was opened).

htmx requests get partials of ``agent/tickets/detail.html``: ``workspace`` after a reply or
"take it", ``panel_update`` (the panel, plus the timeline and the page's version stamp swapped
out of band) after a side-panel edit, and ``presence`` for the 10-second poll. Plain form posts
get a redirect, so the page works without JavaScript.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.agent import contexts, panel
from palier.agent.forms.timelog import TimeEntryForm, time_source
from palier.agent.forms.worklist import ScheduleForm, TaskForm
from palier.agent.workspace_forms import DraftForm, ReplyForm, StampForm, VersionForm
from palier.assets import selectors as asset_selectors
from palier.changes import selectors as change_selectors
from palier.lib.errors import DomainError, StaleVersion
from palier.lib.uploads import add_upload_errors
from palier.lib.web import agent_required, apply_errors
from palier.macros import services as macro_services
from palier.mail import selectors as mail_selectors
from palier.people.http import AuthedRequest
from palier.sla import selectors as sla_selectors
from palier.tickets import display, permissions, selectors, services
from palier.tickets.models import Comment, ReplyDraft, Ticket
from palier.timelog import selectors as timelog_selectors
from palier.timelog import services as timelog_services
from palier.timelog.models import TimeEntry
from palier.worklist import selectors as worklist_selectors

DETAIL = "agent/tickets/detail.html"
TIMELINE_FOLD_AFTER = 10  # entries shown whole; a longer timeline folds all but the last
TIMELINE_SHOWN = 5


def _context(request: AuthedRequest, ticket: Ticket, *, whole: bool = True, **extra: Any) -> dict[str, Any]:
    """Everything the ticket page shows, fetched with a fixed number of queries (the templates read
    nothing). ``whole=False``: only what the ``panel_update`` partial shows."""
    ticket = selectors.ticket_detail_related(ticket)
    now = timezone.now()
    bound = extra.pop("bound", {})
    page = contexts.ticket_page_extras(request.user, ticket) if whole else {}
    draft = selectors.reply_draft(request.user, ticket) if whole and "reply_form" not in extra else None
    choices = contexts.workspace_choices()
    if whole:
        page |= {"time": timelog_selectors.ticket_time(request.user, ticket, now=now), "time_form": TimeEntryForm()}
        # the ticket's tasks and the agent's scheduled follow-ups: three queries
        page |= {
            "work": worklist_selectors.ticket_work(request.user, ticket),
            "task_form": TaskForm(agents=choices.agents, groups=choices.groups),
            "schedule_form": ScheduleForm(),
        }
        # the affected assets and the requester's assets card: one query each
        page |= {
            "affected_assets": asset_selectors.ticket_assets(request.user, ticket.pk),
            "requester_assets": asset_selectors.requester_assets_card(request.user, ticket.requester),
            "ticket_changes": change_selectors.changes_of_ticket(request.user, ticket.pk),
        }
        page |= contexts.merge_card(request.user, ticket, now=now)
    timeline = display.timeline_items(selectors.ticket_timeline(request.user, ticket), internal=True)
    older, recent = _split_timeline(timeline)
    return {
        "ticket": ticket,
        "timeline": timeline,
        "timeline_older": older,
        "timeline_recent": recent,
        "files": selectors.ticket_files(request.user, ticket),
        "panel": panel.build(request.user, ticket, choices, bound=bound),
        "other_open": selectors.requester_open_tickets(request.user, ticket),
        "viewers": selectors.other_viewers(ticket, request.user, now=now),
        "reply_form": _reply_form(draft) if whole else None,
        "draft": draft,
        "stamp": {"version": ticket.version, "since": now.isoformat()},
        "can_take": ticket.is_open and ticket.assignee_id != request.user.pk,
        "sla": sla_selectors.ticket_sla(ticket, now=now),
        "sla_timeline": sla_selectors.timeline(ticket),
        "email_quotes": mail_selectors.email_quotes(ticket=ticket, user=request.user),
        **page,
        **extra,
    }


def _split_timeline(timeline: list[Any]) -> tuple[list[Any], list[Any]]:
    """A long conversation shows its last entries; the earlier ones are folded (one click, no
    script needed), so the reply box stays close."""
    if len(timeline) <= TIMELINE_FOLD_AFTER:
        return [], timeline
    return timeline[:-TIMELINE_SHOWN], timeline[-TIMELINE_SHOWN:]


def _reply_form(draft: ReplyDraft | None) -> ReplyForm:
    """The reply box, holding the agent's saved draft when there is one."""
    if draft is None:
        return ReplyForm()
    visibility = ReplyForm.INTERNAL if draft.is_internal else ReplyForm.PUBLIC
    return ReplyForm(initial={"body": draft.body, "visibility": visibility})


def _render(request: AuthedRequest, ticket: Ticket, *, status: int = 200, **extra: Any) -> HttpResponse:
    """The ticket page, or only its ``workspace`` partial for htmx requests (htmx swaps 2xx only)."""
    context = _context(request, ticket, **extra)
    if request.htmx:
        return render(request, f"{DETAIL}#workspace", context)
    return render(request, DETAIL, context, status=status)


def _done(request: AuthedRequest, ticket_id: int, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return _render(request, selectors.get_ticket_for(request.user, ticket_id))
    return redirect("agent:ticket-detail", ticket_id=ticket_id)


@agent_required
def ticket_detail(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    if not permissions.works_on(request.user, ticket):  # their own request, handled by others
        return redirect("portal:ticket-detail", ticket_id=ticket.pk)
    return _render(request, ticket)


def _stale_reply(request: AuthedRequest, ticket_id: int, form: ReplyForm, since: datetime | None) -> HttpResponse:
    """The ticket changed while the agent was writing: show what changed and ask to confirm.

    The form keeps the message and now carries the current version, so "Send anyway" goes through.
    """
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    context = _context(request, ticket, reply_form=form)
    context["changes"] = [item for item in context["timeline"] if since is None or item.at > since]
    context["stale_files"] = bool(form.cleaned_data.get("attachments"))
    if request.htmx:
        return render(request, f"{DETAIL}#workspace", context)
    return render(request, DETAIL, context, status=409)


@transaction.atomic
def _reply(request: AuthedRequest, ticket: Ticket, data: dict[str, Any], *, internal: bool) -> Comment:
    """The reply (with its macro) and the time spent on it, in one transaction: if the time is
    refused, the message is not sent either."""
    comment = macro_services.reply_with_macro(
        ticket,
        macro=request.POST.get("macro"),
        by=request.user,
        body=data["body"],
        internal=internal,
        uploads=data["attachments"],
        expected_version=data["version"],
    )
    services.discard_draft(ticket, user=request.user)
    if data.get("minutes"):
        default = TimeEntry.Source.NOTE if internal else TimeEntry.Source.REPLY
        timelog_services.log_time(
            ticket,
            by=request.user,
            minutes=data["minutes"],
            comment=comment,
            source=time_source(data.get("time_source") or "", default=default),
        )
    return comment


@agent_required
@require_POST
def ticket_reply(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    form = ReplyForm(request.POST, request.FILES)
    add_upload_errors(request, form)
    if form.is_valid():
        data = form.cleaned_data
        internal = data["visibility"] == ReplyForm.INTERNAL
        try:
            _reply(request, ticket, data, internal=internal)
        except StaleVersion:
            return _stale_reply(request, ticket_id, form, data["since"])
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            return _done(request, ticket_id, _("Internal note added.") if internal else _("Reply sent."))
    return _render(request, selectors.get_ticket_for(request.user, ticket_id), reply_form=form, status=400)


@agent_required
@require_POST
def ticket_edit(request: AuthedRequest, ticket_id: int, field: str) -> HttpResponse:
    """One side-panel edit (status, priority, group, assignee, category, type, tags, watchers,
    links). It carries the version the agent saw: a stale or invalid edit changes nothing and
    says why next to the field."""
    if field not in panel.EDITORS:
        raise Http404("field")
    ticket = selectors.get_ticket_for(request.user, ticket_id, action="update")
    choices = contexts.workspace_choices()
    form = panel.bind(field, request.POST, ticket, choices)
    if form.is_valid():
        try:
            message = panel.save(field, form, ticket, by=request.user)
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            return _edited(request, ticket_id, message)
    fresh = selectors.get_ticket_for(request.user, ticket_id)
    panel.refresh_version(form, fresh.version)
    if request.htmx:
        context = _context(request, fresh, whole=False, bound={field: form}, stamp_oob=False)
        return render(request, f"{DETAIL}#panel_update", context)
    return _render(request, fresh, bound={field: form}, status=409)


def _edited(request: AuthedRequest, ticket_id: int, message: str) -> HttpResponse:
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    if request.htmx:
        context = _context(request, ticket, whole=False, panel_message=message, stamp_oob=True)
        return render(request, f"{DETAIL}#panel_update", context)
    messages.success(request, message)
    return redirect("agent:ticket-detail", ticket_id=ticket_id)


@agent_required
@require_POST
def ticket_take(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """Assign the ticket to the current agent ("take it"), or say why not."""
    ticket = selectors.get_ticket_for(request.user, ticket_id, action="update")
    form = VersionForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    try:
        services.update_ticket(ticket, by=request.user, expected_version=version, changes={"assignee": request.user})
    except (ValidationError, DomainError) as exc:
        error = exc.message if isinstance(exc, DomainError) else " ".join(exc.messages)
        return _render(request, selectors.get_ticket_for(request.user, ticket_id), take_error=error, status=409)
    return _done(request, ticket_id, _("The ticket is yours."))


@agent_required
@require_POST
def ticket_presence(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """The page's poll: record that I am here; say who else is, and whether the ticket moved."""
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    version, since = StampForm(request.POST).stamp()
    services.see_ticket(ticket, user=request.user)
    changed_by: list[str] = []
    if version is not None and version != ticket.version:
        changed_by = selectors.changed_by_since(ticket, request.user, since=since)
    context = {
        "ticket": ticket,
        "viewers": selectors.other_viewers(ticket, request.user),
        "changed_by": changed_by,
    }
    return render(request, f"{DETAIL}#presence", context)


@agent_required
@require_POST
def ticket_draft(request: AuthedRequest, ticket_id: int) -> HttpResponse:
    """The reply box's autosave: keep my unsent reply (an empty text forgets it). Only mine: the
    draft is keyed by the signed-in agent, on a ticket they can see."""
    ticket = selectors.get_ticket_for(request.user, ticket_id)
    form = DraftForm(request.POST)
    if not form.is_valid():
        return render(request, f"{DETAIL}#draft_status", {"draft_error": True}, status=400)
    data = form.cleaned_data
    try:
        draft = services.save_draft(
            ticket, user=request.user, body=data["body"], internal=data["visibility"] == ReplyForm.INTERNAL
        )
    except (ValidationError, DomainError):
        return render(request, f"{DETAIL}#draft_status", {"draft_error": True}, status=400)
    if not request.htmx:
        messages.success(request, _("Draft saved.") if draft else _("Draft discarded."))
        return redirect("agent:ticket-detail", ticket_id=ticket_id)
    return render(request, f"{DETAIL}#draft_status", {"draft": draft, "draft_saved": True})
