"""The page where a person confirms, signed in, that a Teams account is theirs (the link the bot
sends to someone it does not know yet). GET only shows the question; POST shows the code to type
in Teams, which completes the link (``teamsbot.services.complete_link``)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from palier.lib.errors import DomainError
from palier.lib.web import signed_in
from palier.people.http import AuthedRequest
from palier.teamsbot import services


@signed_in
@require_http_methods(["GET", "POST"])
def link(request: AuthedRequest, token: str) -> HttpResponse:
    if services.read_link(token) is None:
        return render(request, "portal/teams/link.html", {"state": "invalid"}, status=400)
    if request.method == "GET":
        return render(request, "portal/teams/link.html", {"state": "ask"})
    try:
        code = services.confirm_link(token, user=request.user)
    except PermissionDenied:
        return render(request, "portal/teams/link.html", {"state": "invalid"}, status=400)
    except DomainError as exc:
        return render(request, "portal/teams/link.html", {"state": "taken", "message": str(exc)}, status=409)
    return render(request, "portal/teams/link.html", {"state": "code" if code else "done", "code": code})
