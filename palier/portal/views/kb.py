"""Requester-side knowledge base: home with search and categories, article page with the
"Was this helpful?" vote, files, and the deflection panel of the new-request page."""

from __future__ import annotations

from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from palier.kb import search, selectors, services
from palier.kb.models import ArticleFile, KbCategory
from palier.kb.search import reader_language
from palier.lib.web import signed_in
from palier.people.http import AuthedRequest
from palier.portal.forms.kb import SearchForm

SEARCH_LIMIT = 20
SUGGEST_MIN_CHARS = 3
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})


@signed_in
@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    form.is_valid()
    q = form.cleaned_data.get("q", "").strip()
    category = None
    if slug := form.cleaned_data.get("category"):
        category = get_object_or_404(KbCategory, slug=slug)
    language = reader_language()
    hits = search.search_articles(request.user, q, language, SEARCH_LIMIT) if q else []
    if q:
        services.record_search(user=request.user, query=q, hits=len(hits))
    context = {
        "q": q,
        "category": category,
        "categories": selectors.categories(),
        "hits": hits,
        "cards": [] if q else selectors.home_cards(request.user, language=language, category=category),
    }
    return render(request, "portal/kb/home.html", context)


@signed_in
@require_GET
def article(request: AuthedRequest, article_id: int) -> HttpResponse:
    item = selectors.get_article_for(request.user, article_id)
    services.record_view(article_id=item.pk, user_id=request.user.pk)
    context = {
        "article": item,
        "translation": search.display_translation(item, reader_language()),
        "votes": selectors.vote_summary(item, request.user),
        "can_manage": request.user.is_agent,
    }
    return render(request, "portal/kb/article.html", context)


@signed_in
@require_POST
def vote(request: AuthedRequest, article_id: int) -> HttpResponse:
    item = selectors.get_article_for(request.user, article_id)
    services.vote_helpful(item, user=request.user, helpful=request.POST.get("helpful") == "yes")
    if not request.htmx:
        return redirect("kb:article", article_id=item.pk)
    context = {"article": item, "votes": selectors.vote_summary(item, request.user)}
    return render(request, "portal/kb/article.html#vote", context)


@signed_in
@require_GET
def file(request: AuthedRequest, file_id: int) -> FileResponse:
    item: ArticleFile = services.scan_before_serving(selectors.get_file_for(request.user, file_id))
    response = FileResponse(
        item.file.open("rb"),
        as_attachment=item.content_type not in INLINE_TYPES,
        filename=item.filename,
        content_type=item.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=0, no-store"
    return response


def _typed_question(request: AuthedRequest) -> str:
    data = request.POST if request.method == "POST" else request.GET
    parts = [data.get("q", ""), data.get("subject", ""), data.get("description", "")]
    return " ".join(p.strip() for p in parts if p.strip())[:2000]


@signed_in
@require_GET
def suggest(request: AuthedRequest) -> HttpResponse:
    """The deflection panel: the five best articles for what the requester is typing.

    ``catalog_items`` is the slot for matching service-catalog items (empty until the catalog
    exists; the catalog work fills it and the template lists them above the articles)."""
    query = _typed_question(request)
    hits = []
    if len(query) >= SUGGEST_MIN_CHARS:
        hits = search.search_articles(request.user, query, reader_language(), selectors.SUGGESTIONS, any_word=True)
    from palier.catalog.selectors import suggest_items  # the catalog fills the panel's first slot

    items = suggest_items(request.user, query) if len(query) >= SUGGEST_MIN_CHARS else []
    return render(
        request, "portal/kb/includes/suggestions.html", {"hits": hits, "catalog_items": items, "query": query}
    )


@signed_in
@require_POST
def deflect(request: AuthedRequest, article_id: int) -> HttpResponse:
    """ "This solved my problem": record the deflection, create no ticket, say thank you."""
    item = selectors.get_article_for(request.user, article_id)
    services.record_deflection(user=request.user, article=item, query=_typed_question(request))
    context = {"translation": search.display_translation(item, reader_language()), "article": item}
    if request.htmx:
        return render(request, "portal/kb/includes/deflected.html", context)
    return render(request, "portal/kb/deflected.html", context)
