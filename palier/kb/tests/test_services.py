"""Knowledge-base services: lifecycle, versions, files, views, votes, deflections, links."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from palier.kb import selectors, services
from palier.kb.models import Article, ArticleVersion, ArticleView, Deflection, FailedSearch, HelpfulVote
from palier.kb.services import TranslationInput
from palier.kb.tests.builders import make_article
from palier.lib.errors import IllegalTransition, PermissionDenied
from palier.people.models import User
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db
S = Article.Status
PNG = (  # a real 1×1 image (libmagic checks the IHDR chunk, not only the signature)
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_new_article_is_a_draft_with_rendered_bilingual_text(agent: User) -> None:
    article = make_article(agent, fr=("Imprimante", "**Redémarrez**"), en=("Printer", "**Restart**"), status=S.DRAFT)
    assert article.status == S.DRAFT
    fr, en = sorted(article.translations.all(), key=lambda t: t.language, reverse=True)
    assert fr.body_html == "<p><strong>Redémarrez</strong></p>\n"
    assert en.title == "Printer"
    assert fr.search_title == "imprimante"


def test_requesters_cannot_write_articles(requester: User) -> None:
    with pytest.raises(PermissionDenied):
        services.create_article(by=requester, translations={"fr": TranslationInput(title="x")})


def test_an_article_needs_a_title_in_some_language(agent: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_article(by=agent, translations={"fr": TranslationInput(body="texte sans titre")})
    assert "title_fr" in exc.value.error_dict
    with pytest.raises(ValidationError):
        services.create_article(by=agent, translations={"fr": TranslationInput(), "en": TranslationInput()})
    assert not Article.objects.exists()


def test_restricted_articles_need_organisations(agent: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_article(
            by=agent, translations={"en": TranslationInput(title="x")}, visibility=Article.Visibility.ORGANISATIONS
        )
    assert "organisations" in exc.value.error_dict


def test_lifecycle_follows_draft_review_published_archived(agent: User) -> None:
    article = make_article(agent, en=("VPN", "Connect"), status=S.DRAFT)
    for to in (S.IN_REVIEW, S.DRAFT, S.IN_REVIEW, S.PUBLISHED, S.ARCHIVED, S.DRAFT):
        article = services.transition_article(article, to=to, by=agent)
        assert article.status == to
    assert article.published_at is not None


@pytest.mark.parametrize(
    ("path", "to"),
    [([], S.PUBLISHED), ([], S.ARCHIVED), ([S.IN_REVIEW, S.PUBLISHED], S.IN_REVIEW), ([], "bogus")],
)
def test_illegal_transitions_are_refused_and_change_nothing(agent: User, path: list[str], to: str) -> None:
    article = make_article(agent, en=("VPN", "Connect"), status=S.DRAFT)
    for step in path:
        article = services.transition_article(article, to=step, by=agent)
    before = article.status
    with pytest.raises(IllegalTransition) as exc:
        services.transition_article(article, to=to, by=agent)
    assert "cannot go from" in exc.value.message
    article.refresh_from_db()
    assert article.status == before


def test_every_change_of_a_translation_keeps_a_version(agent: User) -> None:
    article = make_article(agent, fr=("Titre", "v1"), status=S.DRAFT)
    for body in ("v2", "v2", "v3"):  # the unchanged save adds no version
        services.update_article(
            article,
            by=agent,
            translations={"fr": TranslationInput(title="Titre", body=body)},
            category=None,
            visibility=article.visibility,
            organisations=[],
        )
    numbers = list(ArticleVersion.objects.filter(article=article).values_list("number", "body"))
    assert numbers == [(3, "v3"), (2, "v2"), (1, "v1")]


def test_diff_shows_the_changes_as_escaped_html(agent: User) -> None:
    article = make_article(agent, en=("Title", "line one\nline <b>two</b>"), status=S.DRAFT)
    services.update_article(
        article,
        by=agent,
        translations={"en": TranslationInput(title="Title", body="line one\nline three")},
        category=None,
        visibility=article.visibility,
        organisations=[],
    )
    v2, v1 = selectors.versions(article)
    html = selectors.diff_html(v1, v2)
    assert "<table" in html
    assert "line&nbsp;&lt;b&gt;two&lt;/b&gt;" in html or "&lt;b&gt;" in html
    assert "three" in html


def test_restore_makes_an_old_version_current_as_a_new_version(agent: User) -> None:
    article = make_article(agent, en=("Old title", "old body"), status=S.DRAFT)
    services.update_article(
        article,
        by=agent,
        translations={"en": TranslationInput(title="New title", body="new body")},
        category=None,
        visibility=article.visibility,
        organisations=[],
    )
    first = ArticleVersion.objects.get(article=article, number=1)
    translation = services.restore_version(article, version_id=first.pk, by=agent)
    assert (translation.title, translation.body) == ("Old title", "old body")
    assert translation.body_html == "<p>old body</p>\n"
    latest = ArticleVersion.objects.filter(article=article).first()
    assert latest is not None and latest.number == 3 and "1" in latest.note
    with pytest.raises(ValidationError):  # already current
        services.restore_version(article, version_id=first.pk, by=agent)


def test_files_are_sniffed_and_refused_when_dangerous(agent: User) -> None:
    article = make_article(agent, en=("Screens", "x"))
    item = services.add_article_file(article, by=agent, upload=SimpleUploadedFile("écran.png", PNG))
    assert (item.filename, item.content_type, item.is_image) == ("écran.png", "image/png", True)
    with pytest.raises(ValidationError):
        services.add_article_file(article, by=agent, upload=SimpleUploadedFile("run.exe", b"MZ" + b"\x00" * 50))
    with pytest.raises(ValidationError):
        services.add_article_file(article, by=agent, upload=SimpleUploadedFile("photo.png", b"not a png at all"))
    assert article.files.count() == 1


def test_views_are_counted(agent: User) -> None:
    article = make_article(agent, en=("x", "y"))
    services.record_view(article_id=article.pk)
    services.record_view(article_id=article.pk)
    article.refresh_from_db()
    assert article.view_count == 2


def test_one_helpful_vote_per_person_and_it_can_change(agent: User, requester: User, requester_b: User) -> None:
    article = make_article(agent, en=("x", "y"))
    services.vote_helpful(article, user=requester, helpful=True)
    services.vote_helpful(article, user=requester, helpful=False)
    services.vote_helpful(article, user=requester_b, helpful=True)
    assert HelpfulVote.objects.filter(article=article).count() == 2
    summary = selectors.vote_summary(article, requester)
    assert (summary.yes, summary.no, summary.mine) == (1, 1, False)


def test_deflections_are_counted_per_period_and_article(agent: User, requester: User) -> None:
    from datetime import timedelta

    from django.utils import timezone

    a = make_article(agent, en=("a", "x"))
    b = make_article(agent, en=("b", "x"))
    for article in (a, a, b):
        services.record_deflection(user=requester, article=article, query="printer jam")
    now = timezone.now()
    start, end = now - timedelta(days=1), now + timedelta(days=1)
    assert selectors.deflection_count(start=start, end=end) == 3
    assert selectors.deflection_count(start=end, end=end + timedelta(days=1)) == 0
    assert selectors.deflections_per_article(start=start, end=end) == [(a.pk, 2), (b.pk, 1)]
    assert [n for _day, n in selectors.deflections_per_day(start=start, end=end)] == [3]
    assert Deflection.objects.filter(query="printer jam").count() == 3
    assert not Ticket.objects.exists()


def test_a_view_counts_once_per_reader_and_day(agent: User, requester: User, requester_b: User) -> None:
    article = make_article(agent, en=("x", "y"))
    services.record_view(article_id=article.pk, user_id=requester.pk)
    services.record_view(article_id=article.pk, user_id=requester.pk)  # a reload
    services.record_view(article_id=article.pk, user_id=requester_b.pk)
    services.record_view(article_id=article.pk)  # nobody signed in: only the page counter
    article.refresh_from_db()
    assert article.view_count == 4
    assert sorted(ArticleView.objects.values_list("user_id", flat=True)) == sorted([requester.pk, requester_b.pk])


def test_a_search_that_finds_nothing_is_remembered_once_a_day(requester: User, requester_b: User) -> None:
    services.record_search(user=requester, query="  Imprimante   COULEUR ", hits=0)
    services.record_search(user=requester, query="imprimante couleur", hits=0)  # again the same day
    services.record_search(user=requester_b, query="Imprimante couleur", hits=0)
    services.record_search(user=requester, query="printer", hits=2)  # found something
    services.record_search(user=requester, query="   ", hits=0)
    assert sorted(FailedSearch.objects.values_list("query", "user_id")) == sorted(
        [("imprimante couleur", requester.pk), ("imprimante couleur", requester_b.pk)]
    )
