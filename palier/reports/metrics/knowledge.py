"""Knowledge-base figures: views, deflections, helpful votes, the most used articles and the
searches that found nothing.

Articles are not tickets, so these take the viewer rather than a ticket scope; any agent may see
them (agents manage every article), and they cover every article whatever its status now.

* a **view** is one person reading an article on one day (``kb.ArticleView``, written by
  ``kb.services.record_view`` when the reader's article page is served; reloading the same day
  adds nothing), counted in the period of that day's first reading;
* a **deflection** is a requester saying an article solved the problem they were about to report
  (``kb.Deflection``), counted when it was said;
* a **helpful vote** is a "yes" to "Was this helpful?", counted in the period of its latest change
  (a vote changed from yes to no leaves the figure);
* a **failed search** is a search of the knowledge-base home that found nothing (``kb.FailedSearch``,
  written by ``kb.services.record_search``): once per person, normalised query and day.

Every function runs a constant number of aggregate queries.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.utils.translation import gettext as _

from palier.kb import permissions as kb_permissions
from palier.kb.models import ArticleTranslation, ArticleView, Deflection, FailedSearch, HelpfulVote
from palier.kb.search import reader_language
from palier.lib.errors import PermissionDenied
from palier.people.models import User
from palier.reports.periods import Period
from palier.reports.types import Kpi, Row, Table

TOP_ARTICLES = 10
TOP_SEARCHES = 20


def _require(viewer: User) -> None:
    if not kb_permissions.can_manage(viewer):
        raise PermissionDenied(_("You cannot see these figures."))


def _two_periods(qs: QuerySet[Any], field: str, period: Period) -> tuple[int, int]:
    """Rows of ``qs`` whose ``field`` lies in the period and in the previous one: one query."""
    previous = period.previous()
    totals = (
        qs.filter(**{f"{field}__gte": previous.start, f"{field}__lt": period.end})
        .order_by()
        .aggregate(
            now=Count("pk", filter=Q(**{f"{field}__gte": period.start})),
            before=Count("pk", filter=Q(**{f"{field}__lt": period.start})),
        )
    )
    return int(totals["now"]), int(totals["before"])


def knowledge_kpis(*, viewer: User, period: Period) -> list[Kpi]:
    """Views, deflections and helpful votes of the period, with the previous period's. Three queries."""
    _require(viewer)
    figures = {
        "views": _two_periods(ArticleView.objects.all(), "viewed_at", period),
        "deflections": _two_periods(Deflection.objects.all(), "created_at", period),
        "helpful_votes": _two_periods(HelpfulVote.objects.filter(helpful=True), "updated_at", period),
    }
    return [Kpi(key=key, value=now, previous=before, unit="count") for key, (now, before) in figures.items()]


def _per_article(qs: QuerySet[Any], field: str, start: datetime, end: datetime) -> dict[int, int]:
    rows = qs.filter(**{f"{field}__gte": start, f"{field}__lt": end}).order_by().values("article_id")
    return dict(rows.annotate(n=Count("pk")).values_list("article_id", "n"))


def _titles(article_ids: list[int]) -> dict[int, str]:
    """Each article's title in the reader's language, else its other one: one query."""
    language = reader_language()
    titles: dict[int, str] = {}
    rows = ArticleTranslation.objects.filter(article_id__in=article_ids).values_list("article_id", "language", "title")
    for article_id, row_language, title in rows:
        if row_language == language or article_id not in titles:
            titles[article_id] = title
    return titles


def top_articles(*, viewer: User, period: Period) -> Table:
    """The 10 most used articles of the period: most views first, then most deflections, with
    their helpful and unhelpful votes (key: article id). Four queries."""
    _require(viewer)
    start, end = period.start, period.end
    views = _per_article(ArticleView.objects.all(), "viewed_at", start, end)
    deflections = _per_article(Deflection.objects.all(), "created_at", start, end)
    votes = (
        HelpfulVote.objects.filter(updated_at__gte=start, updated_at__lt=end)
        .order_by()
        .values("article_id")
        .annotate(yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False)))
    )
    helpful = {row["article_id"]: (row["yes"], row["no"]) for row in votes}
    used = set(views) | set(deflections) | set(helpful)
    ranked = sorted(used, key=lambda pk: (-views.get(pk, 0), -deflections.get(pk, 0), -helpful.get(pk, (0, 0))[0], pk))
    ranked = ranked[:TOP_ARTICLES]
    titles = _titles(ranked) if ranked else {}
    columns = [
        ("views", _("Views")),
        ("deflections", _("Deflections")),
        ("helpful", _("Helpful")),
        ("not_helpful", _("Not helpful")),
    ]
    rows = [
        Row(
            key=str(pk),
            label=titles.get(pk, f"#{pk}"),
            cells=[views.get(pk, 0), deflections.get(pk, 0), *helpful.get(pk, (0, 0))],
        )
        for pk in ranked
    ]
    return Table(key="articles", columns=columns, rows=rows)


def failed_searches(*, viewer: User, period: Period) -> Table:
    """The 20 searches that most often found nothing in the period (normalised text; count = how
    many person-days), most frequent first, with the last day searched. One query."""
    _require(viewer)
    found = (
        FailedSearch.objects.filter(searched_at__gte=period.start, searched_at__lt=period.end)
        .order_by()
        .values("query")
        .annotate(count=Count("pk"), last=Max("searched_at"))
        .order_by("-count", "-last", "query")[:TOP_SEARCHES]
    )
    rows = [
        Row(
            key=row["query"],
            label=row["query"],
            cells=[row["count"], row["last"].astimezone(period.zone).date().isoformat()],
        )
        for row in found
    ]
    return Table(key="searches", columns=[("count", _("Searches")), ("last", _("Last searched"))], rows=rows)


METRICS: dict[str, Callable[..., object]] = {
    "knowledge_kpis": knowledge_kpis,
    "top_articles": top_articles,
    "failed_searches": failed_searches,
}
