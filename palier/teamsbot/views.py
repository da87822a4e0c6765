"""The Teams bot's endpoint: ``POST /hooks/teams/<address>/messages``, where the Bot Framework
posts the activities of the bot registered for that app.

No session, no CSRF: the request proves itself with the Bot Framework's JWT (``auth.py``). A
missing, forged, expired, foreign or mismatched token answers 401 and stores nothing; an activity
already received answers 200 and changes nothing (the Bot Framework retries). Replies are queued
and sent by a worker; an invoke (a card's Action.Execute) gets the updated card in the answer.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from palier.integrations import selectors
from palier.integrations.models import ChatApp
from palier.integrations.views.hooks import problem
from palier.teamsbot import auth, services

MAX_BODY = 256 * 1024


def _activity(body: bytes) -> dict[str, Any] | None:
    if len(body) > MAX_BODY or b"\x00" in body or b"\\u0000" in body:
        return None
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


@csrf_exempt
@require_POST
def messages(request: HttpRequest, slug: str) -> HttpResponse:
    app = selectors.get_chat_app(kind=ChatApp.Kind.TEAMS, slug=slug)
    if not app.bot_app_id:
        raise Http404("Teams bot")
    authorization = request.headers.get("Authorization", "")
    if not authorization:
        return problem(401, "Unauthorized", "A Bot Framework token is required.", WWW_Authenticate="Bearer")
    activity = _activity(request.body)
    if activity is None:
        return problem(400, "Bad request", "The body must be a JSON activity (at most 256 KB, no NUL character).")
    try:
        auth.verify(authorization=authorization, activity=activity, app_id=app.bot_app_id)
    except auth.Refused as exc:
        return problem(401, "Unauthorized", str(exc), WWW_Authenticate="Bearer")
    try:
        received = services.receive(app, activity)
    except services.BadActivity as exc:
        return problem(400, "Bad request", str(exc))
    if received.invoke is not None:
        return JsonResponse(received.invoke)
    return HttpResponse(status=200)
