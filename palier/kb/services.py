"""Knowledge-base writes: articles and their translations, versions, lifecycle, files, views,
votes, deflections and links to tickets. Views, tasks and commands call these functions."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import F, Max
from django.http import Http404
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from palier.audit import services as audit
from palier.kb import permissions, render, search
from palier.kb.models import (
    Article,
    ArticleFile,
    ArticleTicketLink,
    ArticleTranslation,
    ArticleVersion,
    ArticleView,
    Deflection,
    FailedSearch,
    HelpfulVote,
    KbCategory,
    Language,
)
from palier.lib import antivirus, files, text
from palier.lib.errors import Conflict, IllegalTransition, PermissionDenied, StaleVersion
from palier.people.models import Organisation, User
from palier.tickets import services as ticket_services
from palier.tickets.models import ScanStatus, Ticket

S = Article.Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.IN_REVIEW}),
    S.IN_REVIEW: frozenset({S.DRAFT, S.PUBLISHED}),
    S.PUBLISHED: frozenset({S.ARCHIVED}),
    S.ARCHIVED: frozenset({S.DRAFT}),
}
MAX_QUERY = 2000
MAX_SEARCH = 200  # characters of a failed search kept (FailedSearch.query)
slug_re = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True)
class TranslationInput:
    title: str = ""
    summary: str = ""
    body: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.title.strip() or self.summary.strip() or self.body.strip())


def _require_manager(by: User) -> None:
    if not permissions.can_manage(by):
        raise PermissionDenied(_("Only agents can manage knowledge-base articles."))


def _clean_translations(translations: dict[str, TranslationInput]) -> dict[str, TranslationInput]:
    errors: dict[str, str] = {}
    kept: dict[str, TranslationInput] = {}
    for language, data in translations.items():
        if language not in Language.values:
            errors["language"] = _("Unknown language “%(lang)s”.") % {"lang": language}
            continue
        if data.is_empty:
            continue
        title = data.title.strip()
        if not title:
            errors[f"title_{language}"] = _("Give this version a title, or leave all its fields empty.")
        elif len(title) > 200:
            errors[f"title_{language}"] = _("At most 200 characters.")
        if len(data.summary.strip()) > 500:
            errors[f"summary_{language}"] = _("At most 500 characters.")
        kept[language] = TranslationInput(title=title, summary=data.summary.strip(), body=data.body)
    if not kept and not errors:
        errors["title_fr"] = _("Write the article in French, in English or both.")
    if errors:
        raise ValidationError(errors)
    return kept


def _clean_visibility(visibility: str, organisations: list[Organisation]) -> None:
    if visibility not in Article.Visibility.values:
        raise ValidationError({"visibility": _("Choose who can read the article.")})
    if visibility == Article.Visibility.ORGANISATIONS and not organisations:
        raise ValidationError({"organisations": _("Choose at least one organisation.")})


def _save_translation(
    article: Article, *, by: User, language: str, data: TranslationInput, note: str = ""
) -> ArticleTranslation | None:
    """Write one translation and keep a version of it; nothing happens when nothing changed."""
    translation = next((t for t in article.translations.all() if t.language == language), None)
    if translation is not None and (translation.title, translation.summary, translation.body) == (
        data.title,
        data.summary,
        data.body,
    ):
        return None
    translation = translation or ArticleTranslation(article=article, language=language)
    translation.title, translation.summary, translation.body = data.title, data.summary, data.body
    translation.body_html = render.markdown_to_html(data.body)
    translation.plain_text = " ".join(p for p in (data.summary, render.html_to_text(translation.body_html)) if p)
    translation.search_title, translation.search_body = search.search_fields(
        title=data.title, summary=data.summary, plain_body=render.html_to_text(translation.body_html)
    )
    translation.updated_at = timezone.now()
    translation.save()
    search.sync_index(translation)
    last = ArticleVersion.objects.filter(article=article, language=language).aggregate(n=Max("number"))["n"] or 0
    ArticleVersion.objects.create(
        article=article,
        language=language,
        number=last + 1,
        title=data.title,
        summary=data.summary,
        body=data.body,
        created_by=by,
        note=note,
    )
    return translation


def _lock(article: Article, expected_version: int | None = None) -> Article:
    """Re-read the article under a row lock; ``expected_version`` (the version the caller saw)
    must still be the current one, else ``StaleVersion`` and nothing changes."""
    locked = Article.objects.select_for_update().prefetch_related("translations").get(pk=article.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(
            _("Someone else changed this article in the meantime (version %(current)d); reload it and try again.")
            % {"current": locked.version},
            field="version",
        )
    return locked


def _touch(article: Article, *fields: str) -> None:
    """Save ``fields`` with a new ``updated_at`` and the next version."""
    article.updated_at = timezone.now()
    article.version += 1
    article.save(update_fields=[*fields, "updated_at", "version"])


@transaction.atomic
def create_article(
    *,
    by: User,
    translations: dict[str, TranslationInput],
    category: KbCategory | None = None,
    visibility: str = Article.Visibility.PUBLIC,
    organisations: list[Organisation] | None = None,
    ticket: Ticket | None = None,
) -> Article:
    """A new draft article; ``ticket`` (the ticket it was written from) gets linked to it."""
    _require_manager(by)
    organisations = organisations or []
    cleaned = _clean_translations(translations)
    _clean_visibility(visibility, organisations)
    article = Article.objects.create(category=category, visibility=visibility, created_by=by)
    article.organisations.set(organisations)
    for language, data in cleaned.items():
        _save_translation(article, by=by, language=language, data=data)
    if ticket is not None:
        ArticleTicketLink.objects.create(article=article, ticket=ticket, linked_by=by)
    return article


@transaction.atomic
def update_article(
    article: Article,
    *,
    by: User,
    translations: dict[str, TranslationInput],
    category: KbCategory | None,
    visibility: str,
    organisations: list[Organisation],
    expected_version: int | None = None,
) -> Article:
    """Change the article's settings and texts; each changed translation keeps a new version.
    A translation left entirely empty is kept as it was (translations are never deleted here).
    With ``expected_version``, a stale version raises ``StaleVersion`` and nothing changes."""
    _require_manager(by)
    cleaned = _clean_translations(translations)
    _clean_visibility(visibility, organisations)
    article = _lock(article, expected_version)
    article.category, article.visibility = category, visibility
    _touch(article, "category", "visibility")
    article.organisations.set(organisations)
    for language, data in cleaned.items():
        _save_translation(article, by=by, language=language, data=data)
    return article


@transaction.atomic
def transition_article(article: Article, *, to: str, by: User, expected_version: int | None = None) -> Article:
    """Move an article through draft → in review → published → archived (→ draft)."""
    _require_manager(by)
    article = _lock(article, expected_version)
    labels = dict(S.choices)
    if to not in TRANSITIONS.get(article.status, frozenset()):
        raise IllegalTransition(
            _("An article cannot go from “%(old)s” to “%(new)s”.")
            % {"old": labels.get(article.status, article.status), "new": labels.get(to, to)},
            field="status",
        )
    if to == S.PUBLISHED and not article.translations.all():
        raise IllegalTransition(_("Write the article before publishing it."), field="status")
    article.status = to
    if to == S.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()
    _touch(article, "status", "published_at")
    return article


@transaction.atomic
def restore_version(article: Article, *, version_id: int, by: User) -> ArticleTranslation:
    """Make an old version current again; the restore is itself a new version."""
    _require_manager(by)
    article = _lock(article)
    try:
        version = ArticleVersion.objects.get(pk=version_id, article=article)
    except ArticleVersion.DoesNotExist:
        raise ValidationError({"version": _("This version does not belong to the article.")}) from None
    data = TranslationInput(title=version.title, summary=version.summary, body=version.body)
    note = _("Restored version %(n)d") % {"n": version.number}
    translation = _save_translation(article, by=by, language=version.language, data=data, note=note)
    if translation is None:
        raise ValidationError({"version": _("This version is already the current text.")})
    _touch(article)
    return translation


@transaction.atomic
def add_article_file(article: Article, *, by: User, upload: IO[bytes]) -> ArticleFile:
    """Store an image or attachment of an article (size-limited, type sniffed, name sanitised,
    scanned for viruses)."""
    _require_manager(by)
    checked = files.read_upload(upload)  # an infected file is refused
    name, content_type, size, sha = checked.name, checked.content_type, checked.size, checked.sha256
    stored_name = uuid.uuid4().hex
    item = ArticleFile(
        article=article,
        filename=name,
        content_type=content_type,
        size=size,
        sha256=sha,
        uploaded_by=by,
        **ticket_services.scan_fields(checked.scan),
    )
    item.file.save(stored_name, File(upload, name=stored_name), save=False)
    try:
        item.save()
    except Exception:
        item.file.delete(save=False)
        raise
    return item


def scan_before_serving(item: ArticleFile) -> ArticleFile:
    """A file stored while virus scanning was off is scanned the first time it is served, and the
    verdict recorded; an infected file is never served (404)."""
    if item.scan_status == ScanStatus.UNSCANNED and antivirus.enabled():
        with item.file.open("rb") as stored:
            verdict = files.scan_upload(stored, item.filename)
        for field, value in ticket_services.scan_fields(verdict).items():
            setattr(item, field, value)
        with transaction.atomic():
            item.save(update_fields=["scan_status", "scan_signature", "scanned_at"])
    if item.scan_status == ScanStatus.INFECTED:
        raise Http404(_("This file contains a virus: it is kept in quarantine and cannot be downloaded."))
    return item


@transaction.atomic
def remove_article_file(item: ArticleFile, *, by: User) -> None:
    _require_manager(by)
    stored = item.file.name or ""
    item.delete()
    transaction.on_commit(lambda: item.file.storage.delete(stored))


def record_view(*, article_id: int, user_id: int | None = None) -> None:
    """Count one reading of the article (one UPDATE, no read) and, for a signed-in reader, the
    reader's view of the day for reports (one INSERT that does nothing if it is there already)."""
    Article.objects.filter(pk=article_id).update(view_count=F("view_count") + 1)
    if user_id is not None:
        now = timezone.now()
        row = ArticleView(article_id=article_id, user_id=user_id, day=timezone.localdate(now), viewed_at=now)
        ArticleView.objects.bulk_create([row], ignore_conflicts=True)


