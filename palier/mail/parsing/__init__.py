"""Raw RFC 822 bytes -> ``ParsedMessage``. Pure functions, no database, never raises.

The message is read with the stdlib ``email`` package under the ``compat32`` policy and every header
and body part is decoded here, by hand, with charset fallbacks: ``policy=default`` gives up (or
raises deep inside the header registry) on the mislabelled charsets, 8-bit headers and folded
garbage real mail carries, while compat32 keeps the raw text we can repair. Limits keep a hostile
message cheap: the raw size, the header count, the body length and the number of parts are capped.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import email.header
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from html.parser import HTMLParser

import nh3

MAX_RAW_BYTES = 50 * 1024 * 1024
MAX_HEADERS = 1000
MAX_BODY_CHARS = 1_000_000
MAX_PARTS = 500
MAX_HEADER_CHARS = 10_000

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


@dataclass(frozen=True)
class Address:
    name: str
    email: str  # lower-cased

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>" if self.name else self.email


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    inline: bool = False
    content_id: str = ""  # without angle brackets

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class ParsedMessage:
    message_id: str = ""  # without angle brackets
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    from_: Address | None = None
    reply_to: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    text: str = ""  # text/plain body, else the HTML body as text
    html: str = ""  # sanitised HTML body ("" when the message has none)
    content_type: str = ""  # main body: text/html when the message has an HTML body, else text/plain
    attachments: list[ParsedAttachment] = field(default_factory=list)
    is_bounce: bool = False
    is_auto_reply: bool = False
    is_report: bool = False  # feedback (ARF), read receipt or "delivered" report: automatic, not a bounce
    automatic_reason: str = ""  # which signal made it a bounce or an auto-reply
    bounced_message_id: str = ""  # Message-ID of the original a bounce returns
    defects: list[str] = field(default_factory=list)  # what was repaired, truncated or ignored

    @property
    def is_automatic(self) -> bool:
        """Bounces and auto-replies: never open a ticket, never get an answer."""
        return self.is_bounce or self.is_auto_reply or self.is_report

    @property
    def sender_email(self) -> str:
        return self.from_.email if self.from_ else ""

    @property
    def references_all(self) -> list[str]:
        """In-Reply-To then References, newest first, without duplicates."""
        seen: list[str] = []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.append(mid)
        return seen


# --- text decoding ------------------------------------------------------------------------------------


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


# --- addresses and ids --------------------------------------------------------------------------------


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


# --- HTML -------------------------------------------------------------------------------------------


class _TextExtractor(HTMLParser):
    BLOCK = {
        "p", "div", "tr", "table", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "pre", "hr", "section", "article", "header", "footer", "address", "dl", "dt", "dd",
    }  # fmt: skip
    SKIP = {"script", "style", "head", "title", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0
        self.quote = 0
        self.pre = 0
        self.size = 0

    def _newline(self) -> None:
        self.parts.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "br":
            self._newline()
        elif tag == "blockquote":
            self._newline()
            self.quote += 1
        elif tag == "pre":
            self.pre += 1
            self._newline()
        elif tag in self.BLOCK:
            self._newline()
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" or tag in self.BLOCK:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._newline()
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._newline()
        elif tag in self.BLOCK:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip or self.size > MAX_BODY_CHARS:
            return
        if not self.pre:
            data = re.sub(r"[ \t\r\n\f\u00a0]+", " ", data)
        if self.quote:
            data = data.replace("\n", "\n" + "> " * self.quote)
            if not self.parts or self.parts[-1].endswith("\n"):
                data = "> " * self.quote + data.lstrip()
        self.size += len(data)
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text from HTML: blocks on their own lines, blockquotes as "> " quotes."""
    parser = _TextExtractor()
    with contextlib.suppress(Exception):  # HTMLParser is lenient; belt and braces
        parser.feed(html[: MAX_BODY_CHARS * 2])
        parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def sanitise_html(html: str) -> str:
    """Safe HTML for display: nh3 (ammonia) allow-list; cid: images kept for inline attachments."""
    try:
        return nh3.clean(
            html[: MAX_BODY_CHARS * 2],
            url_schemes={"http", "https", "mailto", "cid"},
            link_rel="noopener noreferrer nofollow",
        )
    except Exception:
        return ""


# --- bodies and attachments ------------------------------------------------------------------------


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


# --- automatic mail ---------------------------------------------------------------------------------

