"""Full-text search over tickets, one function for both databases.

Text is normalised in Python (lower case, accents removed) before it is stored and before it is
searched, so "reseau" finds "réseau" on SQLite and PostgreSQL alike. Each word of the query must
match the start of a word of the ticket's subject, description or comments.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, Value
from django.db.models.expressions import RawSQL

from palier.lib.text import normalise as normalise  # one normalisation for tickets and people
from palier.tickets.models import SearchEntry, Ticket

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8
FEW_MATCHES = 2000  # SQLite: up to this many matching entries, filter tickets by an explicit id list
# PostgreSQL: the id list serves every word the planner expects in up to LIST_EXPECTED entries
# (about 1 % of tickets at 1,000,000); it is read up to LIST_MAX ids, past which the subquery takes over
LIST_EXPECTED = 40_000
LIST_MAX = 60_000


def terms(query: str) -> list[str]:
    return _WORD.findall(normalise(query))[:MAX_TERMS]


class _TsvMatch(Func):
    """``<searchentry>.tsv @@ to_tsquery('simple', query)`` on PostgreSQL.

    ``tsv`` is a stored generated column (migration 0004) that the ORM does not model, so its
    qualified name is derived from the compiled ``text`` column (the alias differs in subqueries).
    """

    output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        text_sql, text_params = compiler.compile(self.source_expressions[0])
        query_sql, query_params = compiler.compile(self.source_expressions[1])
        if not text_sql.endswith('"text"'):
            raise ValueError(f"unexpected column SQL {text_sql!r}")
        tsv_sql = text_sql[: -len('"text"')] + '"tsv"'
        return f"{tsv_sql} @@ to_tsquery('simple'::regconfig, {query_sql})", [*text_params, *query_params]


def _tsquery(words: list[str]) -> str:
    return " & ".join(f"{w}:*" for w in words)


def _matching_entries(words: list[str]) -> QuerySet[SearchEntry]:
    if connection.vendor == "postgresql":
        return SearchEntry.objects.filter(_TsvMatch(F("text"), Value(_tsquery(words))))
    fts = " ".join(f'"{w}"*' for w in words)
    return SearchEntry.objects.filter(
        id__in=RawSQL("SELECT rowid FROM tickets_searchentry_fts WHERE tickets_searchentry_fts MATCH %s", (fts,))
    )


def matching(query: str, *, include_internal: bool, hide_internal_of: Q | None = None) -> Q:
    """A filter on Ticket: tickets whose text matches every word of ``query``.

    All words must appear in the same entry (the ticket itself or one comment). Internal notes
    only count for people allowed to read them, and never on the tickets ``hide_internal_of``
    selects (an agent's own requests).
    """
    words = terms(query)
    if not words:
        return Q()
    entries = _matching_entries(words)
    if not include_internal:
        entries = entries.filter(is_internal=False)
    elif hide_internal_of is not None:
        entries = entries.exclude(is_internal=True, ticket_id__in=Ticket.objects.filter(hide_internal_of).values("pk"))
    # Rare words: read the matching ticket ids from the full-text index first (one cheap query)
    # and filter on that list. Left to itself the planner walks tickets newest first probing
    # each one, which for a word found nowhere meant reading all of them (4 s at 1,000,000).
    # Common words: the walk finds a page of matches quickly, so let the database do it.
    # PostgreSQL, middling words (thousands to tens of thousands of entries): the planner hashed
    # every matching entry against a sequential scan of all tickets (about 1 s at 1,000,000); the
    # id list lets it walk the newest tickets with a cheap membership test instead (3x faster).
    # Its estimate of the matching entries (from the column's statistics) says which words are
    # too common for a list; the count actually read decides in the end, so results never depend
    # on the estimate.
    cap = FEW_MATCHES
    if connection.vendor == "postgresql":
        cap = LIST_MAX if _expected_entries(words) <= LIST_EXPECTED else 0
    if cap:
        ids = list(entries.values_list("ticket_id", flat=True)[: cap + 1])
        if len(ids) <= cap:
            return _among(sorted(set(ids)))
    return Q(pk__in=entries.values("ticket_id"))


def _expected_entries(words: list[str]) -> float:
    """PostgreSQL's estimate of the search entries matching ``words`` (planning only, no scan)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT 1 FROM tickets_searchentry WHERE tsv @@ to_tsquery('simple'::regconfig, %s)",
            [_tsquery(words)],
        )
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


class _AnyOf(Func):
    """``<ticket id> = ANY(%s)`` with the ids as one array parameter (PostgreSQL).

    ``pk__in=[…]`` spells out one literal per id: with 2,000 ids the statement is 14 kB that
    PostgreSQL parses and plans again on every search (measured below in docs/performance.md).
    """

    output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        return f"{column_sql} = ANY(%s::bigint[])", [*column_params, self.ids]

    def __init__(self, column: F, ids: list[int]) -> None:
        super().__init__(column)
        self.ids = ids


def _among(ids: list[int]) -> Q:
    """A filter on Ticket: its id is one of ``ids``."""
    if not ids:
        return Q(pk__in=[])
    if connection.vendor == "postgresql":
        return Q(_AnyOf(F("pk"), ids))
    return Q(pk__in=ids)


def index_ticket_text(*, ticket_id: int, subject: str, description: str, new: bool = False) -> None:
    text = normalise(f"{subject}\n{description}")
    if new or not SearchEntry.objects.filter(ticket_id=ticket_id, comment__isnull=True).update(text=text):
        SearchEntry.objects.create(ticket_id=ticket_id, text=text)


def index_new_tickets(tickets: list[Ticket]) -> None:
    """The search entries of tickets created in this transaction (they have none yet)."""
    SearchEntry.objects.bulk_create(
        [SearchEntry(ticket_id=t.pk, text=normalise(f"{t.subject}\n{t.description}")) for t in tickets]
    )


def index_comment(*, ticket_id: int, comment_id: int, body: str, is_internal: bool) -> None:
    SearchEntry.objects.create(
        ticket_id=ticket_id, comment_id=comment_id, is_internal=is_internal, text=normalise(body)
    )


def move_comments(comment_ids: list[int], *, ticket_id: int) -> None:
    """The search entries of comments moved to another ticket (a merge, a split) follow them."""
    SearchEntry.objects.filter(comment_id__in=comment_ids).update(ticket_id=ticket_id)
