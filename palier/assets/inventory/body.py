"""Read a posted report: bounded size, zlib or gzip decompressed in bounded chunks (a small
compressed body that inflates past the limit is refused before it fills memory), then JSON."""

from __future__ import annotations

import json
import zlib
from typing import Any, Protocol

from django.conf import settings
from django.utils.translation import gettext as _

CHUNK = 64 * 1024


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class TooLarge(Exception):
    pass


class Unreadable(ValueError):
    pass


def limit() -> int:
    return int(settings.PALIER_INVENTORY_MAX_MB) * 1024 * 1024


def read_stream(stream: Readable, content_length: int | None, cap: int) -> bytes:
    """The raw body, refused as soon as it is longer than ``cap``."""
    if content_length is not None and content_length > cap:
        raise TooLarge
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > cap:
            raise TooLarge
        parts.append(chunk)
    return b"".join(parts)


def _compression(raw: bytes, content_type: str) -> int | None:
    """zlib's ``wbits`` for the body's compression, None for plain text."""
    kind = content_type.lower()
    if "gzip" in kind or raw[:2] == b"\x1f\x8b":
        return 31
    if "zlib" in kind or (len(raw) >= 2 and raw[0] == 0x78 and (raw[0] * 256 + raw[1]) % 31 == 0):
        return 15
    return None


def decompress(raw: bytes, content_type: str, cap: int) -> bytes:
    wbits = _compression(raw, content_type)
    if wbits is None:
        return raw
    inflater = zlib.decompressobj(wbits)
    parts: list[bytes] = []
    size = 0
    data = raw
    try:
        while data:
            chunk = inflater.decompress(data, CHUNK)
            size += len(chunk)
            if size > cap:
                raise TooLarge
            parts.append(chunk)
            data = inflater.unconsumed_tail
        tail = inflater.flush(CHUNK)
    except zlib.error as exc:
        raise Unreadable(_("The compressed body is damaged (%(error)s).") % {"error": exc}) from None
    if size + len(tail) > cap:
        raise TooLarge
    if not inflater.eof:
        raise Unreadable(_("The compressed body is truncated."))
    return b"".join([*parts, tail])


def parse(text: bytes) -> dict[str, Any]:
    """The report as a JSON object, or ``Unreadable`` saying why."""
    stripped = text.lstrip()
    if stripped[:1] == b"<":
        raise Unreadable(
            _(
                "XML reports are not accepted: use the JSON inventory format (GLPI Agent 1.0 or later, or Palier's script)."
            )
        )
    if b"\x00" in text:
        raise Unreadable(_("The report contains a NUL byte: it is not JSON text."))
    try:
        data = json.loads(text)
    except UnicodeDecodeError:
        raise Unreadable(_("The report is not UTF-8 text.")) from None
    except json.JSONDecodeError as exc:
        raise Unreadable(
            _("The report is not valid JSON (line %(line)d, column %(col)d: %(error)s); was it truncated?")
            % {"line": exc.lineno, "col": exc.colno, "error": exc.msg}
        ) from None
    except RecursionError:
        raise Unreadable(_("The report is nested too deeply.")) from None
    if not isinstance(data, dict):
        raise Unreadable(_("The report must be a JSON object."))
    if b"\\u0000" in text:  # an escaped NUL in a name: no database keeps it in text, drop it
        return dict(_without_nul(data))
    return data


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value
