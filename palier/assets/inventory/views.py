"""The inventory endpoint (machine intake, not a page), mounted at /inventory/ (``palier/urls.py``).

No session, no CSRF: the agent proves itself with its inventory token, as
``Authorization: Bearer <token>`` (Palier's script) or HTTP Basic with the token as password (the
GLPI Agent's ``user``/``password`` settings; it sends them after a 401 challenge). A missing,
revoked or expired token answers 401 and nothing is stored; a body over
``PALIER_INVENTORY_MAX_MB`` (compressed or once inflated) answers 413 and nothing is stored.
"""

from __future__ import annotations

import base64
import binascii
import json

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from palier.audit.context import client_ip

from . import body as bodies
from . import intake, tokens

REALM = 'Basic realm="Palier inventory", charset="UTF-8"'


def _answer(status: int, payload: dict[str, object]) -> HttpResponse:
    response = HttpResponse(json.dumps(payload), status=status, content_type="application/json")
    if status == 401:
        response["WWW-Authenticate"] = REALM
    return response


def _secret(request: HttpRequest) -> str:
    scheme, _sp, credentials = request.headers.get("Authorization", "").partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer":
        return credentials
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return decoded.partition(":")[2]
    return ""


@csrf_exempt
@require_POST
def inventory_endpoint(request: HttpRequest) -> HttpResponse:
    secret = _secret(request)
    token = tokens.authenticate(secret, ip=client_ip(request)) if secret else None
    if token is None:
        return _answer(401, intake.error(_("A valid inventory token is required.")))
    cap = bodies.limit()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0) or None
    except ValueError:
        length = None
    too_large = intake.error(
        _("The report is larger than %(mb)d MB (PALIER_INVENTORY_MAX_MB).") % {"mb": cap // (1024 * 1024)}
    )
    try:
        raw = bodies.read_stream(request, length, cap)
        text = bodies.decompress(raw, request.content_type or "", cap)
    except bodies.TooLarge:
        return _answer(413, too_large)
    except bodies.Unreadable as exc:
        answer = intake.receive_unreadable(token, raw, str(exc))
        return _answer(answer.status, answer.payload)
    answer = intake.receive(token, text)
    return _answer(answer.status, answer.payload)
