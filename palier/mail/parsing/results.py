"""What parsing returns: ``ParsedMessage`` with its addresses and attachments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    authentication_results: list[str] = field(default_factory=list)  # raw values, top (newest) first
    from_count: int = 0  # addresses in the From header(s): exactly one can be authenticated

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
