"""An administrator's pattern that reads a reference out of a message (a vendor's case number in
the subject or the body of its reply).

The pattern is a regular expression (Python's syntax) with exactly one capture group, at most
``MAX_PATTERN`` characters; it is searched in the subject (first ``SUBJECT_CHARS`` characters),
then in the first ``BODY_CHARS`` characters of the body. A pattern such as ``(a+)+$`` or
``.*.*.*x`` backtracks for minutes on a few kilobytes and the standard library's ``re`` cannot be
stopped, so patterns run on the ``regex`` package, whose searches take a ``timeout``
(``RUN_SECONDS``). The input is bounded too, and a pattern is refused when saved if it is already
too slow on simple worst cases (``check``). A search cut short finds nothing and says why.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import regex  # type: ignore[import-untyped]
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_PATTERN = 200
SUBJECT_CHARS = 1000
BODY_CHARS = 4096
MAX_RESULT = 100  # a longer capture is not a reference
RUN_SECONDS = 1.0  # the search itself
# simple worst cases: one character repeated, then one that breaks the run
PROBES = (
    *(char * (BODY_CHARS - 1) + "!" for char in ("a", "A", "0", " ", "-", "#")),
    "aA0 -#:/." * (BODY_CHARS // 9) + "!",
)


@dataclass(frozen=True)
class Found:
    reference: str = ""
    problem: str = ""  # "timeout" (the pattern took too long), or ""


def check(pattern: str, *, field: str = "pattern") -> str:
    """The pattern, stripped, or ``ValidationError`` on ``field`` saying what is wrong. Empty is fine."""
    pattern = (pattern or "").strip()
    if not pattern:
        return ""
    if len(pattern) > MAX_PATTERN:
        raise ValidationError({field: _("At most %(n)d characters.") % {"n": MAX_PATTERN}})
    if any(ord(char) < 32 for char in pattern):
        raise ValidationError({field: _("The pattern must be on one line.")})
    try:
        compiled = regex.compile(pattern, flags=regex.VERSION0)
    except (regex.error, RecursionError, OverflowError) as exc:
        raise ValidationError({field: _("This is not a valid regular expression: %(error)s") % {"error": exc}}) from exc
    if compiled.groups != 1:
        raise ValidationError(
            {field: _("The pattern needs exactly one group in parentheses, around the reference (it has %(n)d).")
             % {"n": compiled.groups}}
        )  # fmt: skip
    if _run(compiled, list(PROBES)).problem == "timeout":
        raise ValidationError({field: _("This pattern takes too long on some messages; make it simpler.")})
    return pattern


def search(pattern: str, *, subject: str, body: str) -> Found:
    """The first capture of ``pattern`` in the subject, else in the start of the body."""
    if not pattern:
        return Found()
    try:
        compiled = regex.compile(pattern, flags=regex.VERSION0)
    except (regex.error, RecursionError, OverflowError):
        return Found()
    found = _run(compiled, [(subject or "")[:SUBJECT_CHARS], (body or "")[:BODY_CHARS]])
    reference = " ".join(found.reference.split())
    if len(reference) > MAX_RESULT:
        reference = ""
    return Found(reference, found.problem)


def _run(compiled: regex.Pattern[str], texts: list[str]) -> Found:
    """The first capture in ``texts``, every search within ``RUN_SECONDS`` in all."""
    deadline = time.monotonic() + RUN_SECONDS
    for text in texts:
        try:
            match = compiled.search(text, timeout=max(deadline - time.monotonic(), 0.001))
        except TimeoutError:
            return Found(problem="timeout")
        if match is not None and match.group(1):
            return Found(str(match.group(1)))
    return Found()
