"""Refuse oversized uploads while the request is parsed, before a byte reaches storage.

``limit_uploads`` wraps a view that accepts files:

* a request whose Content-Length exceeds what the page could ever accept (the attachment limit
  times the number of files, plus room for the text fields) is answered 413 without reading
  its body;
* otherwise ``SizeLimitHandler`` runs first among the upload handlers and skips any single file
  that grows past ``settings.PALIER_MAX_ATTACHMENT_BYTES``: Django closes the temporary file
  and drops it, the other fields are parsed as usual, and ``upload_errors(request)`` lets the
  view show "too large" next to the file field while keeping what the user typed.

Upload handlers must be set before the body is read, and CSRF checking reads it, hence the
documented ``csrf_exempt`` outside / ``csrf_protect`` inside pairing.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

MAX_FILES = 10
FIELDS_ALLOWANCE = 1024 * 1024  # text fields and multipart framing


def request_bound() -> int:
    """The largest body a page with file uploads accepts."""
    return int(settings.PALIER_MAX_ATTACHMENT_BYTES) * MAX_FILES + FIELDS_ALLOWANCE


class SizeLimitHandler(FileUploadHandler):
    """Skip a file as soon as it is larger than the attachment limit; remember its name."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = int(settings.PALIER_MAX_ATTACHMENT_BYTES)
        self.refused: list[str] = []
        self.received = 0

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.received = 0
        if self.content_length is not None and self.content_length > self.limit:
            self.refused.append(file_name)
            raise SkipFile

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.limit:
            self.refused.append(self.file_name or "")
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handlers build the file


def file_input_attrs() -> dict[str, str]:
    """Attributes for a file input: palier.js warns before sending a file over the limit."""
    megabytes = max(1, int(settings.PALIER_MAX_ATTACHMENT_BYTES) // 1048576)
    return {
        "data-max-bytes": str(settings.PALIER_MAX_ATTACHMENT_BYTES),
        "data-too-large": _("Too large (more than %(mb)d MB): %%s") % {"mb": megabytes},
    }


def upload_errors(request: HttpRequest) -> list[str]:
    """One translated message per file refused while parsing the request."""
    handler = getattr(request, "_palier_size_limit", None)
    if handler is None:
        return []
    megabytes = max(1, handler.limit // 1048576)
    return [
        _("The file “%(name)s” is larger than %(mb)d MB.") % {"name": name, "mb": megabytes} for name in handler.refused
    ]


def add_upload_errors(request: HttpRequest, form: forms.Form, field: str = "attachments") -> None:
    """Put the refused-file messages next to the form's file field (the form becomes invalid)."""
    if not form.is_bound:
        return
    for message in upload_errors(request):
        form.add_error(field, message)


View = Callable[..., HttpResponseBase]


def limit_uploads(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > request_bound():
                context = {"limit_mb": settings.PALIER_MAX_ATTACHMENT_BYTES // 1048576, "max_files": MAX_FILES}
                html = render_to_string("413.html", context, request=request)
                return HttpResponse(html, status=413)
            handler = SizeLimitHandler(request)
            request.upload_handlers.insert(0, handler)
            request._palier_size_limit = handler  # type: ignore[attr-defined]
        return csrf_protect(view)(request, *args, **kwargs)

    return csrf_exempt(wrapper)
