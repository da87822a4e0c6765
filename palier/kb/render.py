"""Markdown to safe HTML, and HTML to plain text. No ORM.

markdown-it-py renders CommonMark (plus tables and strikethrough); raw HTML in the source is
allowed through the parser and then everything goes through nh3 (the ammonia sanitiser): an
allow-list of tags and attributes, no scripts or styles, no event-handler attributes, and only
http(s), mailto and relative URLs, so ``javascript:`` links lose their target.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt

_MD = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])

TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
        "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody",
        "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_SPACES = re.compile(r"\s+")


def sanitise(raw_html: str) -> str:
    return nh3.clean(
        raw_html,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def markdown_to_html(source: str) -> str:
    """Safe HTML for an article body."""
    return sanitise(_MD.render(source or ""))


def html_to_text(fragment: str) -> str:
    """The words of an HTML fragment, on one line (for search and excerpts)."""
    spaced = fragment.replace("<", " <")  # keep words of adjacent blocks apart
    text = nh3.clean(spaced, tags=set(), attributes={})
    return _SPACES.sub(" ", html.unescape(text)).strip()
