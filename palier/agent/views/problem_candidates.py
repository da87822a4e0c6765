"""Problem candidates for problem managers (/agent/problems/candidates/, ``problem_candidates:``):
where incidents repeat, with one click to open a problem with them, and the settings that say
how many incidents in how many days make a candidate. Rules in ``palier.problems.candidates``
and ``palier.problems.services.known_errors``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palier.lib.errors import DomainError
from palier.lib.web import agent_required
from palier.people.http import AuthedRequest
from palier.problems import candidates, permissions
from palier.problems.services import known_errors


def manager_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in problem managers only; anyone else gets a 404 (the page does not exist for them)."""

    @agent_required
    @wraps(view)
    def wrapper(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not permissions.is_problem_manager(request.user):
            raise Http404("page")
        return view(request, *args, **kwargs)

    return wrapper


def problem_url(problem_id: int) -> str:
    try:
        return reverse("problems:detail", args=[problem_id])
    except NoReverseMatch:  # the problem pages are mounted by their own urlconf
        return f"/agent/problems/{int(problem_id)}/"


def _errors(exc: ValidationError | DomainError) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(str(m) for m in exc.messages)


@manager_required
def candidate_list(request: AuthedRequest) -> HttpResponse:
    found = candidates.candidates_for(request.user)
    return render(request, "agent/problem_candidates/list.html", {"found": found, "settings_errors": {}})


@manager_required
@require_POST
def candidate_create(request: AuthedRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    try:
        key = int(request.POST.get("key", ""))
        problem = known_errors.create_from_candidate(by=request.user, kind=kind, key=key)
    except ValueError:
        messages.error(request, _("This candidate does not exist any more."))
    except (DomainError, ValidationError) as exc:
        messages.error(request, _errors(exc))
    else:
        messages.success(request, _("%(ref)s was opened with its incidents.") % {"ref": problem.reference})
        return redirect(problem_url(problem.pk))
    return redirect("problem_candidates:list")


@manager_required
@require_POST
def candidate_settings(request: AuthedRequest) -> HttpResponse:
    try:
        known_errors.update_candidate_settings(
            by=request.user,
            incidents=request.POST.get("candidate_incidents", ""),
            days=request.POST.get("candidate_days", ""),
            factor=request.POST.get("rising_factor", ""),
        )
    except ValidationError as exc:
        found = candidates.candidates_for(request.user)
        context = {"found": found, "settings_errors": exc.message_dict, "posted": request.POST}
        return render(request, "agent/problem_candidates/list.html", context, status=400)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The candidates' settings were saved."))
    return redirect("problem_candidates:list")
