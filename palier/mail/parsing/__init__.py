"""Raw RFC 822 bytes -> ``ParsedMessage``. Pure functions, no database, never raises.

The message is read with the stdlib ``email`` package under the ``compat32`` policy and every header
and body part is decoded here, by hand, with charset fallbacks: ``policy=default`` gives up (or
raises deep inside the header registry) on the mislabelled charsets, 8-bit headers and folded
garbage real mail carries, while compat32 keeps the raw text we can repair. Limits keep a hostile
message cheap: the raw size, the header count, the body length and the number of parts are capped.

The package follows the parser's steps: ``decoding`` (bytes and headers to text), ``addresses``
(addresses and message ids), ``parts`` (bodies and attachments), ``htmltext`` (HTML to text and
sanitised HTML), ``authresults`` (sender authentication from the trusted server's
Authentication-Results headers), ``automatic`` (bounces and auto-replies) and ``message`` (the entry point and cheap
reads of raw headers); ``results`` holds what it returns and ``limits`` its caps. Import from here.
"""

from __future__ import annotations

from palier.mail.parsing.addresses import parse_addresses, parse_message_ids
from palier.mail.parsing.authresults import AuthResult, Verdict, parse_authentication_results, verdict
from palier.mail.parsing.decoding import CHARSET_ALIASES, decode_bytes, decode_header_value, raw_header
from palier.mail.parsing.htmltext import html_to_text, sanitise_html
from palier.mail.parsing.limits import MAX_BODY_CHARS, MAX_HEADER_CHARS, MAX_HEADERS, MAX_PARTS, MAX_RAW_BYTES
from palier.mail.parsing.message import (
    content_sha256,
    parse_message,
    raw_message_id,
    raw_references,
    sha256_hex,
)
from palier.mail.parsing.results import Address, ParsedAttachment, ParsedMessage

__all__ = [
    "CHARSET_ALIASES",
    "MAX_BODY_CHARS",
    "MAX_HEADERS",
    "MAX_HEADER_CHARS",
    "MAX_PARTS",
    "MAX_RAW_BYTES",
    "Address",
    "AuthResult",
    "ParsedAttachment",
    "ParsedMessage",
    "Verdict",
    "content_sha256",
    "decode_bytes",
    "decode_header_value",
    "html_to_text",
    "parse_addresses",
    "parse_authentication_results",
    "parse_message",
    "parse_message_ids",
    "raw_header",
    "raw_message_id",
    "raw_references",
    "sanitise_html",
    "sha256_hex",
    "verdict",
]
