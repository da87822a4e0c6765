"""Optimistic concurrency for the API: a versioned object's ETag is ``"<pk>-<version>"``; a
write names the version the client saw, in an ``If-Match`` header (the ETag) or a body field."""

from __future__ import annotations

import re
from typing import Protocol

from django.http import HttpResponse
from django.utils.translation import gettext as _

from palier.api.errors import Problem

_ETAG = re.compile(r'^(?:W/)?"(\d+)-(\d+)"$')


class Versioned(Protocol):
    @property
    def pk(self) -> int: ...

    @property
    def etag(self) -> str: ...


def set_etag(response: HttpResponse, obj: Versioned) -> None:
    response["ETag"] = obj.etag


def expected_version(
    obj: Versioned, if_match: str | None, version: int | None, *, required: bool, mismatch: str
) -> int | None:
    """The version the client saw, from ``If-Match`` (the ETag) or the body's ``version``.

    An ``If-Match`` naming another object answers 412 with ``mismatch``; no version at all, when
    ``required``, answers 428."""
    if if_match is not None:
        match = _ETAG.match(if_match.strip())
        if match is None or int(match.group(1)) != obj.pk:
            raise Problem(412, mismatch)
        return int(match.group(2))
    if version is None and required:
        raise Problem(
            428,
            _("Send the version you saw, in an If-Match header (the ETag) or a “version” field."),
            errors={"version": [_("This field is required.")]},
        )
    return version
