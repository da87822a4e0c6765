"""The known-error base: search of problems and their suggestion on new incidents.

The same engine as the knowledge base (``palier/kb/search.py``): text normalised in Python (lower
case, no accents) before it is stored and searched, each query word stemmed by the French and the
English stemmers and the stems OR-ed, so "reseau" finds "réseau" and a French query finds an
English known error.

* PostgreSQL: ``problems_problem.tsv``, generated from ``search_text`` by both configurations, with
  a GIN index (migration 0002); ``ts_rank`` orders the matches.
* SQLite: the FTS5 table ``problems_problem_fts`` (title, body; rowid = problem id), written by
  ``sync_index`` from the services; ``bm25`` with the title weighted ten times orders them.

``search_problems`` is the known-error page (every word must match, the last one as a prefix).
``suggestions_for`` is the ticket page's panel: known errors sharing the incident's category, one
of its assets or services, or at least two words of its subject and description, best first,
in two queries (the words, then one written-out statement).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from django.db import connection
from django.db.models import BooleanField, FloatField, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.safestring import SafeString

from palier.kb import search as kb_search
from palier.lib.text import normalise
from palier.people.models import User
from palier.problems import permissions
from palier.problems.models import Problem
from palier.tickets.models import Ticket

FTS_TABLE = "problems_problem_fts"
LANGUAGES = ("fr", "en")
MAX_RESULTS = 500  # FTS5 rows read before the permission and status filters
SUGGESTIONS = 3
PRESELECTED = 20  # rows read to pick the best SUGGESTIONS
SUGGESTION_TERMS = 6  # words of an incident compared, in pairs (15 pairs)
PAGE_SIZE = 20
MAX_OFFSET = 200
# how much each reason weighs in the suggestions' order
ASSET_SCORE, CATEGORY_SCORE, WORDS_SCORE = 4, 2, 3
# words too common to say anything about an incident (both languages, normalised)
STOP_WORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "with",
        "not",
        "but",
        "are",
        "was",
        "has",
        "have",
        "from",
        "this",
        "that",
        "since",
        "when",
        "what",
        "cannot",
        "can",
        "does",
        "did",
        "all",
        "any",
        "our",
        "your",
        "you",
        "they",
        "them",
        "there",
        "here",
        "into",
        "out",
        "off",
        "its",
        "his",
        "her",
        "who",
        "why",
        "how",
        "yes",
        "also",
        "still",
        "les",
        "des",
        "une",
        "pour",
        "avec",
        "pas",
        "est",
        "que",
        "qui",
        "dans",
        "sur",
        "par",
        "plus",
        "mais",
        "son",
        "ses",
        "aux",
        "nous",
        "vous",
        "ils",
        "elle",
        "elles",
        "cette",
        "ces",
        "tout",
        "tous",
        "depuis",
        "quand",
        "comme",
        "tres",
        "bien",
        "etre",
        "avoir",
        "fait",
        "faire",
        "peut",
        "plus",
        "sans",
        "bonjour",
        "merci",
        "hello",
        "thanks",
        "please",
        "svp",
        "cordialement",
        "regards",
    ]
)
_PG_MATCH = '"problems_problem"."tsv" @@ to_tsquery(\'simple\'::regconfig, %s)'
_PG_RANK = 'ts_rank("problems_problem"."tsv", to_tsquery(\'simple\'::regconfig, %s))'
_FTS_IDS = "SELECT rowid FROM problems_problem_fts WHERE problems_problem_fts MATCH %s"


# --- indexing --------------------------------------------------------------------------------


def _stemmed(text: str) -> str:
    """The words of ``text`` stemmed by both stemmers (duplicates are harmless to FTS5)."""
    return " ".join(kb_search.stem_text(text, language) for language in LANGUAGES)


def sync_index(problem: Problem) -> None:
    """SQLite only: replace the problem's row in the FTS5 table (PostgreSQL's ``tsv`` column is
    generated from ``search_text`` by the database). Called by the services after each save."""
    if connection.vendor != "sqlite" or problem.pk is None:
        return
    title = normalise(f"{problem.reference} {problem.title}")
    body = normalise("\n".join([problem.description, problem.root_cause, problem.workaround]))
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid = %s", [problem.pk])  # noqa: S608 (constant table)
        cursor.execute(
            f"INSERT INTO {FTS_TABLE}(rowid, title, body) VALUES (%s, %s, %s)",  # noqa: S608
            [problem.pk, _stemmed(title), _stemmed(body)],
        )


# --- the known-error page ----------------------------------------------------------------------


@dataclass
class ProblemHit:
    problem: Problem
    title_html: SafeString
    root_cause_html: SafeString
    workaround_html: SafeString


@dataclass
class SearchPage:
    hits: list[ProblemHit] = field(default_factory=list)
    next_offset: int | None = None


def _visible(user: User, *, any_status: bool) -> QuerySet[Problem]:
    problems = Problem.objects.filter(permissions.visible(user))
    if not any_status:
        problems = problems.filter(status=Problem.Status.KNOWN_ERROR)
    return problems


def _ranked_ids(problems: QuerySet[Problem], terms: list[str], limit: int) -> list[int]:
    if connection.vendor == "postgresql":
        groups = kb_search.pg_term_groups(terms)
        if not groups:
            return []
        params = (" & ".join(groups),)
        rows = (
            problems.filter(RawSQL(_PG_MATCH, params, output_field=BooleanField()))  # noqa: S611 (constant SQL)
            .annotate(rank=RawSQL(_PG_RANK, params, output_field=FloatField()))  # noqa: S611
            .order_by("-rank", "-id")
            .values_list("id", flat=True)[:limit]
        )
        return list(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            f"{_FTS_IDS} ORDER BY bm25({FTS_TABLE}, 10.0, 1.0) LIMIT {MAX_RESULTS}",
            [" AND ".join(kb_search.fts5_term_groups(terms))],
        )
        order = [row[0] for row in cursor.fetchall()]
    if not order:
        return []
    allowed = set(problems.filter(pk__in=order).values_list("id", flat=True))
    return [pk for pk in order if pk in allowed][:limit]


def search_problems(
    user: User, query: str, *, any_status: bool = False, offset: int = 0, limit: int = PAGE_SIZE
) -> SearchPage:
    """Known errors (or, with ``any_status``, every problem) matching every word of ``query``,
    best first, with the title, root cause and workaround highlighted. Agents only; three
    queries at most."""
    terms = kb_search.query_terms(query)
    offset = max(0, min(offset, MAX_OFFSET))
    if not terms or not permissions.can(user, "view"):
        return SearchPage()
    ids = _ranked_ids(_visible(user, any_status=any_status), terms, offset + limit + 1)
    more = len(ids) > offset + limit
    ids = ids[offset : offset + limit]
    rows = Problem.objects.in_bulk(ids)
    stems = kb_search.query_stems(terms)
    hits = [
        ProblemHit(
            problem=rows[pk],
            title_html=kb_search.highlight(rows[pk].title, stems),
            root_cause_html=kb_search.highlight(rows[pk].root_cause, stems, excerpt=True),
            workaround_html=kb_search.highlight(rows[pk].workaround, stems, excerpt=True),
        )
        for pk in ids
        if pk in rows
    ]
    return SearchPage(hits=hits, next_offset=offset + limit if more and offset + limit <= MAX_OFFSET else None)


# --- suggestions on an incident ----------------------------------------------------------------


@dataclass
class Suggestion:
    problem: Problem
    same_category: bool
    same_asset: bool
    same_words: bool

    @property
    def score(self) -> int:
        return self.same_asset * ASSET_SCORE + self.same_category * CATEGORY_SCORE + self.same_words * WORDS_SCORE


CLOSED_TICKET = frozenset({Ticket.Status.RESOLVED, Ticket.Status.CLOSED, Ticket.Status.CANCELLED})


def suggestion_terms(ticket: Ticket) -> list[str]:
    """The telling words of the incident's subject and description (stop words left out)."""
    text = f"{ticket.subject}\n{ticket.description or ''}"
    seen: dict[str, None] = {}
    for word in kb_search.words(text):
        if len(word) >= 3 and word not in STOP_WORDS and not word.isdigit():
            seen.setdefault(word, None)
    return list(seen)[:SUGGESTION_TERMS]


