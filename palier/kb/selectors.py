"""Knowledge-base reads, always scoped by ``permissions``: invisible means 404."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.http import Http404
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from palier.kb import permissions, search
from palier.kb.models import (
    Article,
    ArticleFile,
    ArticleTicketLink,
    ArticleTranslation,
    ArticleVersion,
    Deflection,
    HelpfulVote,
    KbCategory,
)
from palier.lib.errors import Conflict
from palier.people.models import User
from palier.tickets.models import Comment, Ticket

HOME_LIMIT = 8
SUGGESTIONS = 5
AGENT_ROLES = (User.Role.AGENT, User.Role.MANAGER, User.Role.ADMIN)


@dataclass
class ArticleCard:
    """An article as lists show it, in the reader's language (no queries left to run)."""

    article: Article
    translation: ArticleTranslation


def _cards(articles: QuerySet[Article], language: str) -> list[ArticleCard]:
    cards = []
    for article in articles.prefetch_related("translations"):
        translation = search.display_translation(article, language)
        if translation is not None:
            cards.append(ArticleCard(article, translation))
    return cards


def articles_readable_by(user: User) -> QuerySet[Article]:
    return Article.objects.filter(permissions.readable(user))


def get_article_for(user: User, article_id: int) -> Article:
    """A published article the user may read, translations prefetched, or 404."""
    article = (
        articles_readable_by(user)
        .select_related("category")
        .prefetch_related("translations")
        .filter(pk=article_id)
        .first()
    )
    if article is None:
        raise Http404("article")
    return article


def categories() -> list[KbCategory]:
    return list(all_categories())


def all_categories() -> QuerySet[KbCategory]:
    """Every category, in position order (the model's ordering)."""
    return KbCategory.objects.all()


def articles_visible_to(user: User) -> QuerySet[Article]:
    """What the API lists and shows: every article for those who manage them, else what the
    user may read (published, and public or for their organisation or, for agents, internal)."""
    if permissions.can_manage(user):
        return Article.objects.all()
    return articles_readable_by(user)


def article_list_for(
    user: User, *, category_id: int | None = None, language: str | None = None, status: str | None = None
) -> QuerySet[Article]:
    """``articles_visible_to`` with their category and translations, of ``category_id``, with a
    translation in ``language`` and in ``status`` when given; unordered: the caller pages them."""
    articles = articles_visible_to(user).select_related("category").prefetch_related("translations")
    if category_id is not None:
        articles = articles.filter(category_id=category_id)
    if language is not None:
        articles = articles.filter(translations__language=language)
    if status is not None:
        articles = articles.filter(status=status)
    return articles


def get_article_visible_to(user: User, article_id: int) -> Article:
    """One article of ``articles_visible_to`` with its category, translations and organisations
    prefetched, or 404."""
    article = (
        articles_visible_to(user)
        .select_related("category")
        .prefetch_related("translations", "organisations")
        .filter(pk=article_id)
        .first()
    )
    if article is None:
        raise Http404("article")
    return article


def category_by_id(category_id: int) -> KbCategory | None:
    """Categories are readable by everyone signed in."""
    return KbCategory.objects.filter(pk=category_id).first()


def categories_for_manager(user: User) -> QuerySet[KbCategory]:
    """Categories with their number of articles (``article_count``), for the category page."""
    _require_manager(user)
    return KbCategory.objects.annotate(article_count=Count("articles")).order_by("position", "slug")


def get_category_for_manager(user: User, category_id: int) -> KbCategory:
    _require_manager(user)
    category = KbCategory.objects.filter(pk=category_id).first()
    if category is None:
        raise Http404("category")
    return category


def home_cards(user: User, *, language: str, category: KbCategory | None = None) -> list[ArticleCard]:
    """The most read articles, in a category or overall."""
    articles = articles_readable_by(user).order_by("-view_count", "-published_at", "-id")
    if category is not None:
        articles = articles.filter(category=category)
    return _cards(articles[:HOME_LIMIT], language)


@dataclass
class VoteSummary:
    yes: int
    no: int
    mine: bool | None


def vote_summary(article: Article, user: User) -> VoteSummary:
    """Helpful / not helpful counts and the reader's own answer, in one query."""
    row = HelpfulVote.objects.filter(article=article).aggregate(
        yes=Count("id", filter=Q(helpful=True)),
        no=Count("id", filter=Q(helpful=False)),
        mine_yes=Count("id", filter=Q(user=user, helpful=True)),
        mine_no=Count("id", filter=Q(user=user, helpful=False)),
    )
    mine = True if row["mine_yes"] else (False if row["mine_no"] else None)
    return VoteSummary(row["yes"], row["no"], mine)


def get_file_for(user: User, file_id: int) -> ArticleFile:
    """A file of an article the user may read (agents: of any article), or 404."""
    files = ArticleFile.objects.all()
    if not permissions.can_manage(user):
        files = files.filter(permissions.readable(user, prefix="article__"))
    item = files.filter(pk=file_id).first()
    if item is None:
        raise Http404("file")
    return item


