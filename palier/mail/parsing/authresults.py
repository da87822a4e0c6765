"""Sender authentication from ``Authentication-Results`` headers (RFC 8601). Pure, never raises.

Palier checks no signature itself: the mail server the admin trusts (its *authserv-id*, set per
mailbox) verified SPF, DKIM and DMARC and stamped the message. Only headers carrying that exact
authserv-id are read; anybody can write an ``Authentication-Results`` header into a message, and
RFC 8601 §5 makes the trusted server remove the ones that claim its name before adding its own.
As a second guard, when several trusted headers report the same method, a failure beats a pass,
so a forged "pass" below the server's real "fail" changes nothing.

The parser is strict: comments are dropped, quoted values kept, and a header that does not follow
the grammar (unbalanced parentheses or quotes, a result that is not ``method=result``, a stray
word) is ignored as a whole. Verified means: ``dmarc=pass`` for the From domain, or (without a
``dmarc=fail``) ``spf=pass`` / ``dkim=pass`` for a domain aligned with it (the same domain, or one a subdomain of the other:
DMARC's relaxed alignment, without the public-suffix list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_HEADERS = 20  # Authentication-Results headers read per message
MAX_VALUE_CHARS = 4000
_PAIR = re.compile(r'\s*([A-Za-z0-9][A-Za-z0-9_.\-/]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s";=]+)\s*')
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class AuthResult:
    method: str  # lower case: "spf", "dkim", "dmarc", …
    result: str  # lower case: "pass", "fail", "none", …
    properties: dict[str, str] = field(default_factory=dict, hash=False)  # "header.from" -> "acme.test"


@dataclass(frozen=True)
class Verdict:
    status: str  # "pass" (verified), "fail" (the trusted server says no), "none" (nothing trusted to read)
    detail: str = ""  # what decided, for the quarantine page and the ticket note

    @property
    def verified(self) -> bool:
        return self.status == "pass"


def _strip_comments(value: str) -> str | None:  # noqa: C901 (one small state machine)
    """The value without its (nested) comments; None when a quote or parenthesis is left open."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            out.append(char)
            if char == '"':
                quoted = False
            continue
        if char == "(":
            depth += 1
            continue
        if char == ")":
            if depth == 0:
                return None
            depth -= 1
            if depth == 0:
                out.append(" ")
            continue
        if depth:
            continue
        if char == '"':
            quoted = True
        out.append(char)
    if depth or quoted or escaped:
        return None
    return "".join(out)


def _split(value: str) -> list[str]:
    """Split on ``;`` outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _resinfo(text: str) -> AuthResult | None:
    pairs: list[tuple[str, str]] = []
    position = 0
    for match in _PAIR.finditer(text):
        if match.start() != position:
            return None  # a stray word between pairs
        pairs.append((match.group(1).lower(), _unquote(match.group(2))))
        position = match.end()
    if position != len(text) or not pairs:
        return None
    method, result = pairs[0]
    method = method.split("/", 1)[0]
    if not _TOKEN.match(method) or "." in method or not _TOKEN.match(result):
        return None
    properties: dict[str, str] = {}
    for name, value in pairs[1:]:
        if name != "reason" and "." not in name:
            return None
        properties.setdefault(name, value.strip().lower())
    return AuthResult(method=method, result=result.lower(), properties=properties)


def parse_authentication_results(value: str) -> tuple[str, list[AuthResult]] | None:
    """``(authserv_id, results)`` of one header value, or None when it is not well formed."""
    if not value or len(value) > MAX_VALUE_CHARS:
        return None
    text = _strip_comments(re.sub(r"\r?\n[ \t]", " ", value))
    if text is None:
        return None
    parts = [p.strip() for p in _split(text)]
    head = parts[0].split()
    if not head or len(head) > 2 or (len(head) == 2 and not head[1].isdigit()):
        return None
    authserv_id = _unquote(head[0]).strip().lower()
    if not authserv_id:
        return None
    rest = [p for p in parts[1:] if p]
    if not rest or [p.lower() for p in rest] == ["none"]:
        return authserv_id, []
    results: list[AuthResult] = []
    for part in rest:
        parsed = _resinfo(part)
        if parsed is None:
            return None
        results.append(parsed)
    return authserv_id, results


def trusted_results(values: list[str], authserv_id: str) -> list[AuthResult] | None:
    """Results of the headers stamped by ``authserv_id``; None when no header carries it."""
    wanted = authserv_id.strip().lower()
    if not wanted:
        return None
    found: list[AuthResult] | None = None
    for value in values[:MAX_HEADERS]:
        parsed = parse_authentication_results(value)
        if parsed is None or parsed[0] != wanted:
            continue
        found = [*(found or []), *parsed[1]]
    return found


def _domain(value: str) -> str:
    """The domain of ``user@domain`` or of a bare domain, lower case, without a trailing dot."""
    return value.rsplit("@", 1)[-1].strip().strip("<>").rstrip(".").lower()


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment: the same domain, or one a subdomain of the other."""
    a, b = _domain(domain), _domain(from_domain)
    if not a or not b or "." not in a or "." not in b:
        return False
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def verdict(values: list[str], *, authserv_id: str, from_domain: str) -> Verdict:
    """Is the From domain authenticated by the trusted server? See the module docstring."""
    results = trusted_results(values, authserv_id)
    if results is None:
        return Verdict("none", f"no Authentication-Results from {authserv_id}")
    from_domain = _domain(from_domain)
    by_method: dict[str, list[AuthResult]] = {}
    for result in results:
        by_method.setdefault(result.method, []).append(result)
    dmarc = by_method.get("dmarc", [])
    failed = [r for r in dmarc if r.result == "fail"]
    if failed:  # the domain's own policy says no: nothing else can make it a pass
        return Verdict("fail", "dmarc=fail")
    passed = [r for r in dmarc if r.result == "pass"]
    if passed and all(_domain(r.properties.get("header.from", "")) == from_domain for r in passed):
        return Verdict("pass", f"dmarc=pass header.from={from_domain}")
    spf = by_method.get("spf", [])
    if spf and all(r.result == "pass" for r in spf):
        domains = {_domain(r.properties.get("smtp.mailfrom", "")) for r in spf}
        if len(domains) == 1 and aligned(next(iter(domains)), from_domain):
            return Verdict("pass", f"spf=pass smtp.mailfrom={next(iter(domains))}")
    for result in by_method.get("dkim", []):
        signer = result.properties.get("header.d") or result.properties.get("header.i", "")
        if result.result == "pass" and aligned(signer, from_domain):
            return Verdict("pass", f"dkim=pass header.d={_domain(signer)}")
    if not results:
        return Verdict("none", f"{authserv_id}: no result")
    summary = " ".join(f"{r.method}={r.result}" for r in results[:6])
    return Verdict("fail", f"no pass aligned with {from_domain}: {summary}")
