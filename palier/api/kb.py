"""Knowledge base: articles (list and search, read, write, lifecycle, votes) and categories.

Reads are scoped by ``palier.kb.permissions`` through the kb selectors (an article you may not
read answers 404); writes go through ``palier.kb.services``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.params.functions import Header

from palier.api import etag, lookups
from palier.api.auth import current_user
from palier.api.errors import Problem
from palier.api.pagination import keyset_page
from palier.api.schemas.common import Input, OrganisationRef
from palier.kb import permissions, search, selectors, services
from palier.kb.models import Article, ArticleTranslation, KbCategory
from palier.kb.services import TranslationInput
from palier.people.models import User

router = Router()

Lang = Literal["fr", "en"]
StatusName = Literal["draft", "in_review", "published", "archived"]
VisibilityName = Literal["public", "internal", "organisations"]
MAX_SEARCH_RESULTS = 200  # search pages stop after the best 200 matches


# --- schemas --------------------------------------------------------------------------------------


class KbCategoryOut(Schema):
    id: int
    slug: str
    name: str = Field(description="In your language.")
    name_fr: str
    name_en: str
    position: int


class KbCategoryRef(Schema):
    id: int
    slug: str
    name: str


class ArticleItem(Schema):
    id: int
    status: StatusName
    visibility: VisibilityName
    category: KbCategoryRef | None
    language: Lang = Field(description="The language of title and excerpt: yours when the article has it.")
    title: str
    summary: str
    excerpt_html: str = Field(description="Escaped text; search words are wrapped in <mark>.")
    updated_at: datetime
    published_at: datetime | None


class ArticlePage(Schema):
    items: list[ArticleItem]
    next_cursor: str | None


class TranslationOut(Schema):
    language: Lang
    title: str
    summary: str
    body: str = Field(description="The Markdown source.")
    body_html: str = Field(description="Rendered and sanitised HTML (no scripts, only safe links).")
    updated_at: datetime


class VoteOut(Schema):
    yes: int
    no: int
    mine: bool | None = Field(description="Your own answer, null when you have not voted.")


class ArticleDetail(Schema):
    id: int
    status: StatusName
    visibility: VisibilityName
    version: int
    category: KbCategoryRef | None
    organisations: list[OrganisationRef] = Field(description="Readers' organisations (shown to editors only).")
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    view_count: int
    translations: list[TranslationOut]
    votes: VoteOut


class TranslationIn(Input):
    title: str = Field("", max_length=200)
    summary: str = Field("", max_length=500)
    body: str = Field("", max_length=200_000, description="Markdown.")


class TranslationPatch(Input):
    title: str | None = Field(None, max_length=200)
    summary: str | None = Field(None, max_length=500)
    body: str | None = Field(None, max_length=200_000)


class ArticleCreate(Input):
    translations: dict[Lang, TranslationIn] = Field(min_length=1, description="French, English or both.")
    category: int | None = None
    visibility: VisibilityName = "public"
    organisations: list[int] = Field(default_factory=list, max_length=500)


class ArticlePatch(Input):
    translations: dict[Lang, TranslationPatch] | None = Field(None, description="Only the fields you send change.")
    category: int | None = Field(None, description="null clears it.")
    visibility: VisibilityName | None = None
    organisations: list[int] | None = Field(None, max_length=500)
    version: int | None = Field(None, description="The version you saw; or send the ETag as If-Match.")


class ArticleTransitionIn(Input):
    status: StatusName
    version: int | None = None


class VoteIn(Input):
    helpful: bool


class ArticleListQuery(Schema):
    q: str = Field("", max_length=200, description="Words to search for (accents and case do not matter).")
    category: int | None = None
    language: Lang | None = Field(None, description="Only articles written in this language.")
    status: StatusName | None = Field(None, description="Editors: articles in this state (without q).")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(25, ge=1, le=100)


# --- helpers --------------------------------------------------------------------------------------


def _language() -> str:
    return "en" if (get_language() or "fr").startswith("en") else "fr"


def _category_ref(category: KbCategory | None) -> dict[str, Any] | None:
    return None if category is None else {"id": category.pk, "slug": category.slug, "name": category.name}


def _item(article: Article, translation: ArticleTranslation, excerpt_html: str) -> dict[str, Any]:
    return {
        "id": article.pk,
        "status": article.status,
        "visibility": article.visibility,
        "category": _category_ref(article.category),
        "language": translation.language,
        "title": translation.title,
        "summary": translation.summary,
        "excerpt_html": excerpt_html,
        "updated_at": article.updated_at,
        "published_at": article.published_at,
    }


def _detail(user: User, article: Article, response: HttpResponse) -> dict[str, Any]:
    """The detail body of an article read with ``get_article_visible_to`` (prefetched)."""
    etag.set_etag(response, article)
    return {
        "id": article.pk,
        "status": article.status,
        "visibility": article.visibility,
        "version": article.version,
        "category": _category_ref(article.category),
        "organisations": list(article.organisations.all()) if permissions.can_manage(user) else [],
        "created_at": article.created_at,
        "updated_at": article.updated_at,
        "published_at": article.published_at,
        "view_count": article.view_count,
        "translations": list(article.translations.all()),
        "votes": selectors.vote_summary(article, user),
    }


def _reread(user: User, article: Article, response: HttpResponse) -> dict[str, Any]:
    return _detail(user, selectors.get_article_visible_to(user, article.pk), response)


def _expected_version(article: Article, if_match: str | None, version: int | None, *, required: bool) -> int | None:
    """The version of ``article`` the client saw (``If-Match`` or the body's ``version``)."""
    return etag.expected_version(
        article,
        if_match,
        version,
        required=required,
        mismatch=_("If-Match does not match this article; send the ETag you received."),
    )


def _category(pk: int | None) -> KbCategory | None:
    if pk is None:
        return None
    category = selectors.category_by_id(pk)
    if category is None:
        raise ValidationError({"category": _("No such item (id not found).")})
    return category


_SERVICE_FIELDS = re.compile(r"^(title|summary|body)_(fr|en)$")


def _write(action: Any, **kwargs: Any) -> Any:
    """Call a service; its form-style field names (``title_fr``) become the API's
    (``translations.fr.title``)."""
    try:
        return action(**kwargs)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        renamed = {_SERVICE_FIELDS.sub(r"translations.\2.\1", name): errs for name, errs in exc.error_dict.items()}
        raise ValidationError(renamed) from exc


def _translations_after(article: Article, changes: dict[Lang, TranslationPatch] | None) -> dict[str, TranslationInput]:
    """Every translation of ``article`` with the fields sent in ``changes`` replaced."""
    current = {
        t.language: TranslationInput(title=t.title, summary=t.summary, body=t.body) for t in article.translations.all()
    }
    for language, patch in (changes or {}).items():
        before = current.get(language, TranslationInput())
        sent = patch.model_dump(exclude_unset=True, exclude_none=True)
        current[language] = TranslationInput(**{**before.__dict__, **sent})
    return current


# --- articles -------------------------------------------------------------------------------------


def _search_page(user: User, query: ArticleListQuery) -> dict[str, Any]:
    if query.status not in (None, Article.Status.PUBLISHED):
        raise ValidationError({"status": _("Search finds published articles only; leave out “status”.")})
    cursor = query.cursor or "0"
    if not cursor.isdigit() or int(cursor) >= MAX_SEARCH_RESULTS:
        raise Problem(
            400,
            _("The cursor is not valid; start again from the first page."),
            errors={"cursor": [_("Invalid cursor.")]},
        )
    offset = int(cursor)
    limit = min(query.limit, MAX_SEARCH_RESULTS - offset)
    hits = search.search_articles(
        user, query.q, _language(), limit + 1, category=query.category, only_language=query.language, offset=offset
    )
    more = len(hits) > limit and offset + limit < MAX_SEARCH_RESULTS
    items = [_item(h.article, h.translation, h.excerpt_html) for h in hits[:limit]]
    return {"items": items, "next_cursor": str(offset + limit) if more else None}


def _list_page(user: User, query: ArticleListQuery) -> dict[str, Any]:
    articles = selectors.article_list_for(
        user, category_id=query.category, language=query.language, status=query.status
    )
    rows, cursor = keyset_page(articles, order=("id",), cursor=query.cursor, limit=query.limit)
    language = query.language or _language()
    items = []
    for article in rows:
        translation = search.display_translation(article, language)
        if translation is not None:
            items.append(_item(article, translation, search.highlight(translation.plain_text, set(), excerpt=True)))
    return {"items": items, "next_cursor": cursor}


@router.get("/articles", response=ArticlePage)
def list_articles(request: HttpRequest, query: Query[ArticleListQuery]) -> dict[str, Any]:
    """Articles you may read. With ``q``: published articles matching every word, best first
    (accents, case and plurals do not matter). Without: all of them by id; editors also see
    drafts, articles in review and archived ones (filter with ``status``). Pass ``next_cursor``
    back as ``cursor`` for the next page."""
    user = current_user(request)
    return _search_page(user, query) if query.q.strip() else _list_page(user, query)


@router.post("/articles", response={201: ArticleDetail}, url_name="kb_article_list")
def create_article(request: HttpRequest, payload: ArticleCreate, response: HttpResponse) -> Status[Any]:
    """Write a new draft (editors). Publish it with the transitions endpoint."""
    user = current_user(request)
    article = _write(
        services.create_article,
        by=user,
        translations={lang: TranslationInput(**t.model_dump()) for lang, t in payload.translations.items()},
        category=_category(payload.category),
        visibility=payload.visibility,
        organisations=[lookups.organisation_by_id(pk, field="organisations") for pk in payload.organisations],
    )
    response["Location"] = reverse("api:kb_article_detail", args=[article.pk])
    return Status(201, _reread(user, article, response))


@router.get("/articles/{int:article_id}", response=ArticleDetail, url_name="kb_article_detail")
def get_article(request: HttpRequest, article_id: int, response: HttpResponse) -> dict[str, Any] | HttpResponse:
    """One article with its translations (Markdown and sanitised HTML) and votes. 404 when you
    may not read it. The ETag header carries its version."""
    user = current_user(request)
    article = selectors.get_article_visible_to(user, article_id)
    if request.headers.get("If-None-Match") == article.etag:
        return HttpResponse(status=304, headers={"ETag": article.etag})
    return _detail(user, article, response)


@router.patch("/articles/{int:article_id}", response=ArticleDetail)
def update_article(
    request: HttpRequest,
    article_id: int,
    payload: ArticlePatch,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> dict[str, Any]:
    """Change texts and settings (editors). Send the version you saw (If-Match or ``version``):
    a stale one answers 412 and changes nothing. Each changed translation keeps a new version."""
    user = current_user(request)
    article = selectors.get_article_visible_to(user, article_id)
    expected = _expected_version(article, if_match, payload.version, required=True)
    sent = payload.model_fields_set
    organisations = (
        [lookups.organisation_by_id(pk, field="organisations") for pk in payload.organisations]
        if payload.organisations is not None
        else list(article.organisations.all())
    )
    article = _write(
        services.update_article,
        article=article,
        by=user,
        translations=_translations_after(article, payload.translations),
        category=_category(payload.category) if "category" in sent else article.category,
        visibility=payload.visibility or article.visibility,
        organisations=organisations,
        expected_version=expected,
    )
    return _reread(user, article, response)


@router.post("/articles/{int:article_id}/transitions", response=ArticleDetail)
def transition_article(
    request: HttpRequest,
    article_id: int,
    payload: ArticleTransitionIn,
    response: HttpResponse,
    if_match: str | None = Header(None, alias="If-Match"),
) -> dict[str, Any]:
    """Move the article: draft → in_review → published → archived, in_review → draft and
    archived → draft (editors). Another move answers 409."""
    user = current_user(request)
    article = selectors.get_article_visible_to(user, article_id)
    expected = _expected_version(article, if_match, payload.version, required=False)
    article = services.transition_article(article, to=payload.status, by=user, expected_version=expected)
    return _reread(user, article, response)


@router.post("/articles/{int:article_id}/vote", response=VoteOut)
def vote(request: HttpRequest, article_id: int, payload: VoteIn) -> selectors.VoteSummary:
    """“Was this helpful?” on a published article you may read; voting again changes your answer."""
    user = current_user(request)
    article = selectors.get_article_for(user, article_id)
    services.vote_helpful(article, user=user, helpful=payload.helpful)
    return selectors.vote_summary(article, user)


# --- categories -----------------------------------------------------------------------------------


@router.get("/categories", response=list[KbCategoryOut])
def list_categories(request: HttpRequest) -> list[KbCategory]:
    """Knowledge-base categories in display order; ``name`` is in your language."""
    return selectors.categories()
