"""Request signatures of Slack (v0 signing secret) and Microsoft Teams (outgoing webhook HMAC).

Pure functions over the raw body bytes exactly as received; comparisons in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

SLACK_WINDOW = 300  # seconds between Slack's timestamp and now


class BadSignature(Exception):
    """The request is not from the chat service; ``str()`` is the reason (answered with 401)."""


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def verify_slack(*, secret: str, timestamp: str, signature: str, body: bytes, now: float) -> None:
    if not secret:
        raise BadSignature("The signing secret is not configured.")
    if not timestamp.isdigit() or not signature:
        raise BadSignature("The Slack signature headers are missing.")
    if abs(now - int(timestamp)) > SLACK_WINDOW:
        raise BadSignature("The request timestamp is more than five minutes away (replay?).")
    if not hmac.compare_digest(slack_signature(secret, timestamp, body), signature):
        raise BadSignature("The Slack signature does not match.")


def teams_signature(secret_b64: str, body: bytes) -> str:
    key = base64.b64decode(secret_b64, validate=True)
    return "HMAC " + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def verify_teams(*, secret_b64: str, authorization: str, body: bytes) -> None:
    if not secret_b64:
        raise BadSignature("The shared secret is not configured.")
    if not authorization.startswith("HMAC "):
        raise BadSignature("The Authorization header must be “HMAC <signature>”.")
    try:
        expected = teams_signature(secret_b64, body)
    except (binascii.Error, ValueError) as exc:
        raise BadSignature("The shared secret is not valid base64.") from exc
    if not hmac.compare_digest(expected.encode("ascii"), authorization.encode("ascii", "replace")):
        raise BadSignature("The Teams signature does not match.")