# --- agents ----------------------------------------------------------------------------------


def get_file_for_manager(user: User, *, file_id: int) -> ArticleFile:
    """Any article's file, for those who manage the articles, or 404."""
    _require_manager(user)
    item = ArticleFile.objects.filter(pk=file_id).first()
    if item is None:
        raise Http404("file")
    return item


def _require_manager(user: User) -> None:
    if not permissions.can_manage(user):
        raise Http404("article")


MANAGER_PAGE = 50


def articles_for_manager(
    user: User, *, status: str = "", language: str, page: str | int | None = None
) -> tuple[list[ArticleCard], Page[Article]]:
    """One page of the articles (any status, or ``status``), most recently changed first."""
    _require_manager(user)
    articles = Article.objects.select_related("category").order_by("-updated_at", "-id")
    if status in Article.Status.values:
        articles = articles.filter(status=status)
    current = Paginator(articles, MANAGER_PAGE).get_page(page)
    start = (current.number - 1) * MANAGER_PAGE
    return _cards(articles[start : start + MANAGER_PAGE], language), current


def get_article_for_manager(user: User, article_id: int) -> Article:
    _require_manager(user)
    article = (
        Article.objects.select_related("category")
        .prefetch_related("translations", "organisations", "files")
        .filter(pk=article_id)
        .first()
    )
    if article is None:
        raise Http404("article")
    return article


def versions(article: Article) -> list[ArticleVersion]:
    return list(ArticleVersion.objects.filter(article=article).select_related("created_by"))


def diff_html(old: ArticleVersion, new: ArticleVersion) -> SafeString:
    """Side-by-side HTML table of the changes between two versions (difflib escapes the text)."""

    def lines(v: ArticleVersion) -> list[str]:
        return [v.title, "", v.summary, "", *v.body.splitlines()]

    table = difflib.HtmlDiff(wrapcolumn=70).make_table(
        lines(old),
        lines(new),
        fromdesc=_("Version %(n)d") % {"n": old.number},
        todesc=_("Version %(n)d") % {"n": new.number},
        context=True,
        numlines=2,
    )
    return mark_safe(table)  # noqa: S308 (difflib escapes &, < and > in the compared text)


def ticket_links(article: Article) -> list[ArticleTicketLink]:
    return list(ArticleTicketLink.objects.filter(article=article).select_related("ticket"))


def articles_linked_to(ticket: Ticket, *, language: str) -> list[ArticleCard]:
    ids = ArticleTicketLink.objects.filter(ticket=ticket).values("article_id")
    return _cards(Article.objects.filter(pk__in=ids).order_by("-id"), language)


def readable_ids(user: User, article_ids: list[int]) -> set[int]:
    """Which of ``article_ids`` ``user`` may read (one query)."""
    if not article_ids:
        return set()
    return set(articles_readable_by(user).filter(pk__in=article_ids).values_list("pk", flat=True))


def ticket_suggestions(user: User, ticket: Ticket, *, language: str) -> list[search.SearchHit]:
    """Published articles that may help with ``ticket``, found from its subject."""
    return search.search_articles(user, ticket.subject, language, SUGGESTIONS, any_word=True)


def prefill_from_ticket(user: User, ticket: Ticket) -> dict[str, str]:
    """Initial values of a new article written from a resolved ticket: the problem (subject and
    description) and the solution (the last public reply of an agent)."""
    _require_manager(user)
    if ticket.status not in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        raise Conflict(_("Only a resolved or closed ticket can become an article."))
    reply = (
        Comment.objects.filter(ticket=ticket, is_internal=False, author__role__in=AGENT_ROLES)
        .order_by("-created_at", "-id")
        .values_list("body", flat=True)
        .first()
    )
    body = f"## {_('Problem')}\n\n{ticket.description.strip()}\n\n## {_('Solution')}\n\n{(reply or '').strip()}\n"
    return {"title": ticket.subject, "body": body}


# --- reports ---------------------------------------------------------------------------------


def deflection_count(*, start: datetime, end: datetime) -> int:
    """Requests avoided between ``start`` (included) and ``end`` (excluded)."""
    return Deflection.objects.filter(created_at__gte=start, created_at__lt=end).count()


def deflections_per_day(*, start: datetime, end: datetime) -> list[tuple[date, int]]:
    rows = (
        Deflection.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    return [(row["day"], row["n"]) for row in rows]


def deflections_per_article(*, start: datetime, end: datetime, limit: int = 20) -> list[tuple[int, int]]:
    """(article id, number of deflections) for the most deflecting articles of the period."""
    rows = (
        Deflection.objects.filter(created_at__gte=start, created_at__lt=end)
        .values("article_id")
        .annotate(n=Count("id"), last=Max("created_at"))
        .order_by("-n", "-last")[:limit]
    )
    return [(row["article_id"], row["n"]) for row in rows]
