"""HTTP response for an attachment, shared by the pages and the API (authorization is the
caller's job: fetch the attachment with ``selectors.get_attachment_for``)."""

from __future__ import annotations

from django.http import FileResponse

from palier.tickets.models import Attachment

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


def attachment_response(attachment: Attachment) -> FileResponse:
    inline = attachment.content_type in INLINE_TYPES
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=not inline,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=0, no-store"
    return response
