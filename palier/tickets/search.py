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
from django.db.models import BooleanField, F, Func, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.lookups import IsNull

from palier.lib.text import normalise as normalise  # one normalisation for tickets and people
from palier.tickets.models import SearchEntry, Ticket

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8
FEW_MATCHES = 2000  # SQLite: up to this many matching entries, filter tickets by an explicit id list
# PostgreSQL: the id list serves every word the planner expects in up to LIST_EXPECTED entries
# (about 1 % of tickets at 1,000,000); it is read up to LIST_MAX ids, past which the subquery takes over
LIST_EXPECTED = 40_000
LIST_MAX = 60_000
# PostgreSQL, newest first: words expected in more entries than this (about 1.5 % of tickets)
# are found by walking the tickets in that order (an index) and probing each one's entries
WALK_EXPECTED = 15_000
NEWEST_FIRST_SORTS = frozenset({"-created", "-updated"})  # sorts read from an index of tickets


def terms(query: str) -> list[str]:
    return _WORD.findall(normalise(query))[:MAX_TERMS]


class _TsvMatch(Func):
    """``<searchentry>.tsv @@ to_tsquery('simple', 'query')`` on PostgreSQL.

    ``tsv`` is a stored generated column (migration 0004) that the ORM does not model, so its
    qualified name is derived from the compiled ``text`` column (the alias differs in subqueries).
    The query is written into the statement, not passed as a parameter: Palier's connections
    prepare a statement they run often (``PALIER_PG_PREPARE``), and PostgreSQL then plans it
    once for every word; a plan made for a common word walks all tickets for a rare one (3 s at
    1,000,000), one made for a rare word hashes every match of a common one.
    """

    output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        text_sql, text_params = compiler.compile(self.source_expressions[0])
        if not text_sql.endswith('"text"'):
            raise ValueError(f"unexpected column SQL {text_sql!r}")
        tsv_sql = text_sql[: -len('"text"')] + '"tsv"'
        query = self.source_expressions[1]
        if not isinstance(query, Value):
            raise TypeError("the search query must be a Value")
        return f"{tsv_sql} @@ {_tsquery_sql(query.value)}", text_params


_SAFE_TSQUERY = re.compile(r"^\w+:\*( & \w+:\*)*$", re.UNICODE)


def _tsquery_sql(tsquery: str) -> str:
    """``to_tsquery('simple', '<tsquery>')`` as SQL text (``terms`` keeps only word characters)."""
    if not _SAFE_TSQUERY.fullmatch(tsquery):
        raise ValueError(f"unexpected search query {tsquery!r}")
    return f"to_tsquery('simple'::regconfig, '{tsquery}')"


def _tsquery(words: list[str]) -> str:
    return " & ".join(f"{w}:*" for w in words)


def _matching_entries(words: list[str]) -> QuerySet[SearchEntry]:
    if connection.vendor == "postgresql":
        return SearchEntry.objects.filter(_TsvMatch(F("text"), Value(_tsquery(words))))
    fts = " ".join(f'"{w}"*' for w in words)
    return SearchEntry.objects.filter(
        id__in=RawSQL("SELECT rowid FROM tickets_searchentry_fts WHERE tickets_searchentry_fts MATCH %s", (fts,))
    )


def matching(query: str, *, include_internal: bool, hide_internal_of: Q | None = None, newest_first: bool = False) -> Q:
    """A filter on Ticket: tickets whose text matches every word of ``query``.

    All words must appear in the same entry (the ticket itself or one comment). Internal notes
    only count for people allowed to read them, and never on the tickets ``hide_internal_of``
    selects (an agent's own requests). ``newest_first``: the tickets are read newest first
    (``NEWEST_FIRST_SORTS``), which lets common words be found by walking them.
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
    # Newest first, words in more than a few thousand entries: walk the tickets in that order and
    # probe each one's entries ("LIMIT 1": the first match is enough). A scalar subquery, so the
    # planner cannot turn it into a hash of every match again; 45-60 ms for 1-10 % words at
    # 1,000,000 where the list read 17,000 entries and the hash join read 65,000 pages.
    cap = FEW_MATCHES
    if connection.vendor == "postgresql":
        expected = _expected_entries(words)
        if newest_first and expected > WALK_EXPECTED:
            probe = entries.filter(ticket_id=OuterRef("pk")).values("pk")[:1]
            return Q(IsNull(Subquery(probe), False))
        cap = LIST_MAX if expected <= LIST_EXPECTED else 0
    if cap:
        ids = list(entries.values_list("ticket_id", flat=True)[: cap + 1])
        if len(ids) <= cap:
            return _among(sorted(set(ids)))
    return Q(pk__in=entries.values("ticket_id"))


def _expected_entries(words: list[str]) -> float:
    """PostgreSQL's estimate of the search entries matching ``words`` (planning only, no scan)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM tickets_searchentry WHERE tsv @@ {_tsquery_sql(_tsquery(words))}"  # noqa: S608 - checked words
        )
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return float(plan[0]["Plan"]["Plan Rows"])


class _AnyOf(Func):
    """``<ticket id> = ANY('{…}'::bigint[])``: the ids as one array constant (PostgreSQL).

    ``pk__in=[…]`` makes one expression per id for PostgreSQL to parse and plan. A constant,
    not a parameter, so that a prepared statement never reuses a plan made for another length.
    """

    output_field = BooleanField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        array = ",".join(str(int(i)) for i in self.ids)
        return f"{column_sql} = ANY('{{{array}}}'::bigint[])", column_params

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
