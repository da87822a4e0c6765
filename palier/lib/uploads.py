"""Refuse oversized uploads while the request is parsed, before a byte reaches storage.

``UploadLimitMiddleware`` (installed before anything reads a body) does it for every multipart
request, pages and API alike:

* a request whose Content-Length exceeds what any endpoint could accept (the attachment limit
  times the number of files, plus room for the text fields) is answered 413 without reading
  its body (problem+json under ``/api/``, the "Files too large" page elsewhere);
* otherwise ``SizeLimitHandler`` runs first among the upload handlers and skips any single file
  that grows past the limit (``files.max_attachment_bytes``): Django closes the temporary file
  and drops it, the other fields are parsed as usual. The API answers 413 at once; a page calls
  ``upload_errors(request)`` (or ``add_upload_errors``) to show "too large" next to the file
  field while keeping what the user typed.

``limit_uploads`` is the same for one view when the middleware is not installed; upload handlers
must be set before the body is read, and CSRF checking reads it, hence its ``csrf_exempt``
outside / ``csrf_protect`` inside pairing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from palier.lib import files

MAX_FILES = 10
FIELDS_ALLOWANCE = 1024 * 1024  # text fields and multipart framing


def request_bound() -> int:
    """The largest body a page with file uploads accepts."""
    return files.max_attachment_bytes() * MAX_FILES + FIELDS_ALLOWANCE


class SizeLimitHandler(FileUploadHandler):
    """Skip a file as soon as it is larger than the attachment limit; remember its name."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = files.max_attachment_bytes()
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
    megabytes = files.limit_megabytes()
    return {
        "data-max-bytes": str(files.max_attachment_bytes()),
        "data-too-large": _("Too large (more than %(mb)d MB): %%s") % {"mb": megabytes},
    }


def upload_errors(request: HttpRequest) -> list[str]:
    """One translated message per file refused while parsing the request."""
    handler = getattr(request, "_palier_size_limit", None)
    if handler is None:
        return []
    return [files.too_large_message(name) for name in handler.refused]


def add_upload_errors(request: HttpRequest, form: forms.Form, field: str = "attachments") -> None:
    """Put the refused-file messages next to the form's file field (the form becomes invalid)."""
    if not form.is_bound:
        return
    for message in upload_errors(request):
        form.add_error(field, message)


View = Callable[..., HttpResponseBase]
API_PREFIX = "/api/"


def _announced_length(request: HttpRequest) -> int:
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def _too_large_response(request: HttpRequest) -> HttpResponse:
    context = {"limit_mb": files.limit_megabytes(), "max_files": MAX_FILES}
    if request.path.startswith(API_PREFIX):
        detail = _("The request is larger than the %(mb)d MB a file may be.") % {"mb": files.limit_megabytes()}
        return problem_response(413, detail, {"file": [detail]})
    return HttpResponse(render_to_string("413.html", context, request=request), status=413)


def problem_response(status: int, detail: str, errors: dict[str, list[str]] | None = None) -> HttpResponse:
    """An RFC 9457 problem answered before any view runs (the API's own handler is not reached)."""
    body = {"type": "about:blank", "title": _("Request too large"), "status": status, "detail": detail}
    body_json = json.dumps({**body, "errors": errors or {}}, ensure_ascii=False)
    return HttpResponse(body_json, status=status, content_type="application/problem+json")


def _install(request: HttpRequest) -> HttpResponse | None:
    """The Content-Length check and the size-limit handler; a response when the body is refused."""
    if _announced_length(request) > request_bound():
        return _too_large_response(request)
    if getattr(request, "_palier_size_limit", None) is None:
        handler = SizeLimitHandler(request)
        request.upload_handlers.insert(0, handler)
        request._palier_size_limit = handler  # type: ignore[attr-defined]
    return None


def _is_upload(request: HttpRequest) -> bool:
    return request.method in {"POST", "PUT", "PATCH"} and request.content_type == "multipart/form-data"


class UploadLimitMiddleware:
    """Every multipart request: refuse an announced body over the bound before reading it, and
    stop writing any file at the attachment limit. Under ``/api/`` a refused file is a 413 at
    once (the endpoint would only see a missing field)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if _is_upload(request):
            refused = _install(request)
            if refused is not None:
                return refused
            if request.path.startswith(API_PREFIX):
                request.FILES  # noqa: B018  parse now, with the handler in place
                messages = upload_errors(request)
                if messages:
                    return problem_response(413, " ".join(messages), {"file": messages})
        return self.get_response(request)


def limit_uploads(view: View) -> View:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST":
            refused = _install(request)
            if refused is not None:
                return refused
        return csrf_protect(view)(request, *args, **kwargs)

    return csrf_exempt(wrapper)
