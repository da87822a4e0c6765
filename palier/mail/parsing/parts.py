"""Bodies and attachments: the MIME tree walked depth first into body candidates and attachments."""

from __future__ import annotations

import email.utils
import re
from email.message import Message

from palier.mail.parsing.decoding import _unescape_raw, decode_bytes, decode_header_value, raw_header
from palier.mail.parsing.limits import MAX_PARTS
from palier.mail.parsing.results import ParsedAttachment, ParsedMessage


def _payload_bytes(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _part_text(part: Message) -> str:
    charset = part.get_param("charset")
    if isinstance(charset, tuple):  # RFC 2231 form
        charset = charset[2]
    return decode_bytes(_payload_bytes(part), charset if isinstance(charset, str) else None)


def _content_type(part: Message) -> str:
    try:
        value = part.get_content_type().lower()
    except Exception:
        return "application/octet-stream"
    return value if "/" in value else "application/octet-stream"


def _filename(part: Message) -> str:
    name: object = None
    try:
        # re-read the two headers from their raw text so 8-bit names survive
        probe = Message()
        for header in ("Content-Disposition", "Content-Type"):
            raw = raw_header(part, header)
            if raw is not None:
                probe[header] = _unescape_raw(raw)
        name = probe.get_filename()  # Content-Disposition filename, RFC 2231 collapsed
        if not name:
            name = probe.get_param("name")
            if isinstance(name, tuple):
                name = email.utils.collapse_rfc2231_value(name)
    except Exception:
        name = None
    text = decode_header_value(name) if name else ""
    return text.replace("\x00", "").strip()[:255]


_EXT = {
    "text/plain": "txt",
    "text/html": "html",
    "message/rfc822": "eml",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "application/pdf": "pdf",
}


def _disposition(part: Message) -> str:
    value = raw_header(part, "Content-Disposition")
    return decode_header_value(value).split(";", 1)[0].strip().lower() if value else ""


def _forwarded(part: Message, filename: str) -> ParsedAttachment:
    """A message/rfc822 part, kept whole as an .eml attachment (its own attachments stay inside)."""
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        try:
            content = inner[0].as_bytes()
        except Exception:
            content = _payload_bytes(part)
        if not filename:
            filename = decode_header_value(raw_header(inner[0], "Subject")) or "forwarded"
            filename = re.sub(r"[\\/:*?\"<>|\x00-\x1f]+", "_", filename)[:200] + ".eml"
    else:
        content = _payload_bytes(part)
    return ParsedAttachment(filename=filename or "forwarded.eml", content_type="message/rfc822", content=content)


def _attachment(part: Message, ctype: str, disposition: str, filename: str, index: int) -> ParsedAttachment:
    content_id = decode_header_value(raw_header(part, "Content-ID")).strip().strip("<>")
    inline = disposition == "inline" or (bool(content_id) and disposition != "attachment")
    if not filename:
        ext = _EXT.get(ctype) or (ctype.split("/", 1)[1][:10] if "/" in ctype else "bin")
        filename = f"{'inline' if content_id else 'attachment'}-{index}.{ext}"
    return ParsedAttachment(
        filename=filename, content_type=ctype, content=_payload_bytes(part), inline=inline, content_id=content_id
    )


def _walk(message: Message, out: ParsedMessage) -> tuple[list[tuple[str, str]], list[ParsedAttachment]]:
    """Collect body candidates (content type, text) and attachments, depth first, capped.

    Text parts without an attachment disposition are body candidates (the first plain and the first
    HTML one win); a named text part is an attachment once a body of its type was found."""
    bodies: list[tuple[str, str]] = []
    attachments: list[ParsedAttachment] = []
    stack: list[tuple[Message, int]] = [(message, 0)]
    count = 0
    while stack:
        part, depth = stack.pop()
        count += 1
        if count > MAX_PARTS or depth > 20:
            out.defects.append("too many parts")
            break
        ctype = _content_type(part)
        if part.is_multipart() and ctype != "message/rfc822":
            payload = part.get_payload()
            children = [c for c in payload if isinstance(c, Message)] if isinstance(payload, list) else []
            stack.extend((child, depth + 1) for child in reversed(children))
            continue
        filename = _filename(part)
        disposition = _disposition(part)
        if ctype == "message/rfc822":
            attachments.append(_forwarded(part, filename))
        elif (
            ctype in ("text/plain", "text/html")
            and disposition != "attachment"
            and not (filename and any(c == ctype for c, _ in bodies))
        ):
            bodies.append((ctype, _part_text(part)))
        else:
            attachments.append(_attachment(part, ctype, disposition, filename, len(attachments) + 1))
    return bodies, attachments
