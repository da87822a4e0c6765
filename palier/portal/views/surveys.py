"""Survey answer pages, mounted at /surveys/answer/: the signed answer page (opened from the email
or the portal; GET only shows the form, so mail scanners following links change nothing) and its
thanks page."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from palier.lib.errors import DomainError
from palier.lib.web import apply_errors
from palier.portal.forms.surveys import AnswerForm
from palier.surveys import selectors, services, tokens
from palier.tickets.models import Ticket


def _refused(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    return render(request, "portal/surveys/invalid.html", {"message": message}, status=status)


def _ticket_for(request: HttpRequest, token: str) -> Ticket | HttpResponse:
    """The ticket the link is about, or the page saying why the link cannot be used."""
    try:
        claim = tokens.read_token(token)
    except tokens.ExpiredToken:
        return _refused(
            request, _("This survey link has expired. You can still rate the request from its page in the portal."),
            status=410,
        )  # fmt: skip
    except tokens.InvalidToken:
        return _refused(request, _("This survey link is not valid. Copy the whole address from the email."), status=400)
    ticket = selectors.ticket_to_rate(ticket_id=claim.ticket_id, requester_id=claim.requester_id)
    if ticket is None:
        return _refused(request, _("This survey link is not valid. Copy the whole address from the email."), status=400)
    if request.user.is_authenticated and request.user.pk != claim.requester_id:
        return _refused(request, _("This survey was sent to someone else."), status=403)
    return ticket


def _initial(request: HttpRequest, response: Any) -> dict[str, Any]:
    score = request.GET.get("score", "")
    initial: dict[str, Any] = {"comment": response.comment if response else ""}
    if score.isdigit() and int(score) in services.SCORES:
        initial["score"] = int(score)
    elif response is not None:
        initial["score"] = response.score
    return initial


def answer(request: HttpRequest, token: str) -> HttpResponse:
    found = _ticket_for(request, token)
    if isinstance(found, HttpResponse):
        return found
    ticket = found
    response = selectors.response_for_ticket(ticket)
    locked = response is not None and not services.can_change(response)
    form = AnswerForm(
        request.POST if request.method == "POST" and not locked else None, initial=_initial(request, response)
    )
    if form.is_bound and form.is_valid():
        try:
            services.answer_survey(
                ticket=ticket, requester=ticket.requester, score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )  # fmt: skip
        except (ValidationError, DomainError) as exc:
            apply_errors(form, exc)
        else:
            return redirect("surveys:thanks", token=token)
    context = {"ticket": ticket, "form": form, "response": response, "locked": locked}
    status = 400 if form.is_bound else (409 if locked and request.method == "POST" else 200)
    return render(request, "portal/surveys/answer.html", context, status=status)


def thanks(request: HttpRequest, token: str) -> HttpResponse:
    found = _ticket_for(request, token)
    if isinstance(found, HttpResponse):
        return found
    context = {"ticket": found, "response": selectors.response_for_ticket(found), "token": token}
    return render(request, "portal/surveys/thanks.html", context)
