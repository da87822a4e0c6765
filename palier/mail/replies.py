"""Separate a new reply from the quoted conversation below it.

Wraps ``mail-parser-reply`` (maintained, multi-language: en, fr, de, es, it, nl, pl, sv, da, cs,
ja, ko, zh), which splits a body at reply headers ("On … wrote:", "Le … a écrit :", Outlook
"De : … Envoyé : …" blocks, "-----Original Message-----"). Small fixes on top, where the corpus
showed misses: "> " quoted lines at the bottom, mobile "Sent from my iPhone" lines, and a guard that
never returns an empty reply for a non-empty message (the whole text is kept instead).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from mailparser_reply import EmailReplyParser  # type: ignore[import-untyped]

LANGUAGES = ["en", "fr", "de", "es", "it", "nl", "pl", "sv", "da", "cs", "ja", "ko", "zh"]
MAX_SPLIT_CHARS = 200_000  # longer bodies: only the start is searched for the reply boundary

_PARSER = EmailReplyParser(languages=LANGUAGES)

# Extra reply headers the library misses (found in the corpus).
_FROM = r"(?:From|De|Von|Van|Da|Od|Fra|Från|От|Lähettäjä|Feladó|Od|Z|Kimden)"
_SENT = r"(?:Sent|Envoy[ée]|Gesendet|Verzonden|Inviato|Enviado|Wysłano|Sendt|Skickat|Отправлено|Lähetetty|Date|Datum|Data|Fecha|Dátum)"
_WROTE = (
    r"(?:wrote|schreef|a [ée]crit|schrieb|escribi[óo]|ha scritto|skrev|napisał(?:\(a\))?|kirjoitti|escreveu|"
    r"пишет|написал[аи]?|đã viết|írta|geschreven|kirjoitti|scrisse)"
)
_EXTRA_HEADERS = [
    # Outlook blocks: "From: …" then "Sent: …" within three lines (also "*From:*", "De : …", "Envoyé le : …")
    re.compile(rf"^[>* ]*{_FROM}\s*\*?\s*:.*(?:\n.*){{0,3}}\n[>* ]*{_SENT}(?: le)?\s*\*?\s*:", re.M),
    # "On … wrote:" in many languages, possibly wrapped over up to three lines
    re.compile(
        rf"^[> ]*(?:On|Op|Le|Am|El|Il|Em|W dniu|Den|På|Vào|Dne|\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}|[A-Z][a-z]{{2}}, )"
        rf"[^\n]{{0,200}}(?:\n[^\n]{{0,200}}){{0,3}}?{_WROTE}[^\n]{{0,120}}:?[ \t]*$",
        re.M,
    ),
    re.compile(
        r"^[> ]*-{2,}\s*(?:[^\n]{0,60}\bwrote|Original Message|Forwarded message|Message d'origine|"
        r"Message transf[ée]r[ée]|Ursprüngliche Nachricht|Weitergeleitete Nachricht|Mensaje original|"
        r"Messaggio originale|Oorspronkelijk bericht)\b[^\n]*$",
        re.I | re.M,
    ),
    # "30.09.2017, 18.30, "John" <john@example.com>:" (Yandex, mail.ru, Gmail without a verb)
    re.compile(r"^[> ]*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b[^\n]{0,200}@[^\n]{0,120}>?[ \t]*:[ \t]*$", re.M),
    re.compile(r"^_{2,}[ \t]*$", re.M),  # Outlook separator line, mailing-list footers
]
_QUOTED_TAIL = re.compile(r"(?:\n>[^\n]*)+\s*\Z")


class ReplyParts(NamedTuple):
    reply: str  # the new text, signature included
    signature: str  # the signature found at the end of the reply ("" when none)
    quoted: str  # everything after the reply (headers of the quoted mail included)


def split_reply_parts(text: str, language_hint: str | None = None) -> ReplyParts:
    """Split ``text`` into reply, signature and quoted text. Never raises."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return ReplyParts("", "", "")
    head, tail = text[:MAX_SPLIT_CHARS], text[MAX_SPLIT_CHARS:]
    languages = LANGUAGES
    if language_hint and language_hint[:2].lower() in LANGUAGES:
        languages = [language_hint[:2].lower(), *[lang for lang in LANGUAGES if lang != language_hint[:2].lower()]]
    try:
        parser = _PARSER if languages is LANGUAGES else EmailReplyParser(languages=languages)
        message = parser.read(head)
        first = message.replies[0] if message.replies else None
    except Exception:
        first = None
    if first is None:
        return ReplyParts(text.strip(), "", "")
    reply = first.content.replace(first.headers or "", "").strip()
    signature = first.signatures or ""
    reply = _cut_extra(reply)
    if not reply.startswith(">"):
        reply = _QUOTED_TAIL.sub("", "\n" + reply).strip()
    if not reply:
        return ReplyParts(text.strip(), "", "")
    quoted = _quoted_after(text, reply)
    if signature and signature not in reply:
        signature = ""
    return ReplyParts(reply, signature, quoted + tail if quoted else "")


def _quote_intro(reply: str) -> int:
    """Start of the paragraph introducing the first "> " quoted block when it ends with ":"."""
    lines = reply.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for index, line in enumerate(lines):
        if not line.startswith(">"):
            continue
        back = index - 1
        while back >= 0 and not lines[back].strip():
            back -= 1
        if back < 0 or not lines[back].rstrip().endswith(":"):
            return -1
        start = back
        while start > 0 and lines[start - 1].strip() and back - start < 4:
            start -= 1
        return offsets[start]
    return -1


def _cut_extra(reply: str) -> str:
    cut = len(reply)
    intro = _quote_intro(reply)
    if intro > 0:
        cut = intro
    for pattern in _EXTRA_HEADERS:
        match = pattern.search(reply)
        if match and match.start() > 0:
            cut = min(cut, match.start())
    return reply[:cut].rstrip()


def _quoted_after(text: str, reply: str) -> str:
    """What follows the reply in the original text (best effort: the library normalises lines)."""
    last_line = reply.rstrip().split("\n")[-1].strip()
    if not last_line:
        return ""
    index = text.find(last_line)
    if index < 0:
        return ""
    return text[index + len(last_line) :].strip()


def split_reply(text: str, language_hint: str | None = None) -> tuple[str, str]:
    """``(reply, quoted)``: the new text of a message (signature kept) and the quoted rest."""
    parts = split_reply_parts(text, language_hint)
    return parts.reply, parts.quoted


def reply_without_signature(text: str, language_hint: str | None = None) -> str:
    parts = split_reply_parts(text, language_hint)
    if parts.signature and parts.reply.endswith(parts.signature):
        return parts.reply[: -len(parts.signature)].rstrip() or parts.reply
    return parts.reply
