"""The known-error base for agents (/agent/problems/known-errors/, ``known_errors:``): the search
page, and "Apply the workaround" from the suggestions on a ticket page. The rules live in
``palier.problems.search`` and ``palier.problems.services.known_errors``."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.lib.errors import DomainError
from palier.lib.web import agent_required
from palier.people.http import AuthedRequest
from palier.problems import search
from palier.problems.services import known_errors
from palier.tickets import selectors as ticket_selectors


def _offset(raw: str | None) -> int:
    try:
        return max(0, min(int(raw or 0), search.MAX_OFFSET))
    except ValueError:
        return 0


@agent_required
def known_error_list(request: AuthedRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:200]
    any_status = request.GET.get("all") == "1"
    offset = _offset(request.GET.get("offset"))
    page = search.search_problems(request.user, query, any_status=any_status, offset=offset)
    context = {"query": query, "any_status": any_status, "page": page, "offset": offset}
    return render(request, "agent/known_errors/list.html", context)


@agent_required
@require_POST
def apply_workaround(request: AuthedRequest, ticket_id: int, problem_id: int) -> HttpResponse:
    ticket = ticket_selectors.get_ticket_for(request.user, ticket_id)
    problem = search.problem_for(request.user, problem_id)
    if problem is None:
        raise Http404("problem")
    try:
        known_errors.apply_workaround(ticket, problem, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
    else:
        messages.success(
            request,
            _("The workaround of %(ref)s was sent to the requester and the incident is linked to it.")
            % {"ref": problem.reference},
        )
    return redirect(reverse("agent:ticket-detail", args=[ticket.pk]))
