"""The Palier API client: one ``Client`` per server and token, standard library only.

Retries: a 429 (rate limit) is always retried, as the server did nothing; a 503 and a lost
connection are retried only when repeating the request is safe (a read, or a write carrying an
Idempotency-Key, which every creation does). Each wait honours ``Retry-After`` (seconds or an
HTTP date), capped by ``max_wait``; without it the waits grow 1, 2, 4… seconds.
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict, cast

from palier_client import __version__
from palier_client.operations import OPERATIONS

JSON = dict[str, Any]
SAFE = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 503})


class ApiError(Exception):
    """An error answer (RFC 9457 problem): ``status``, ``detail`` and ``errors`` by field."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str]) -> None:
        problem = body if isinstance(body, dict) else {}
        self.status = status
        self.title: str = str(problem.get("title", ""))
        self.detail: str = str(problem.get("detail", "") or body or "")
        self.errors: dict[str, list[str]] = dict(problem.get("errors") or {})
        self.headers = dict(headers)
        super().__init__(f"{status} {self.title}: {self.detail}".strip())


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")


class TicketSummary(TypedDict, total=False):
    id: int
    reference: str
    kind: str
    number: int
    subject: str
    status: str
    impact: str
    urgency: str
    priority: int
    channel: str
    requester: JSON
    group: JSON | None
    assignee: JSON | None
    created_at: str
    updated_at: str
    version: int


class Ticket(TicketSummary, total=False):
    description: str
    tags: list[str]
    watchers: list[JSON]
    links: list[JSON]
    etag: str  # the ETag header, for update(..., etag=…)


class BulkItemResult(TypedDict):
    index: int
    status: str  # created, existing or error
    id: int | None
    reference: str | None
    errors: dict[str, list[str]]


class BulkResult(TypedDict):
    created: int
    existing: int
    failed: int
    items: list[BulkItemResult]


class BulkUpdateResult(TypedDict):
    matched: int
    dry_run: bool
    updated: int
    unchanged: int
    failed: int
    items: list[JSON]


def new_key() -> str:
    """A fresh Idempotency-Key."""
    return str(uuid.uuid4())


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else datetime.now(UTC).timestamp()))


