"""HTTP response for an attachment, shared by the pages and the API (authorization is the
caller's job: fetch the attachment with ``selectors.get_attachment_for``).

An infected file is never served (its bytes were never stored); a file stored before virus
scanning was turned on is scanned when first served, and the verdict recorded."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from palier.lib import antivirus, files
from palier.tickets.models import Attachment
from palier.tickets.services import record_attachment_scan


def attachment_response(attachment: Attachment) -> FileResponse:
    if attachment.scan_status == Attachment.Scan.UNSCANNED and antivirus.enabled():
        with attachment.file.open("rb") as stored:
            attachment = record_attachment_scan(attachment, files.scan_upload(stored, attachment.filename))
    if attachment.is_infected or not attachment.file:
        raise Http404(_("This file contains a virus: it is kept in quarantine and cannot be downloaded."))
    return files.stored_file_response(attachment.file, name=attachment.filename, content_type=attachment.content_type)