def _pairs(groups: list[str], both: str, either: str) -> str:
    """At least two of the words: one word alone (a common one) suggests too much."""
    if len(groups) < 2:
        return either.join(groups)
    return either.join(f"({a}{both}{b})" for a, b in combinations(groups, 2))


def _words_match(terms: list[str]) -> tuple[str, list[object]] | None:
    """An SQL condition on ``p`` (a problems_problem row) holding at least two of ``terms``: on
    PostgreSQL a tsquery of every pair (one query stems the words), on SQLite the ids of the rows
    holding any of them (one FTS5 query) counted in Python, cheaper than FTS5 evaluating pairs."""
    if not terms:
        return None
    if connection.vendor == "postgresql":
        groups = kb_search.pg_term_groups(terms, prefix_last=False)
        query = _pairs(groups, " & ", " | ")
        if not query:
            return None
        return "p.tsv @@ to_tsquery('simple'::regconfig, %s)", [query]
    wanted = 1 if len(terms) == 1 else 2
    stems = [kb_search.query_stems([term]) for term in terms]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT rowid, title, body FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT {MAX_RESULTS}",  # noqa: S608
            [" OR ".join(kb_search.fts5_term_groups(terms, prefix_last=False))],
        )
        rows = cursor.fetchall()
    ids = [pk for pk, title, body in rows if sum(1 for g in stems if g & set(f"{title} {body}".split())) >= wanted]
    if not ids:
        return None
    return "p.id IN (" + ", ".join(["%s"] * len(ids)) + ")", list(ids)


