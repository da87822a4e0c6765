"""Bulk creation: up to ``MAX_ITEMS`` tickets in one call, each with its own result.

Every item is checked first, without writing (``prepare_ticket``, the field permissions, the ids
it names); then the good ones are written together by ``open_tickets`` (a handful of statements
for the whole batch) and their idempotency keys recorded in the same transaction.

- ``atomic=True`` (the default): one bad item refuses the whole call (``BulkRefused`` naming each
  bad item's index and errors) and nothing is created.
- ``atomic=False``: the good items are created, the bad ones reported.

An item may carry an idempotency key. The keys share the namespace of the ``Idempotency-Key``
header of single creations (``IdempotencyKey``, per user): an item whose key was already used
with the same content answers the ticket created then (``existing``), even when the earlier call
only partly succeeded; the same key with other content is an error on that item. Two concurrent
calls with the same keys race on the key's unique constraint: the loser's write is rolled back
and its items are answered again as ``existing``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from palier.lib.errors import DomainError
from palier.people.models import SupportGroup, User
from palier.tickets import permissions
from palier.tickets.models import Category, IdempotencyKey, Ticket
from palier.tickets.services.lifecycle import NewTicket, open_tickets, prepare_ticket

MAX_ITEMS = 1000

Errors = dict[str, list[str]]


@dataclass
class BulkItem:
    """One ticket of a bulk call, as the interface parsed it: ids, not objects (they are read
    for the whole batch at once). ``sent`` names the fields the caller chose (for the field
    permissions); ``fingerprint`` identifies the content behind ``key``."""

    index: int
    fields: dict[str, Any]
    sent: frozenset[str] = frozenset()
    key: str | None = None
    fingerprint: str = ""


@dataclass
class ItemResult:
    index: int
    status: Literal["created", "existing", "error"]
    ticket: Ticket | None = None
    errors: Errors = field(default_factory=dict)


class BulkRefused(DomainError):
    """An all-or-nothing call with bad items: nothing was created."""

    status = 422
    title = "Invalid input"

    def __init__(self, errors: Mapping[int, Errors]) -> None:
        super().__init__(
            _("%(n)d of the tickets are not valid; nothing was created.") % {"n": len(errors)}
            if len(errors) > 1
            else _("One of the tickets is not valid; nothing was created.")
        )
        self.item_errors = dict(sorted(errors.items()))


def _error_dict(exc: ValidationError | DomainError) -> Errors:
    if isinstance(exc, DomainError):
        return {exc.field or "__all__": [exc.message]}
    if hasattr(exc, "error_dict"):
        return {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
    return {"__all__": [str(m) for m in exc.messages]}


# --- the ids an item names, read once for the batch -------------------------------------------------


@dataclass
class _Refs:
    users: dict[int, User]
    groups: dict[int, SupportGroup]
    categories: dict[int, Category]

    @classmethod
    def read(cls, items: Sequence[BulkItem]) -> _Refs:
        def ids(*names: str) -> set[int]:
            # an id beyond the database's integers names nothing (the item is then refused on its field)
            values = (item.fields.get(n) for item in items for n in names)
            return {v for v in values if isinstance(v, int) and 0 < v < 2**63}

        users = User.objects.filter(pk__in=ids("requester", "assignee"), is_active=True).select_related("organisation")
        return cls(
            users={u.pk: u for u in users},
            groups={g.pk: g for g in SupportGroup.objects.filter(pk__in=ids("group"))},
            categories={c.pk: c for c in Category.objects.filter(pk__in=ids("category"))},
        )

    def resolve(self, fields: dict[str, Any], by: User) -> dict[str, Any]:
        """``fields`` with objects for ids (a missing id is a ``ValidationError`` on its field)."""
        out = dict(fields)
        for name, found in (
            ("requester", self.users),
            ("assignee", self.users),
            ("group", self.groups),
            ("category", self.categories),
        ):
            pk = fields.get(name)
            if pk is None:
                out[name] = by if name == "requester" else None
            elif pk in found:
                out[name] = found[pk]
            else:
                raise ValidationError({name: _("No such item (id not found).")})
        return out


# --- the call -------------------------------------------------------------------------------------


def open_tickets_in_bulk(
    *, by: User, items: Sequence[BulkItem], invalid: Mapping[int, Errors] | None = None, atomic: bool = True
) -> list[ItemResult]:
    """Create the tickets of ``items`` (see the module's docstring); ``invalid`` holds the items
    the interface could not even parse, by index. Returns one result per index, in order."""
    total = len(items) + len(invalid or {})
    if total > MAX_ITEMS:
        raise ValidationError(
            {"items": _("At most %(max)d tickets in one request; send the rest in another.") % {"max": MAX_ITEMS}}
        )
    if total == 0:
        raise ValidationError({"items": _("Send at least one ticket.")})
    try:
        return _attempt(by=by, items=items, invalid=invalid or {}, atomic=atomic)
    except IntegrityError:
        # a concurrent call recorded some of the same keys first: its tickets are the answer
        return _attempt(by=by, items=items, invalid=invalid or {}, atomic=atomic)


def _attempt(*, by: User, items: Sequence[BulkItem], invalid: Mapping[int, Errors], atomic: bool) -> list[ItemResult]:
    results: dict[int, ItemResult] = {i: ItemResult(i, "error", errors=dict(e)) for i, e in invalid.items()}
    fresh = _replay(by, items, results)
    prepared = _prepare(by, fresh, results)
    bad = {i: r.errors for i, r in results.items() if r.status == "error"}
    if bad and atomic:
        raise BulkRefused(bad)
    with transaction.atomic():
        for (item, _new), ticket in zip(prepared, open_tickets([new for _item, new in prepared]), strict=True):
            results[item.index] = ItemResult(item.index, "created", ticket)
        IdempotencyKey.objects.bulk_create(
            [
                IdempotencyKey(user=by, key=item.key, fingerprint=item.fingerprint, ticket=results[item.index].ticket)
                for item, _new in prepared
                if item.key
            ]
        )
    return [results[i] for i in sorted(results)]


def _replay(by: User, items: Sequence[BulkItem], results: dict[int, ItemResult]) -> list[BulkItem]:
    """Answer the items whose key was used before; return the others (keys repeated inside the
    call are refused on the later item)."""
    keys = [item.key for item in items if item.key]
    previous = {k.key: k for k in IdempotencyKey.objects.filter(user=by, key__in=keys).select_related("ticket")}
    first_with: dict[str, int] = {}
    fresh: list[BulkItem] = []
    for item in items:
        if not item.key:
            fresh.append(item)
            continue
        if item.key in first_with:
            message = _("This key is already used by item %(index)d of this request.") % {"index": first_with[item.key]}
            results[item.index] = ItemResult(item.index, "error", errors={"idempotency_key": [message]})
            continue
        first_with[item.key] = item.index
        earlier = previous.get(item.key)
        if earlier is None:
            fresh.append(item)
        elif earlier.fingerprint != item.fingerprint:
            message = _("This key was already used with a different ticket; use a new key.")
            results[item.index] = ItemResult(item.index, "error", errors={"idempotency_key": [message]})
        else:
            results[item.index] = ItemResult(item.index, "existing", earlier.ticket)
    return fresh


def _prepare(by: User, items: Sequence[BulkItem], results: dict[int, ItemResult]) -> list[tuple[BulkItem, NewTicket]]:
    """Validate each item without writing; the refused ones become error results."""
    refs = _Refs.read(items)
    prepared: list[tuple[BulkItem, NewTicket]] = []
    for item in items:
        try:
            permissions.check_fields(by, item.sent)
            prepared.append((item, prepare_ticket(by=by, **refs.resolve(item.fields, by))))
        except (ValidationError, DomainError) as exc:
            results[item.index] = ItemResult(item.index, "error", errors=_error_dict(exc))
    return prepared