_OOO_SUBJECT = re.compile(
    r"^\s*(?:"
    r"r[ée]ponse automatique|"
    # "Absence" alone is also a real subject ("Absence de réseau"): only its out-of-office forms
    r"absence\s*(?::|$|du\s+\d|jusqu|from|until|[(\-–])|absent(?:e)?\s+(?:du bureau|jusqu|until|from|:)|"
    r"out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?(?:reply|response)|autoreply|"
    r"auto:|vacation|on vacation|away from (?:my|the) office|abwesenheitsnotiz|automatische antwort|"
    r"risposta automatica|respuesta autom[áa]tica|automatisch antwoord|fuera de la oficina"
    r")",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification \((?:failure|delay)\)|delivery (?:has )?failed|"
    r"mail delivery (?:failed|failure|subsystem)|returned mail|failure notice|delivery failure|"
    r"non[- ]?remis|non distribu|unzustellbar|rejected:|message not delivered|"
    r"could not be delivered|delivery notification|nondeliverable|undelivered|error sending your mail|"
    r"^delivery status$|メールエラー|エラー通知|notification d'[ée]tat de remise",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|post_master|mail-daemon|mailerdaemon)(?:@|$)", re.IGNORECASE)


def _header(message: Message, name: str) -> str:
    try:
        return decode_header_value(raw_header(message, name))
    except Exception:
        return ""


def _delivery_actions(message: Message) -> list[str]:
    actions: list[str] = []
    for part in message.walk():
        if _content_type(part) in ("message/delivery-status", "message/global-delivery-status"):
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else []
            texts = [str(b) for b in blocks] if blocks else [decode_bytes(_payload_bytes(part))]
            for text in texts:
                actions += [a.lower() for a in re.findall(r"(?im)^\s*action\s*:\s*([\w-]+)", text)]
    return actions


def _bounced_id(message: Message, text: str) -> str:
    for part in message.walk():
        ctype = _content_type(part)
        if ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers"):
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                ids = parse_message_ids(raw_header(payload[0], "Message-ID"))
                if ids:
                    return ids[0]
            found = re.search(r"(?im)^message-id:\s*<([^<>\s]+)>", decode_bytes(_payload_bytes(part)))
            if found:
                return found.group(1)
    found = re.search(r"(?im)^\s*message-id:\s*<([^<>\s]+)>", text)
    return found.group(1) if found else ""


def _classify(message: Message, out: ParsedMessage, full_text: str) -> None:
    ctype = _content_type(message)
    report_type = str(message.get_param("report-type") or "").lower()
    sender = out.sender_email
    return_path = _header(message, "Return-Path")
    subject = out.subject

    bounce_reason = ""
    if ctype == "multipart/report" and report_type in ("delivery-status", "global-delivery-status", ""):
        actions = _delivery_actions(message)
        if actions and all(a in ("delivered", "relayed", "expanded") for a in actions):
            bounce_reason = ""
            out.automatic_reason = "delivery report (delivered)"
            out.is_report = True
            return
        bounce_reason = "multipart/report delivery-status"
    elif _BOUNCE_SENDER.match(sender) or (return_path.strip() in ("<>", "") and _BOUNCE_SUBJECT.search(subject)):
        bounce_reason = f"sender {sender or '<>'}"
    elif _BOUNCE_SUBJECT.search(subject) and (
        return_path.strip() == "<>"
        or _header(message, "X-Failed-Recipients")
        or "auto" in _header(message, "Auto-Submitted").lower()
    ):
        bounce_reason = "bounce subject"
    elif _header(message, "X-Failed-Recipients"):
        bounce_reason = "X-Failed-Recipients"
    elif _delivery_actions(message) and not all(
        a in ("delivered", "relayed", "expanded") for a in _delivery_actions(message)
    ):
        bounce_reason = "delivery-status part"
    if bounce_reason:
        out.is_bounce = True
        out.automatic_reason = bounce_reason
        out.bounced_message_id = _bounced_id(message, full_text)
        return

    if ctype == "multipart/report":
        out.is_report = True
        out.automatic_reason = f"multipart/report {report_type}"
        return
    auto_submitted = _header(message, "Auto-Submitted").lower()
    precedence = _header(message, "Precedence").lower().strip()
    reasons = [
        ("Auto-Submitted", bool(auto_submitted) and not auto_submitted.startswith("no")),
        ("X-Autoreply", bool(_header(message, "X-Autoreply"))),
        ("X-Autorespond", bool(_header(message, "X-Autorespond"))),
        ("X-Auto-Response-Suppress", bool(_header(message, "X-Auto-Response-Suppress"))),
        ("Precedence", precedence in ("bulk", "junk", "auto_reply", "list")),
        ("X-Autogenerated", _header(message, "X-Autogenerated").lower() in ("reply", "forward", "group")),
        ("X-Auto-Reply-From", bool(_header(message, "X-Auto-Reply-From"))),
        ("X-Mail-Autoreply", bool(_header(message, "X-Mail-Autoreply"))),
        ("subject", bool(_OOO_SUBJECT.search(subject))),
    ]
    for name, hit in reasons:
        if hit:
            out.is_auto_reply = True
            out.automatic_reason = name
            return


# --- entry point --------------------------------------------------------------------------------------


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
