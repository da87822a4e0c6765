"""Client tests for the knowledge-base reader pages: reading, deflection, and the query budget of
the hot pages (the management pages are tested in agent/tests/test_views_kb.py)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from palier.kb import services
from palier.kb.models import Article, ArticleView, Deflection, FailedSearch, KbCategory
from palier.kb.tests.builders import make_article
from palier.people.models import Organisation, User
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db
S, V = Article.Status, Article.Visibility
PNG = (  # a real 1×1 image (libmagic checks the IHDR chunk, not only the signature)
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def world(agent: User, org: Organisation) -> dict[str, Article]:
    return {
        "public": make_article(agent, fr=("Imprimante publique", "papier"), en=("Public printer", "paper")),
        "internal": make_article(agent, en=("Internal printer notes", "paper"), visibility=V.INTERNAL),
        "acme": make_article(agent, en=("Acme printer", "paper"), visibility=V.ORGANISATIONS, organisations=[org]),
        "draft": make_article(agent, en=("Draft printer", "paper"), status=S.DRAFT),
    }


def test_kb_requires_sign_in(client: Client) -> None:
    assert client.get(reverse("kb:home")).status_code == 302


def test_requester_home_lists_only_readable_articles(client: Client, requester: User, world: dict) -> None:
    html = signed_in(client, requester).get(reverse("kb:home")).content.decode()
    assert "Imprimante publique" in html  # French reader, French version
    assert "Acme printer" in html
    assert "Internal printer notes" not in html and "Draft printer" not in html


def test_home_search_shows_highlighted_results(client: Client, requester: User, world: dict) -> None:
    html = signed_in(client, requester).get(reverse("kb:home"), {"q": "imprimantes"}).content.decode()
    assert "<mark>Imprimante</mark> publique" in html


def test_home_filters_by_category(client: Client, agent: User, requester: User) -> None:
    printing = KbCategory.objects.create(slug="print-test", name_en="Printing", name_fr="Impression")
    make_article(agent, en=("In category", "x"), category=printing)
    make_article(agent, en=("Elsewhere", "x"))
    html = signed_in(client, requester).get(reverse("kb:home"), {"category": "print-test"}).content.decode()
    assert "In category" in html and "Elsewhere" not in html


@pytest.mark.parametrize(
    ("who", "key", "status"),
    [
        ("requester", "public", 200),
        ("requester", "acme", 200),
        ("requester", "internal", 404),
        ("requester", "draft", 404),
        ("outsider", "acme", 404),
        ("agent", "internal", 200),
        ("agent", "draft", 404),  # the reader shows published articles; agents edit drafts in /kb/manage/
    ],
)
def test_article_page_follows_visibility(
    client: Client, request: pytest.FixtureRequest, world: dict, who: str, key: str, status: int
) -> None:
    user = request.getfixturevalue(who)
    response = signed_in(client, user).get(reverse("kb:article", args=[world[key].pk]))
    assert response.status_code == status


def test_article_page_renders_safe_html_and_counts_the_view(client: Client, agent: User, requester: User) -> None:
    article = make_article(agent, en=("Safe", "**bold** <script>alert(1)</script> <img src=x onerror=alert(1)>"))
    html = signed_in(client, requester).get(reverse("kb:article", args=[article.pk])).content.decode()
    assert "<strong>bold</strong>" in html
    assert "<script>alert" not in html and "onerror" not in html
    article.refresh_from_db()
    assert article.view_count == 1


def test_article_falls_back_to_the_other_language(client: Client, agent: User, requester: User) -> None:
    article = make_article(agent, en=("English only", "text"))
    html = signed_in(client, requester).get(reverse("kb:article", args=[article.pk])).content.decode()
    assert "English only" in html and 'lang="en"' in html


def test_helpful_vote_is_recorded_and_changeable(client: Client, agent: User, requester: User) -> None:
    article = make_article(agent, en=("Vote", "text"))
    c = signed_in(client, requester)
    c.post(reverse("kb:vote", args=[article.pk]), {"helpful": "yes"})
    response = c.post(reverse("kb:vote", args=[article.pk]), {"helpful": "no"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "(0)" in html and "(1)" in html and 'id="kb-vote"' in html
    assert article.votes.get().helpful is False


def test_files_are_served_only_to_readers(
    client: Client, agent: User, requester: User, outsider: User, org: Organisation
) -> None:
    article = make_article(agent, en=("Screens", "x"), visibility=V.ORGANISATIONS, organisations=[org])
    item = services.add_article_file(article, by=agent, upload=SimpleUploadedFile("screen.png", PNG))
    draft = make_article(agent, en=("Draft", "x"), status=S.DRAFT)
    draft_file = services.add_article_file(draft, by=agent, upload=SimpleUploadedFile("d.png", PNG))
    response = signed_in(client, requester).get(reverse("kb:file", args=[item.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(reverse("kb:file", args=[draft_file.pk])).status_code == 404
    assert signed_in(Client(), outsider).get(reverse("kb:file", args=[item.pk])).status_code == 404
    assert signed_in(Client(), agent).get(reverse("kb:file", args=[draft_file.pk])).status_code == 200


def test_suggest_returns_the_best_articles_for_the_typed_question(client: Client, requester: User, world: dict) -> None:
    response = signed_in(client, requester).get(
        reverse("kb:suggest"), {"subject": "L'imprimante", "description": "bloque sur le papier"}
    )
    html = response.content.decode()
    assert "<mark>Imprimante</mark> publique" in html
    assert "Internal printer notes" not in html
    assert html.count('class="mb-2 kb-suggestion"') == 1
    assert signed_in(client, requester).get(reverse("kb:suggest"), {"subject": "ab"}).content.strip() == b""


def test_solved_records_a_deflection_and_creates_no_ticket(client: Client, requester: User, world: dict) -> None:
    article = world["public"]
    response = signed_in(client, requester).post(
        reverse("kb:deflect", args=[article.pk]),
        {"subject": "Imprimante bloquée", "description": "papier coincé", "impact": "medium"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert 'id="kb-deflected"' in response.content.decode()
    deflection = Deflection.objects.get()
    assert (deflection.user, deflection.article, deflection.query) == (
        requester,
        article,
        "Imprimante bloquée papier coincé",
    )
    assert not Ticket.objects.exists()


def test_cannot_deflect_with_an_invisible_article(client: Client, requester: User, world: dict) -> None:
    response = signed_in(client, requester).post(reverse("kb:deflect", args=[world["internal"].pk]))
    assert response.status_code == 404
    assert not Deflection.objects.exists()


# --- agents ----------------------------------------------------------------------------------


# --- query budget ----------------------------------------------------------------------------


def _bulk(agent: User, n: int) -> None:
    for i in range(n):
        make_article(agent, fr=(f"Imprimante {i}", "papier"), en=(f"Printer {i}", "paper"))


def test_home_query_count(client: Client, agent: User, requester: User, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _bulk(agent, 6)
    c = signed_in(client, requester)
    with django_assert_max_num_queries(6):
        assert c.get(reverse("kb:home")).status_code == 200
    with django_assert_max_num_queries(7):
        assert c.get(reverse("kb:home"), {"q": "imprimante"}).status_code == 200


def test_article_page_query_count(client: Client, agent: User, requester: User, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    article = make_article(agent, fr=("Imprimante", "papier"), en=("Printer", "paper"))
    c = signed_in(client, requester)
    with django_assert_max_num_queries(7):
        assert c.get(reverse("kb:article", args=[article.pk])).status_code == 200


def test_suggest_query_count(client: Client, agent: User, requester: User, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _bulk(agent, 8)
    c = signed_in(client, requester)
    with django_assert_max_num_queries(6):
        response = c.get(reverse("kb:suggest"), {"subject": "imprimante papier"})
    assert response.content.decode().count('class="mb-2 kb-suggestion"') == 5


def test_the_reader_pages_record_views_and_failed_searches(client: Client, agent: User, requester: User) -> None:
    article = make_article(agent, en=("Printer jam", "Open the tray."))
    client.force_login(requester)
    assert client.get(reverse("kb:article", args=[article.pk])).status_code == 200
    assert client.get(reverse("kb:home"), {"q": "zzzyx"}).status_code == 200
    assert client.get(reverse("kb:home"), {"q": "printer"}).status_code == 200
    assert list(ArticleView.objects.values_list("article_id", "user_id")) == [(article.pk, requester.pk)]
    assert list(FailedSearch.objects.values_list("query", flat=True)) == ["zzzyx"]
