"""Signed survey links: the ticket and its requester, valid for ``PALIER_SURVEY_LINK_DAYS`` days
(14 by default). No database access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

SALT = "palier.surveys.answer"


def link_days() -> int:
    return int(getattr(settings, "PALIER_SURVEY_LINK_DAYS", 14))


class InvalidToken(Exception):
    """The link was altered or is not a survey link."""


class ExpiredToken(Exception):
    """The link is older than its validity."""


@dataclass(frozen=True)
class Claim:
    ticket_id: int
    requester_id: int


def make_token(*, ticket_id: int, requester_id: int) -> str:
    return signing.dumps([ticket_id, requester_id], salt=SALT)


def read_token(token: str) -> Claim:
    try:
        value = signing.loads(token, salt=SALT, max_age=timedelta(days=link_days()))
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except signing.BadSignature as exc:
        raise InvalidToken from exc
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise InvalidToken
    return Claim(ticket_id=value[0], requester_id=value[1])
