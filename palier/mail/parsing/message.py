"""The entry point: ``parse_message(raw)``, and cheap reads of a raw message's ids and hash."""

from __future__ import annotations

import email
import email.utils
import hashlib
from email.message import Message

from palier.mail.parsing.addresses import parse_addresses, parse_message_ids
from palier.mail.parsing.automatic import _classify
from palier.mail.parsing.decoding import decode_bytes, decode_header_value, raw_header
from palier.mail.parsing.htmltext import html_to_text, sanitise_html
from palier.mail.parsing.limits import MAX_BODY_CHARS, MAX_HEADERS, MAX_RAW_BYTES
from palier.mail.parsing.parts import _walk
from palier.mail.parsing.results import Address, ParsedMessage


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse one RFC 822 message. Never raises: what cannot be read is left empty and noted in ``defects``."""
    out = ParsedMessage()
    if len(raw) > MAX_RAW_BYTES:
        raw = raw[:MAX_RAW_BYTES]
        out.defects.append("message truncated")
    try:
        message = email.message_from_bytes(raw)
    except Exception as exc:
        out.defects.append(f"unreadable message: {type(exc).__name__}")
        out.text = decode_bytes(raw)[:MAX_BODY_CHARS]
        out.content_type = "text/plain"
        return out
    try:
        _fill(message, out)
    except Exception as exc:
        out.defects.append(f"parse error: {type(exc).__name__}: {exc}")
    return out


def _charset_hint(message: Message) -> str | None:
    """The first charset the message declares (for undeclared 8-bit headers)."""
    for count, part in enumerate(message.walk()):
        charset = part.get_param("charset")
        if isinstance(charset, str) and charset.lower() not in ("us-ascii", "ascii", "utf-8", "utf8"):
            return charset
        if count > 20:
            break
    return None


def _fill(message: Message, out: ParsedMessage) -> None:
    if len(message.keys()) > MAX_HEADERS:
        out.defects.append("too many headers")
        del message._headers[MAX_HEADERS:]  # type: ignore[attr-defined]
    for defect in getattr(message, "defects", [])[:20]:
        out.defects.append(type(defect).__name__)
    ids = parse_message_ids(raw_header(message, "Message-ID"))
    out.message_id = ids[0][:500] if ids else ""
    out.in_reply_to = parse_message_ids(raw_header(message, "In-Reply-To"))
    out.references = parse_message_ids(raw_header(message, "References"))
    hint = _charset_hint(message)
    senders: list[Address] = []
    for name in ("From", "Sender", "Reply-To"):  # the first From that names someone, then fallbacks
        for key, value in getattr(message, "_headers", []):
            if key.lower() == name.lower() and not senders:
                senders = parse_addresses(value, hint)
    out.from_ = senders[0] if senders else None
    out.from_count = sum(
        len(parse_addresses(value, hint)) for key, value in getattr(message, "_headers", []) if key.lower() == "from"
    )
    out.authentication_results = [
        str(value)
        for key, value in getattr(message, "_headers", [])
        if key.lower() == "authentication-results" and isinstance(value, str)
    ][:20]
    reply_to = parse_addresses(raw_header(message, "Reply-To"), hint)
    out.reply_to = reply_to[0] if reply_to else None
    out.to = parse_addresses(raw_header(message, "To"), hint)
    out.cc = parse_addresses(raw_header(message, "Cc"), hint)
    out.subject = decode_header_value(raw_header(message, "Subject"), hint)[:1000]
    try:
        date = raw_header(message, "Date")
        out.date = email.utils.parsedate_to_datetime(decode_header_value(date)) if date else None
    except (TypeError, ValueError, IndexError, OverflowError):
        out.date = None

    _bodies(message, out)
    _classify(message, out, out.text)


def _bodies(message: Message, out: ParsedMessage) -> None:
    bodies, out.attachments = _walk(message, out)
    plain = next((text for ctype, text in bodies if ctype == "text/plain"), None)
    html = next((text for ctype, text in bodies if ctype == "text/html"), None)
    if len([1 for ctype, _ in bodies if ctype == "text/plain"]) > 1 and html is None:
        plain = "\n\n".join(text for ctype, text in bodies if ctype == "text/plain")
    if html is not None:
        out.html = sanitise_html(html)
    if plain is not None and plain.strip():
        out.text = plain
    elif html is not None:
        out.text = html_to_text(html)
    elif plain is not None:
        out.text = plain
    out.content_type = "text/html" if html is not None and html.strip() else "text/plain"
    out.text = out.text.replace("\r\n", "\n").replace("\x00", "")
    if len(out.text) > MAX_BODY_CHARS:
        out.text = out.text[:MAX_BODY_CHARS]
        out.defects.append("body truncated")


def _raw_head(raw: bytes) -> Message:
    """The header block of raw bytes as a message (no body is parsed)."""
    head = raw[:65536]
    end = head.find(b"\r\n\r\n")
    if end < 0:
        end = head.find(b"\n\n")
    if end >= 0:
        head = head[: end + 2]
    return email.message_from_bytes(head)


def raw_message_id(raw: bytes) -> str:
    """The Message-ID of raw bytes, cheaply (headers only); "" when absent or unreadable."""
    try:
        ids = parse_message_ids(raw_header(_raw_head(raw), "Message-ID"))
    except Exception:
        return ""
    return ids[0][:500] if ids else ""


def raw_references(raw: bytes) -> list[str]:
    """The Message-IDs a message answers (In-Reply-To, then References), cheaply; [] when none."""
    try:
        message = _raw_head(raw)
        ids = parse_message_ids(raw_header(message, "In-Reply-To"))
        ids += parse_message_ids(raw_header(message, "References"))
    except Exception:
        return []
    return list(dict.fromkeys(i[:500] for i in ids))[:50]


def sha256_hex(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


CONTENT_HEADERS = ("From", "To", "Cc", "Date", "Subject")


def content_sha256(raw: bytes) -> str:
    """A digest of the message as its author wrote it: the authored headers and the body, without
    the trace a route adds (Received, Delivered-To, Return-Path, Authentication-Results…), so the
    same message fetched again or delivered by two routes gives the same digest, and another
    message reusing its Message-ID does not."""
    digest = hashlib.sha256()
    try:
        head = _raw_head(raw)
        for name in CONTENT_HEADERS:
            value = " ".join(str(raw_header(head, name)).split())
            digest.update(f"{name}:{value}\n".encode("utf-8", "replace"))
    except Exception:  # unreadable headers: the bytes alone
        return sha256_hex(raw)
    end = raw.find(b"\r\n\r\n")
    body = raw[end + 4 :] if end >= 0 else raw[raw.find(b"\n\n") + 2 :] if b"\n\n" in raw else b""
    digest.update(b"\n" + body.replace(b"\r\n", b"\n").rstrip())
    return digest.hexdigest()
