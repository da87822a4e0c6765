"""Webhook endpoints: monitoring alerts, Slack (events, slash command), Microsoft Teams.

No session, no CSRF: each request proves itself (alert source token, Slack v0 signature, Teams
HMAC). A refused signature or token, or a request outside the five-minute replay window,
answers 401, an unusable payload 400 and a Teams activity received twice 409, all as
problem+json with the reason; none of them stores or creates anything.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from palier.integrations import selectors, signatures
from palier.integrations.alert_payloads import PayloadError
from palier.integrations.models import AlertDelivery, ChatApp
from palier.integrations.services import alerts, slack, teams


def problem(status: int, title: str, detail: str, **headers: str) -> HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    response = HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _unauthorized(detail: str) -> HttpResponse:
    return problem(401, "Unauthorized", detail, WWW_Authenticate="Bearer")


NUL_REFUSED = "The payload contains a NUL character."


def _has_nul(body: bytes) -> bool:
    """A NUL in the text (raw, JSON-escaped or percent-encoded) cannot be stored in PostgreSQL
    text columns: refuse it up front rather than fail later with a 500."""
    lowered = body.lower()
    return b"\x00" in body or b"\\u0000" in lowered or b"%00" in lowered


def _json_object(body: bytes) -> dict[str, Any] | None:
    if _has_nul(body):
        return None
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _bearer(request: HttpRequest) -> str:
    scheme, _sp, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.GET.get("token", "")


@csrf_exempt
@require_http_methods(["POST", "PUT"])
def alert_webhook(request: HttpRequest) -> HttpResponse:
    """Alertmanager, Grafana or generic alerts; the token says which source is sending."""
    token = _bearer(request)
    source = alerts.authenticate_source(token) if token else None
    if source is None:
        return _unauthorized("A valid alert source token is required (Authorization: Bearer <token>).")
    if _has_nul(request.body):
        return problem(400, "Bad request", NUL_REFUSED)
    try:
        delivery = alerts.receive_alert(source, body=request.body)
    except PayloadError as exc:
        return problem(400, "Bad request", str(exc))
    failed = delivery.state == AlertDelivery.State.FAILED
    answer = {
        "delivery": delivery.pk,
        "state": delivery.state,
        "ticket": delivery.ticket.reference if delivery.ticket else None,
    }
    return JsonResponse(answer, status=503 if failed else 200)  # 5xx: the sender retries


def _verify_slack(request: HttpRequest, app: ChatApp) -> HttpResponse | None:
    try:
        signatures.verify_slack(
            secret=selectors.chat_secret(app),
            timestamp=request.headers.get("X-Slack-Request-Timestamp", ""),
            signature=request.headers.get("X-Slack-Signature", ""),
            body=request.body,
            now=time.time(),
        )
    except signatures.BadSignature as exc:
        return _unauthorized(str(exc))
    return None


@csrf_exempt
@require_POST
def slack_events(request: HttpRequest, slug: str) -> HttpResponse:
    app = selectors.get_chat_app(kind=ChatApp.Kind.SLACK, slug=slug)
    refused = _verify_slack(request, app)
    if refused is not None:
        return refused
    data = _json_object(request.body)
    if data is None:
        return problem(400, "Bad request", "The body must be a JSON object.")
    if data.get("type") == "url_verification":
        return JsonResponse({"challenge": str(data.get("challenge", ""))})
    if data.get("type") != "event_callback" or not isinstance(data.get("event"), dict):
        return problem(400, "Bad request", f"Unsupported payload type {str(data.get('type'))[:40]!r}.")
    return JsonResponse({"ok": True, "outcome": slack.handle_event(app, data)})


@csrf_exempt
@require_POST
def slack_command(request: HttpRequest, slug: str) -> HttpResponse:
    app = selectors.get_chat_app(kind=ChatApp.Kind.SLACK, slug=slug)
    refused = _verify_slack(request, app)
    if refused is not None:
        return refused
    if _has_nul(request.body):
        return problem(400, "Bad request", NUL_REFUSED)
    form = {key: request.POST.get(key, "") for key in request.POST}
    if not form.get("user_id"):
        return problem(400, "Bad request", "Not a slash command: “user_id” is missing.")
    return JsonResponse({"response_type": "ephemeral", "text": slack.handle_command(app, form)})


@csrf_exempt
@require_POST
def slack_interactive(request: HttpRequest, slug: str) -> HttpResponse:
    """A click on a button of a message Palier sent (Slack's interactivity: a form field
    ``payload`` holding JSON). The answer replaces the message through its ``response_url``."""
    app = selectors.get_chat_app(kind=ChatApp.Kind.SLACK, slug=slug)
    refused = _verify_slack(request, app)
    if refused is not None:
        return refused
    raw = request.POST.get("payload", "")
    data = _json_object(raw.encode("utf-8")) if raw else None
    if data is None or data.get("type") != "block_actions" or not isinstance(data.get("actions"), list):
        return problem(400, "Bad request", "Expected a block_actions payload in the “payload” field.")
    outcome = slack.handle_interaction(app, data)
    return JsonResponse({"ok": True, "outcome": outcome})


@csrf_exempt
@require_POST
def teams_webhook(request: HttpRequest, slug: str) -> HttpResponse:
    app = selectors.get_chat_app(kind=ChatApp.Kind.TEAMS, slug=slug)
    try:
        signatures.verify_teams(
            secret_b64=selectors.chat_secret(app),
            authorization=request.headers.get("Authorization", ""),
            body=request.body,
        )
    except signatures.BadSignature as exc:
        return problem(401, "Unauthorized", str(exc))
    data = _json_object(request.body)
    if data is None or data.get("type") != "message" or not isinstance(data.get("from"), dict):
        return problem(400, "Bad request", "Expected a Teams message activity (type “message” with “from”).")
    try:
        signatures.verify_teams_time(data.get("timestamp"), now=time.time())
    except signatures.BadSignature as exc:
        return problem(401, "Unauthorized", str(exc))
    answer = teams.handle_activity(app, data)
    if answer is None:
        return problem(409, "Conflict", "This activity was already received (replay?).")
    return JsonResponse({"type": "message", "text": answer})
