"""HTML bodies: readable text for threading and search, and sanitised HTML for display."""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser

import nh3

from palier.mail.parsing.limits import MAX_BODY_CHARS


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