@dataclass
class Client:
    """``Client("https://desk.example.org", token="plr_…")``; every method raises ``ApiError``."""

    base_url: str
    token: str
    timeout: float = 30.0
    retries: int = 4  # attempts after the first
    max_wait: float = 60.0  # the longest single wait, whatever Retry-After says
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    language: str | None = None  # Accept-Language of the answers' messages

    def __post_init__(self) -> None:
        if urllib.parse.urlsplit(self.base_url).scheme not in {"http", "https"}:
            raise ValueError("base_url must be an http:// or https:// address")
        self.base_url = self.base_url.rstrip("/")
        if not self.base_url.endswith("/api/v1"):
            self.base_url += "/api/v1"

    # --- the generic call ---------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        repeatable: bool | None = None,
    ) -> Response:
        """Call any endpoint (``path`` relative to /api/v1). Retries as the module says;
        ``repeatable`` overrides whether a 503 or a lost connection may be retried."""
        method = method.upper()
        url = self.base_url + path + _query(params)
        sent = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        sent["User-Agent"] = f"palier-client/{__version__}"
        if self.language:
            sent["Accept-Language"] = self.language
        if idempotency_key:
            sent["Idempotency-Key"] = idempotency_key
        sent.update(headers or {})
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        if repeatable is None:
            repeatable = method in SAFE or "Idempotency-Key" in sent
        attempt = 0
        while True:
            try:
                response = self._send(method, url, data, sent)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if not repeatable or attempt >= self.retries:
                    raise
                self.sleep(min(self.max_wait, 2.0**attempt))
                attempt += 1
                continue
            status = response.status
            if status in RETRY_STATUSES and attempt < self.retries and (status == 429 or repeatable):
                wait = retry_after(response.headers.get("retry-after"))
                self.sleep(min(self.max_wait, wait if wait is not None else 2.0**attempt))
                attempt += 1
                continue
            if status >= 400:
                raise ApiError(status, response.body, response.headers)
            return response

    def _send(self, method: str, url: str, data: bytes | None, headers: Mapping[str, str]) -> Response:
        # the caller's own server address (http or https), not a user-supplied URL
        req = urllib.request.Request(url, data=data, method=method, headers=dict(headers))  # noqa: S310
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as answer:  # noqa: S310
                return _response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as error:
            with error:
                return _response(error.code, error.headers, error.read())

    def _call(
        self, operation: str, *, params: Mapping[str, Any] | None = None, body: Any = None, **kw: Any
    ) -> Response:
        op = OPERATIONS[operation]
        path_args = {k: urllib.parse.quote(str(v), safe="") for k, v in kw.pop("path", {}).items()}
        return self.request(op.method, op.path.format(**path_args), params=params, json_body=body, **kw)

    def _pages(self, operation: str, params: Mapping[str, Any], **kw: Any) -> Iterator[JSON]:
        query = dict(params)
        while True:
            page = self._call(operation, params=query, **kw).body
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]

    # --- tickets ------------------------------------------------------------------------------

    def list_tickets(self, *, cursor: str | None = None, limit: int = 25, **filters: Any) -> JSON:
        """One page: ``{"items": [...], "next_cursor": …}``. Filters as ``GET /tickets`` (status,
        kind, priority, group, assignee, unassigned, requester, category, organisation,
        created_after, created_before, q, sort)."""
        return cast(JSON, self._call("tickets.list", params={**filters, "cursor": cursor, "limit": limit}).body)

    def iter_tickets(self, *, limit: int = 100, **filters: Any) -> Iterator[TicketSummary]:
        """Every matching ticket, following the cursors page after page."""
        for item in self._pages("tickets.list", {**filters, "limit": limit}):
            yield cast(TicketSummary, item)

    def get_ticket(self, ticket_id: int) -> Ticket:
        response = self._call("tickets.get", path={"ticket_id": ticket_id})
        return _with_etag(response)

    def get_ticket_by_reference(self, reference: str) -> Ticket:
        return _with_etag(self._call("tickets.by_reference", path={"reference": reference}))

    def create_ticket(self, subject: str, *, idempotency_key: str | None = None, **fields: Any) -> Ticket:
        """Open a ticket. An Idempotency-Key is always sent (a new one unless given), so a retry
        after a lost answer returns the same ticket instead of a second one."""
        response = self._call(
            "tickets.create", body={"subject": subject, **fields}, idempotency_key=idempotency_key or new_key()
        )
        return _with_etag(response)

    def update_ticket(self, ticket_id: int, changes: Mapping[str, Any], *, etag: str) -> Ticket:
        """Change fields; ``etag`` is the one you read (412 ``ApiError`` if the ticket changed)."""
        response = self._call(
            "tickets.update", path={"ticket_id": ticket_id}, body=dict(changes), headers={"If-Match": etag}
        )
        return _with_etag(response)

    def transition_ticket(self, ticket_id: int, status: str, *, note: str = "", etag: str | None = None) -> Ticket:
        headers = {"If-Match": etag} if etag else None
        body = {"status": status, **({"note": note} if note else {})}
        return _with_etag(self._call("tickets.transition", path={"ticket_id": ticket_id}, body=body, headers=headers))

    def comment(self, ticket_id: int, body: str, *, internal: bool = False) -> JSON:
        """A public reply, or an internal note (agents)."""
        payload = {"body": body, "internal": internal}
        return cast(JSON, self._call("tickets.comment", path={"ticket_id": ticket_id}, body=payload).body)

    def iter_comments(self, ticket_id: int) -> Iterator[JSON]:
        return self._pages("tickets.comments", {"limit": 100}, path={"ticket_id": ticket_id})

    def iter_history(self, ticket_id: int) -> Iterator[JSON]:
        return self._pages("tickets.history", {"limit": 100}, path={"ticket_id": ticket_id})

    def bulk_create(self, items: Sequence[Mapping[str, Any]], *, atomic: bool = True) -> BulkResult:
        """Open up to 1,000 tickets in one request. Items without an ``idempotency_key`` get one,
        so the whole request can be retried safely; the results keep the items' order."""
        keyed = [{**item, "idempotency_key": item.get("idempotency_key") or new_key()} for item in items]
        body = {"items": keyed, "atomic": atomic}
        # every item carries its key: the request as a whole is repeatable
        return cast(BulkResult, self._call("tickets.bulk", body=body, repeatable=True).body)

    def bulk_update(
        self, patch: Mapping[str, Any], *, max: int, filter: Mapping[str, Any] | None = None, dry_run: bool = False
    ) -> BulkUpdateResult:
        """Apply ``patch`` to the tickets ``filter`` matches; refused (409) if more than ``max`` do."""
        body = {"patch": dict(patch), "max": max, "filter": dict(filter or {}), "dry_run": dry_run}
        return cast(BulkUpdateResult, self._call("tickets.bulk_update", body=body).body)

    # --- people and reference data -----------------------------------------------------------

    def me(self) -> JSON:
        return cast(JSON, self._call("users.me").body)

    def iter_users(self, **filters: Any) -> Iterator[JSON]:
        return self._pages("users.list", {**filters, "limit": 100})

    def get_user(self, user_id: int) -> JSON:
        return cast(JSON, self._call("users.get", path={"object_id": user_id}).body)

    def iter_groups(self) -> Iterator[JSON]:
        return self._pages("groups.list", {"limit": 100})

    def categories(self) -> list[JSON]:
        return cast(list[JSON], self._call("categories.list").body)


def _query(params: Mapping[str, Any] | None) -> str:
    pairs: list[tuple[str, str]] = []
    for name, value in (params or {}).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for one in values:
            if one is None:
                continue
            if isinstance(one, bool):
                one = "true" if one else "false"
            elif isinstance(one, datetime):
                one = one.isoformat()
            pairs.append((name, str(one)))
    return "?" + urllib.parse.urlencode(pairs) if pairs else ""


def _response(status: int, headers: Any, raw: bytes) -> Response:
    lowered = {k.lower(): v for k, v in headers.items()}
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
    return Response(status, lowered, body)


def _with_etag(response: Response) -> Ticket:
    ticket = cast(Ticket, dict(response.body))
    if response.etag:
        ticket["etag"] = response.etag
    return ticket