def record_search(*, user: User, query: str, hits: int) -> None:
    """Remember a search that found nothing (once per person, normalised query and day), so
    managers see what readers look for and do not find. One INSERT, or nothing."""
    normalised = " ".join(text.normalise(query).split())[:MAX_SEARCH]
    if hits or not normalised or not user.is_authenticated:
        return
    now = timezone.now()
    row = FailedSearch(query=normalised, user_id=user.pk, day=timezone.localdate(now), searched_at=now)
    FailedSearch.objects.bulk_create([row], ignore_conflicts=True)


def vote_helpful(article: Article, *, user: User, helpful: bool) -> HelpfulVote:
    """ "Was this helpful?": one answer per person and article; answering again changes it."""
    vote, _created = HelpfulVote.objects.update_or_create(
        article=article, user=user, defaults={"helpful": helpful, "updated_at": timezone.now()}
    )
    return vote


def record_deflection(*, user: User, article: Article, query: str) -> Deflection:
    """The requester says ``article`` solved the problem they were about to report. No ticket."""
    return Deflection.objects.create(user=user, article=article, query=query.strip()[:MAX_QUERY])


@transaction.atomic
def link_ticket(article: Article, *, ticket: Ticket, by: User) -> ArticleTicketLink:
    _require_manager(by)
    link, _created = ArticleTicketLink.objects.get_or_create(article=article, ticket=ticket, defaults={"linked_by": by})
    return link


