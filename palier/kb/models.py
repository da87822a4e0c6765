"""Knowledge base: bilingual Markdown articles, their versions, files, votes, deflections and
links to tickets.

Each article has up to two translations (French, English). A translation keeps the Markdown
source, the sanitised HTML rendered from it, and the text the search indexes (lower-cased, accents
removed). On PostgreSQL the translation also has a stored ``tsv`` column (migration 0002) that the
ORM does not model; on SQLite a separate FTS5 table holds the stemmed words (see ``search.py``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from palier.tickets.models import ScanStatus


class Language(models.TextChoices):
    FR = "fr", _("French")
    EN = "en", _("English")


class KbCategory(models.Model):
    """A knowledge-base category, named in French and English."""

    slug = models.SlugField(max_length=80, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_fr = models.CharField(_("name (French)"), max_length=120)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name = _("knowledge-base category")
        verbose_name_plural = _("knowledge-base categories")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_fr if (get_language() or "fr").startswith("fr") else self.name_en


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        IN_REVIEW = "in_review", _("In review")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public (requesters and agents)")
        INTERNAL = "internal", _("Internal (agents only)")
        ORGANISATIONS = "organisations", _("Restricted to some organisations")

    category = models.ForeignKey(
        KbCategory,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="articles",
        verbose_name=_("category"),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    visibility = models.CharField(_("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC)
    organisations = models.ManyToManyField(
        "people.Organisation", blank=True, related_name="+", verbose_name=_("organisations")
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    view_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)  # bumped by every change, for optimistic concurrency

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["status", "visibility"], name="kb_article_status")]

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'


class ArticleTranslation(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    body = models.TextField(_("body (Markdown)"), blank=True)
    body_html = models.TextField(blank=True)  # rendered and sanitised when saved
    plain_text = models.TextField(blank=True)  # summary + body without markup, for excerpts
    search_title = models.TextField(blank=True)  # normalised (lower case, no accents)
    search_body = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["language"]
        constraints = [models.UniqueConstraint(fields=["article", "language"], name="kb_translation_unique")]

    def __str__(self) -> str:
        return self.title


class ArticleVersion(models.Model):
    """What a translation looked like after one save. Never updated."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(max_length=2, choices=Language.choices)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["article", "language", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "language", "number"], name="kb_version_unique"),
        ]


class ArticleFile(models.Model):
    """An image or attachment of an article, served only to people who may read the article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(upload_to="kb/%Y/%m/")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    scan_status = models.CharField(max_length=12, choices=ScanStatus.choices, default=ScanStatus.UNSCANNED)
    scan_signature = models.CharField(max_length=200, blank=True)
    scanned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class HelpfulVote(models.Model):
    """ "Was this helpful?": one answer per person and article, changeable."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="kb_vote_unique")]


class Deflection(models.Model):
    """A requester said an article solved their problem instead of sending a request."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="deflections")
    query = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="kb_deflection_created")]


class ArticleView(models.Model):
    """One person read an article on one day (the desk's local day): what reports count as a view.

    Reading it again the same day adds nothing (unique row), so reloads do not inflate the figure;
    ``Article.view_count`` keeps counting every page load."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    viewed_at = models.DateTimeField(default=timezone.now)  # the first reading of that day

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user", "day"], name="kb_view_once_a_day")]
        indexes = [models.Index(fields=["viewed_at"], name="kb_view_viewed_at")]


class FailedSearch(models.Model):
    """A knowledge-base search that found nothing: once per person, normalised query and day."""

    query = models.CharField(max_length=200)  # normalised: lower case, no accents, single spaces
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    searched_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["query", "user", "day"], name="kb_failed_search_once")]
        indexes = [models.Index(fields=["searched_at"], name="kb_failed_search_at")]


class ArticleTicketLink(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticket_links")
    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["article", "ticket"], name="kb_link_unique")]
        indexes = [models.Index(fields=["ticket"], name="kb_link_ticket")]
