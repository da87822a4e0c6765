"""Run the shared email corpus (``../shared/corpus/email``) through the parsing pipeline.

``evaluate(entry)`` turns one INDEX.json entry into checks (expectation name, met?, detail); the
corpus test and ``python -m testsupport.mail_corpus_report`` both use it. How each expectation is
compared (loosely where the corpus README says so) is documented in docs/email.md.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from palier.mail.parsing import ParsedMessage, html_to_text, parse_message
from palier.mail.replies import split_reply_parts

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "email"


def corpus_path() -> Path:
    return Path(os.environ.get("PALIER_EMAIL_CORPUS") or DEFAULT_PATH)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Outcome:
    path: str
    source: str
    error: str = ""
    checks: list[Check] = field(default_factory=list)


def load_index(root: Path) -> list[dict[str, Any]]:
    data = json.loads((root / "INDEX.json").read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = data["entries"]
    return entries


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def _emails(value: str) -> set[str]:
    return {m.lower() for m in re.findall(r"[\w.+'=-]+@[\w.-]+\w", value or "")}


def _read_input(root: Path, entry: dict[str, Any]) -> bytes:
    path = entry["path"]
    if "#" in path:
        file, index = path.split("#", 1)
        cases = json.loads((root / file).read_text(encoding="utf-8"))["cases"]
        return str(cases[int(index)]["input"]).encode("utf-8")
    return bytes((root / path).read_bytes())


def _reply_input(entry: dict[str, Any], raw: bytes, parsed: ParsedMessage | None) -> str:
    if parsed is not None:
        return parsed.text
    text = raw.decode("utf-8", errors="replace")
    if entry["kind"] == "html_body":
        return html_to_text(text)
    return text


def _compare_reply(expected: str, mode: str, reply: str, signature: str) -> tuple[bool, str]:
    without_sig = reply[: -len(signature)].rstrip() if signature and reply.endswith(signature) else reply
    candidates = [reply, without_sig]
    if "whitespace-insensitive" in mode:
        target = _squash(html_to_text(expected) if "HTML" in mode and "<" in expected else expected)
        ok = any(_squash(c) == target for c in candidates)
    else:
        ok = any(c.strip() == expected.strip() for c in candidates)
    return ok, "" if ok else f"got {reply[:80]!r}"


def _check_headers(expected: dict[str, Any], parsed: ParsedMessage, add: Callable[[Check], None]) -> None:
    sender = parsed.from_
    got_email = sender.email if sender else ""
    if expected["from"] is not None:
        wanted = _emails(expected["from"])
        add(Check("from", got_email in wanted or (not wanted and sender is None), f"got {sender}"))
    if expected["from_email"] is not None:
        add(Check("from_email", got_email == expected["from_email"].lower(), f"got {got_email!r}"))
    if expected["from_display_name"] is not None:
        name = sender.name if sender else ""
        add(Check("from_display_name", _squash(name) == _squash(expected["from_display_name"]), f"got {name!r}"))
    for field_name, addresses in (("to", parsed.to), ("cc", parsed.cc)):
        if expected[field_name] is not None:
            got = {a.email for a in addresses}
            add(Check(field_name, _emails(expected[field_name]) <= got, f"got {sorted(got)}"))
    if expected["subject"] is not None:
        ok = " ".join(parsed.subject.split()) == " ".join(expected["subject"].split())
        add(Check("subject", ok, f"got {parsed.subject[:80]!r}"))


def _check_body(expected: dict[str, Any], parsed: ParsedMessage, add: Callable[[Check], None]) -> None:
    if expected["content_type"] is not None:
        add(Check("content_type", parsed.content_type == expected["content_type"], f"got {parsed.content_type}"))
    if expected["body_start"] is not None:
        want = expected["body_start"]
        if want == "no visible content":  # zammad's placeholder for an empty body
            ok = not parsed.text.strip()
        else:
            want = _squash(html_to_text(want) if re.search(r"<[a-zA-Z/][^>]*>", want) else want)[:40]
            ok = _squash(parsed.text).startswith(want) or _squash(html_to_text(parsed.html)).startswith(want)
        add(Check("body_start", ok, f"got {parsed.text[:60]!r}"))


def _check_attachments(
    expected: dict[str, Any], parsed: ParsedMessage, add: Callable[[Check], None], *, lenient: bool
) -> None:
    """``lenient`` (zammad): each listed name must be found, extra ones allowed; its "message.html"
    is the HTML body Zammad stores as a file, met by our sanitised HTML body."""
    names = [a.filename for a in parsed.attachments]
    html_file = lenient and bool(parsed.html) and "message.html" not in names
    if expected["attachment_names"] is not None:
        missing = [
            n for n in expected["attachment_names"] if n not in names and not (html_file and n == "message.html")
        ]
        add(Check("attachment_names", not missing, f"missing {missing}, got {names}"))
    if expected["attachment_count"] is not None:
        count = len(names) + html_file
        ok = count >= expected["attachment_count"] if lenient else count == expected["attachment_count"]
        add(Check("attachment_count", ok, f"got {count} {names}"))


def _check_automatic(expected: dict[str, Any], parsed: ParsedMessage, add: Callable[[Check], None]) -> None:
    why = parsed.automatic_reason
    if expected["is_bounce"] is not None:
        add(Check("is_bounce", parsed.is_bounce == expected["is_bounce"], f"got {parsed.is_bounce} ({why})"))
    if expected["is_auto_reply"] is not None:
        ok = parsed.is_auto_reply == expected["is_auto_reply"]
        add(Check("is_auto_reply", ok, f"got {parsed.is_auto_reply} ({why})"))


def evaluate(root: Path, entry: dict[str, Any]) -> Outcome:
    outcome = Outcome(path=entry["path"], source=entry["source"])
    expected = entry["expected"]
    try:
        raw = _read_input(root, entry)
        parsed = parse_message(raw) if entry["kind"] == "rfc822" else None
        parts = split_reply_parts(_reply_input(entry, raw, parsed))
    except Exception as exc:  # a crash is what this report is here to show
        outcome.error = f"{type(exc).__name__}: {exc}"
        return outcome
    add = outcome.checks.append
    if parsed is not None:
        _check_headers(expected, parsed, add)
        _check_body(expected, parsed, add)
        _check_attachments(expected, parsed, add, lenient=entry["source"] == "zammad")
        _check_automatic(expected, parsed, add)
    if expected["reply_text"] is not None:
        mode = expected["reply_text_compare"] or ""
        ok, detail = _compare_reply(expected["reply_text"], mode, parts.reply, parts.signature)
        add(Check("reply_text", ok, detail))
    return outcome


def run(root: Path | None = None) -> list[Outcome]:
    root = root or corpus_path()
    return [evaluate(root, entry) for entry in load_index(root)]
