"""An administrator's pattern that reads a reference out of a message (a vendor's case number in
the subject or the body of its reply).

The pattern is a Python regular expression with exactly one capture group, at most
``MAX_PATTERN`` characters; it is searched in the subject (first ``SUBJECT_CHARS`` characters),
then in the first ``BODY_CHARS`` characters of the body. The standard library's ``re`` has no time
limit and a pattern such as ``(a+)+$`` or ``.*.*.*x`` backtracks for minutes on a few kilobytes,
so the search never runs in the caller's process: it runs in a short-lived child interpreter
(``python -I -S``, the standard library only) that is killed after ``RUN_SECONDS``. The input is
bounded too, and a pattern is refused when saved if it is already too slow on simple worst
cases (``check``). A search that is cut short or cannot start finds nothing and says why.
"""

from __future__ import annotations

import json
import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_PATTERN = 200
SUBJECT_CHARS = 1000
BODY_CHARS = 4096
MAX_RESULT = 100  # a longer capture is not a reference
START_SECONDS = 10.0  # the child interpreter's own start (a cold disk)
RUN_SECONDS = 1.0  # the search itself
# simple worst cases: one character repeated, then one that breaks the run
PROBES = (
    *(char * (BODY_CHARS - 1) + "!" for char in ("a", "A", "0", " ", "-", "#")),
    "aA0 -#:/." * (BODY_CHARS // 9) + "!",
)

_CHILD = """
import json, re, sys
data = json.loads(sys.stdin.read())
pattern = re.compile(data["pattern"])
sys.stdout.write("ready\\n"); sys.stdout.flush()
found = None
for text in data["texts"]:
    match = pattern.search(text)
    if match is not None and match.group(1):
        found = match.group(1)
        break
sys.stdout.write(json.dumps(found) + "\\n"); sys.stdout.flush()
"""


@dataclass(frozen=True)
class Found:
    reference: str = ""
    problem: str = ""  # "timeout" (the pattern took too long), "unavailable" (no child), or ""


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
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ValidationError({field: _("This is not a valid regular expression: %(error)s") % {"error": exc}}) from exc
    if compiled.groups != 1:
        raise ValidationError(
            {field: _("The pattern needs exactly one group in parentheses, around the reference (it has %(n)d).")
             % {"n": compiled.groups}}
        )  # fmt: skip
    found = _run(pattern, list(PROBES))
    if found.problem == "timeout":
        raise ValidationError({field: _("This pattern takes too long on some messages; make it simpler.")})
    return pattern


def search(pattern: str, *, subject: str, body: str) -> Found:
    """The first capture of ``pattern`` in the subject, else in the start of the body."""
    if not pattern:
        return Found()
    found = _run(pattern, [(subject or "")[:SUBJECT_CHARS], (body or "")[:BODY_CHARS]])
    reference = " ".join(found.reference.split())
    if len(reference) > MAX_RESULT:
        reference = ""
    return Found(reference, found.problem)


def _run(pattern: str, texts: list[str]) -> Found:
    payload = json.dumps({"pattern": pattern, "texts": texts}).encode()
    try:
        child = subprocess.Popen(  # noqa: S603 (our own interpreter and script; the pattern goes by stdin)
            [sys.executable, "-I", "-S", "-c", _CHILD],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    except OSError:
        return Found(problem="unavailable")
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(payload)  # a few kilobytes: the pipe takes them at once
        child.stdin.close()
        lines = _Lines(child.stdout.fileno())
        if lines.next(START_SECONDS) != "ready":
            return Found(problem="unavailable")
        result = lines.next(RUN_SECONDS)
        if result is None:
            return Found(problem="timeout")
        value = json.loads(result)
        return Found(str(value) if isinstance(value, str) else "")
    except (OSError, ValueError):
        return Found(problem="unavailable")
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()


class _Lines:
    """Lines read from a pipe, each within its own deadline (``None`` when it did not come)."""

    def __init__(self, fd: int) -> None:
        self.fd, self.buffer = fd, b""

    def next(self, seconds: float) -> str | None:
        deadline = time.monotonic() + seconds
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()