# one statement, written out: the ORM took longer to build it than the database to run it
_SUGGEST = """
SELECT p.id, p.number, p.title, p.status, p.workaround, p.known_error_at,
  CASE WHEN {asset} THEN 1 ELSE 0 END AS by_asset,
  CASE WHEN {words} THEN 1 ELSE 0 END AS by_words,
  CASE WHEN {category} THEN 1 ELSE 0 END AS by_category
FROM problems_problem p
WHERE p.status = %s
  AND NOT EXISTS (SELECT 1 FROM problems_problemincident pi WHERE pi.ticket_id = %s)
  AND ({category} OR {asset} OR {words})
ORDER BY by_asset DESC, by_words DESC, by_category DESC, p.known_error_at DESC, p.id DESC
LIMIT %s
"""
_SAME_ASSET = (
    "EXISTS (SELECT 1 FROM problems_problemasset pa JOIN assets_ticketasset ta ON ta.asset_id = pa.asset_id "
    "WHERE pa.problem_id = p.id AND ta.ticket_id = %s)"
)


def wants_suggestions(ticket: Ticket) -> bool:
    return ticket.kind == Ticket.Kind.INCIDENT and ticket.status not in CLOSED_TICKET


def suggestions_for(user: User, ticket: Ticket, *, limit: int = SUGGESTIONS) -> list[Suggestion]:
    """Known errors that may explain the open incident ``ticket``, best first: same asset or
    business service (linked to the ticket and named on the problem), same category, or two of
    its words. None once the incident is linked to a problem. Two queries at most (the words:
    PostgreSQL's stems or SQLite's FTS5 rows; then the statement), one when the incident has no
    telling word; none for a request or a finished ticket."""
    if not wants_suggestions(ticket) or not permissions.can(user, "view"):
        return []
    # agents see every problem (permissions.visible): no filter on the rows beyond the status
    words = _words_match(suggestion_terms(ticket))
    words_sql, words_params = words if words is not None else ("1 = 0", [])
    category_sql, category_params = (
        ("p.category_id = %s", [ticket.category_id]) if ticket.category_id else ("1 = 0", [])
    )
    sql = _SUGGEST.format(asset=_SAME_ASSET, words=words_sql, category=category_sql)
    params: list[object] = [
        ticket.pk,
        *words_params,
        *category_params,
        Problem.Status.KNOWN_ERROR,
        ticket.pk,
        *category_params,
        ticket.pk,
        *words_params,
        PRESELECTED,
    ]
    found = [
        Suggestion(
            problem=row,
            same_category=bool(getattr(row, "by_category", 0)),
            same_asset=bool(getattr(row, "by_asset", 0)),
            same_words=bool(getattr(row, "by_words", 0)),
        )
        for row in Problem.objects.raw(sql, params)
    ]
    found.sort(key=lambda s: -s.score)  # stable: equal scores keep the SQL order (latest known error first)
    return found[:limit]


def problem_for(user: User, problem_id: int) -> Problem | None:
    """The problem ``user`` may see, or None."""
    if not permissions.can(user, "view"):
        return None
    return Problem.objects.filter(permissions.visible(user), pk=problem_id).first()
