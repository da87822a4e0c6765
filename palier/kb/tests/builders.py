"""Test builders for the knowledge base (through the services, like real callers)."""

from __future__ import annotations

from palier.kb import services
from palier.kb.models import Article, KbCategory
from palier.kb.services import TranslationInput
from palier.people.models import Organisation, User


def make_article(
    by: User,
    *,
    fr: tuple[str, str] | None = None,
    en: tuple[str, str] | None = None,
    summary: str = "",
    status: str = Article.Status.PUBLISHED,
    visibility: str = Article.Visibility.PUBLIC,
    organisations: list[Organisation] | None = None,
    category: KbCategory | None = None,
) -> Article:
    translations = {}
    if fr:
        translations["fr"] = TranslationInput(title=fr[0], summary=summary, body=fr[1])
    if en:
        translations["en"] = TranslationInput(title=en[0], summary=summary, body=en[1])
    article = services.create_article(
        by=by, translations=translations, visibility=visibility, organisations=organisations, category=category
    )
    path = {
        Article.Status.DRAFT: [],
        Article.Status.IN_REVIEW: [Article.Status.IN_REVIEW],
        Article.Status.PUBLISHED: [Article.Status.IN_REVIEW, Article.Status.PUBLISHED],
        Article.Status.ARCHIVED: [Article.Status.IN_REVIEW, Article.Status.PUBLISHED, Article.Status.ARCHIVED],
    }[status]
    for to in path:
        article = services.transition_article(article, to=to, by=by)
    return article
