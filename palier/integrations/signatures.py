"""Request signatures of Slack (v0 signing secret) and Microsoft Teams (outgoing webhook HMAC).

Pure functions over the raw body bytes exactly as received; comparisons in constant time. Header
values are parsed as ASCII only (``str.isdigit`` accepts "١٢٣" and "¹²³", which would reach
``int()`` or an ASCII encoding and fail there): anything else is a ``BadSignature``, never an
exception the endpoint would answer with a 500. Both services get the same five-minute replay
window: Slack signs a timestamp header, Teams signs the activity's ``timestamp`` in the body.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from datetime import datetime

SLACK_WINDOW = 300  # seconds between Slack's timestamp and now
TEAMS_WINDOW = 300  # seconds between a Teams activity's timestamp and now
MAX_HEADER = 512
_UNIX_TIME = re.compile(r"[0-9]{1,12}", re.ASCII)
_SLACK_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)
_ISO_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?(Z|[+-][0-9]{2}:[0-9]{2})", re.ASCII
)


class BadSignature(Exception):
    """The request is not from the chat service; ``str()`` is the reason (answered with 401)."""


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def verify_slack(*, secret: str, timestamp: str, signature: str, body: bytes, now: float) -> None:
    if not secret:
        raise BadSignature("The signing secret is not configured.")
    if not timestamp or not signature:
        raise BadSignature("The Slack signature headers are missing.")
    if not _UNIX_TIME.fullmatch(timestamp):
        raise BadSignature("X-Slack-Request-Timestamp must be a Unix time in ASCII digits.")
    if abs(now - int(timestamp)) > SLACK_WINDOW:
        raise BadSignature("The request timestamp is more than five minutes away (replay?).")
    if not _SLACK_SIGNATURE.fullmatch(signature):
        raise BadSignature("X-Slack-Signature must be “v0=” and 64 hexadecimal digits.")
    expected = slack_signature(secret, timestamp, body).encode("ascii")
    if not hmac.compare_digest(expected, signature.encode("ascii")):
        raise BadSignature("The Slack signature does not match.")


def teams_signature(secret_b64: str, body: bytes) -> str:
    key = base64.b64decode(secret_b64, validate=True)
    return "HMAC " + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def verify_teams(*, secret_b64: str, authorization: str, body: bytes) -> None:
    if not secret_b64:
        raise BadSignature("The shared secret is not configured.")
    if not authorization.startswith("HMAC ") or not authorization.isascii() or len(authorization) > MAX_HEADER:
        raise BadSignature("The Authorization header must be “HMAC <signature>”.")
    try:
        expected = teams_signature(secret_b64, body)
    except (binascii.Error, ValueError) as exc:
        raise BadSignature("The shared secret is not valid base64.") from exc
    if not hmac.compare_digest(expected.encode("ascii"), authorization.encode("ascii")):
        raise BadSignature("The Teams signature does not match.")


def verify_teams_time(timestamp: object, *, now: float) -> None:
    """The activity's own ``timestamp`` (signed with the body) is within the replay window."""
    if not isinstance(timestamp, str) or not _ISO_TIME.fullmatch(timestamp):
        raise BadSignature("The activity has no ISO 8601 “timestamp” in ASCII digits.")
    try:
        sent = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadSignature("The activity's “timestamp” is not a real date.") from exc
    if abs(now - sent.timestamp()) > TEAMS_WINDOW:
        raise BadSignature("The activity is more than five minutes old or ahead (replay?).")
