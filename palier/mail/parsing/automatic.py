"""Automatic mail: bounces, delivery reports and auto-replies, and the message a bounce returns."""

from __future__ import annotations

import re
from email.message import Message

from palier.mail.parsing.addresses import parse_message_ids
from palier.mail.parsing.decoding import decode_bytes, decode_header_value, raw_header
from palier.mail.parsing.parts import _content_type, _payload_bytes
from palier.mail.parsing.results import ParsedMessage

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
