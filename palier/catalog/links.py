"""Signed approval links: approve or reject one ``Approval`` from an email without signing in.

The token signs (approval id, decision) with a salt of its own and a timestamp; it expires after
``LINK_DAYS`` days. Being single-use comes from the approval row: once decided, any link to it
only says so. No database access here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

SALT = "palier.catalog.approval-link"
LINK_DAYS = 7
DECISIONS = ("approved", "rejected")


class InvalidLink(Exception):
    """Tampered or malformed."""


class ExpiredLink(Exception):
    pass


@dataclass(frozen=True)
class LinkClaim:
    approval_id: int
    decision: str


def make_token(*, approval_id: int, decision: str) -> str:
    if decision not in DECISIONS:
        raise ValueError(decision)
    return signing.dumps({"a": approval_id, "d": decision}, salt=SALT, compress=False)


def read_token(token: str) -> LinkClaim:
    try:
        data = signing.loads(token, salt=SALT, max_age=timedelta(days=LINK_DAYS))
    except signing.SignatureExpired as exc:
        raise ExpiredLink from exc
    except signing.BadSignature as exc:
        raise InvalidLink from exc
    if not isinstance(data, dict) or not isinstance(data.get("a"), int) or data.get("d") not in DECISIONS:
        raise InvalidLink
    return LinkClaim(approval_id=data["a"], decision=data["d"])