@transaction.atomic
def unlink_ticket(article: Article, *, ticket: Ticket, by: User) -> None:
    _require_manager(by)
    ArticleTicketLink.objects.filter(article=article, ticket=ticket).delete()


# --- categories ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryInput:
    name_fr: str
    name_en: str
    slug: str = ""  # derived from the names when empty
    position: int = 0


def _clean_category(data: CategoryInput, *, current: KbCategory | None = None) -> CategoryInput:
    errors: dict[str, str] = {}
    names = {"name_fr": data.name_fr.strip(), "name_en": data.name_en.strip()}
    for field, name in names.items():
        if not name:
            errors[field] = _("Give the category a name in this language.")
        elif len(name) > 120:
            errors[field] = _("At most 120 characters.")
    slug = data.slug.strip().lower() or slugify(names["name_en"] or names["name_fr"])[:80].strip("-")
    if len(slug) > 80 or not slug_re.fullmatch(slug):
        if data.slug.strip() or not errors:
            errors["slug"] = _("Use lower-case letters, digits and hyphens only (at most 80).")
    elif KbCategory.objects.filter(slug=slug).exclude(pk=current.pk if current else 0).exists():
        errors["slug"] = _("Another category already uses “%(slug)s”.") % {"slug": slug}
    if not 0 <= data.position <= 32767:
        errors["position"] = _("Enter a position between 0 and 32767.")
    if errors:
        raise ValidationError(errors)
    return CategoryInput(slug=slug, position=data.position, **names)


@transaction.atomic
def create_kb_category(*, by: User, data: CategoryInput) -> KbCategory:
    _require_manager(by)
    cleaned = _clean_category(data)
    return KbCategory.objects.create(
        slug=cleaned.slug, name_fr=cleaned.name_fr, name_en=cleaned.name_en, position=cleaned.position
    )


@transaction.atomic
def update_kb_category(category: KbCategory, *, by: User, data: CategoryInput) -> KbCategory:
    """Rename, re-slug or move a category; its articles keep it."""
    _require_manager(by)
    category = KbCategory.objects.select_for_update().get(pk=category.pk)
    cleaned = _clean_category(data, current=category)
    category.slug, category.name_fr, category.name_en = cleaned.slug, cleaned.name_fr, cleaned.name_en
    category.position = cleaned.position
    category.save(update_fields=["slug", "name_fr", "name_en", "position"])
    return category


@transaction.atomic
def delete_kb_category(category: KbCategory, *, by: User) -> None:
    """Remove an empty category; one that still holds articles (of any status) is refused."""
    _require_manager(by)
    category = KbCategory.objects.select_for_update().get(pk=category.pk)
    count = Article.objects.filter(category=category).count()
    if count:
        raise Conflict(
            ngettext(
                "“%(name)s” still holds %(n)d article; move it to another category first.",
                "“%(name)s” still holds %(n)d articles; move them to another category first.",
                count,
            )
            % {"name": category.name, "n": count}
        )
    audit.record("deleted", actor=by, target=category)
    category.delete()
