"""Addresses and message ids from header values."""

from __future__ import annotations

import email.utils
import re

from palier.mail.parsing.decoding import decode_header_value
from palier.mail.parsing.results import Address


def parse_addresses(value: object, hint: str | None = None) -> list[Address]:
    text = decode_header_value(value, hint)
    if not text:
        return []
    out: list[Address] = []
    try:
        pairs = email.utils.getaddresses([text])
    except Exception:
        pairs = []
    for name, addr in pairs:
        addr = addr.strip().strip("<>").strip()
        if not addr and not name:
            continue
        if "@" not in addr:
            found = re.search(r"[\w.+'=-]+@[\w.-]+", f"{name} {addr}")
            if found:
                addr = found.group(0)
            elif not re.fullmatch(r"[\w.-]+", addr):  # a bare local part (MAILER-DAEMON) is kept
                continue
        out.append(Address(name=name.strip().strip("\"'").strip(), email=addr.lower()))
    return out[:200]


_MSGID = re.compile(r"<([^<>\s]+)>")


def parse_message_ids(value: object) -> list[str]:
    text = decode_header_value(value)
    ids = _MSGID.findall(text)
    if not ids and text and " " not in text.strip():
        ids = [text.strip().strip("<>")]
    return [i for i in ids if i][:100]
