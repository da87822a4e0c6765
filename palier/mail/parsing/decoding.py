"""Text decoding: bytes and RFC 2047 headers to text, with charset fallbacks (never raises)."""

from __future__ import annotations

import codecs
import email.header
import re
from email.message import Message

from palier.mail.parsing.limits import MAX_HEADER_CHARS

# Charsets that mail clients declare but mean something wider (or spell their own way).
CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ks_c_5601-1989": "cp949",
    "euc-kr": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "x-sjis": "cp932",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
    "us-ascii": "utf-8",  # "ascii" mail routinely carries 8-bit bytes
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "iso-8859-1": "cp1252",  # what senders really use
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "utf8": "utf-8",
    "x-user-defined": "cp1252",
    "big5": "big5hkscs",
}


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes -> text with the declared charset when it works, else utf-8, else cp1252 (never raises)."""
    codec = _codec(charset)
    if codec:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
        if codec.startswith("iso2022_jp"):  # 7-bit: a utf-8 "success" would keep the escapes
            for variant in ("iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_2"):
                try:
                    return data.decode(variant)
                except UnicodeDecodeError:
                    continue
            return data.decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec:
        try:
            return data.decode(codec, errors="replace") if codec not in ("utf-8", "ascii") else _cp1252(data)
        except LookupError:
            pass
    return _cp1252(data)


def _cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _unescape_raw(value: str, hint: str | None = None) -> str:
    """compat32 keeps 8-bit header bytes as surrogate escapes: turn them back into text (utf-8,
    else the charset the message declares for its body, else cp1252)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("ascii", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return decode_bytes(data, hint)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?]*)\?=")


def raw_header(message: Message, name: str) -> str | None:
    """A header as received (8-bit bytes kept as surrogate escapes), or None: compat32's ``get``
    would wrap 8-bit values in a ``Header`` whose ``str`` loses them to replacement characters."""
    wanted = name.lower()
    for key, value in getattr(message, "_headers", []):
        if key.lower() == wanted:
            return value if isinstance(value, str) else str(value)
    return None


def decode_header_value(value: object, hint: str | None = None) -> str:
    """RFC 2047 header -> text, repairing mislabelled or unknown charsets; folding removed."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        chunks = email.header.decode_header(value)
        value = "".join(
            decode_bytes(b, None if cs in (None, "unknown-8bit") else cs) if isinstance(b, bytes) else b
            for b, cs in chunks
        )
    text = _unescape_raw(str(value), hint)[:MAX_HEADER_CHARS]
    text = re.sub(r"\r?\n[ \t]*", " ", text) if "\n" in text else text
    if "=?" not in text:
        return text.strip()
    # encoded words separated by whitespace only are joined (RFC 2047 §6.2)
    text = re.sub(r"(\?=)\s+(=\?)", r"\1\2", text)
    out: list[str] = []
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        out.append(text[pos : match.start()])
        charset, enc, payload = match.groups()
        charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
        try:
            if enc in "bB":
                payload = payload.strip()
                raw = email.header.decode_header(f"=?utf-8?b?{payload}?=")[0][0]
                if isinstance(raw, str):
                    raw = raw.encode("ascii", "surrogateescape")
            else:
                raw = _decode_q(payload)
            out.append(decode_bytes(raw, charset))
        except Exception:
            out.append(match.group(0))
        pos = match.end()
    out.append(text[pos:])
    return "".join(out).strip()


def _decode_q(payload: str) -> bytes:
    payload = payload.replace("_", " ")
    data = bytearray()
    i = 0
    raw = payload.encode("ascii", "surrogateescape")
    while i < len(raw):
        ch = raw[i]
        if ch == 0x3D and i + 2 < len(raw) + 0 and re.match(rb"[0-9A-Fa-f]{2}", raw[i + 1 : i + 3]):
            data.append(int(raw[i + 1 : i + 3], 16))
            i += 3
        else:
            data.append(ch)
            i += 1
    return bytes(data)
