"""Knowledge-base management pages: editor, transitions, versions, files, ticket panel, list."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.kb.models import Article, ArticleTicketLink
from palier.kb.tests.builders import make_article
from palier.people.models import User
from palier.tickets import services as ticket_services
from palier.tickets.models import Ticket
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
S, V = Article.Status, Article.Visibility
PNG = (  # a real 1×1 image (libmagic checks the IHDR chunk, not only the signature)
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def test_management_is_for_agents_only(client: Client, requester: User) -> None:
    c = signed_in(client, requester)
    assert c.get(reverse("kb:manage")).status_code == 404
    assert c.get(reverse("kb:manage-new")).status_code == 404


def test_agent_creates_edits_and_publishes_an_article(client: Client, agent: User, requester: User) -> None:
    c = signed_in(client, agent)
    data = {"visibility": "public", "title_fr": "Mot de passe", "body_fr": "Allez sur **la page**", "title_en": ""}
    response = c.post(reverse("kb:manage-new"), data)
    assert response.status_code == 302
    article = Article.objects.get()
    assert article.status == S.DRAFT
    data.update({"title_en": "Password", "body_en": "Go to **the page**"})
    assert c.post(reverse("kb:manage-edit", args=[article.pk]), data).status_code == 302
    for to in (S.IN_REVIEW, S.PUBLISHED):
        c.post(reverse("kb:manage-transition", args=[article.pk]), {"to": to})
    article.refresh_from_db()
    assert article.status == S.PUBLISHED
    html = c.get(reverse("kb:manage") + "?status=published").content.decode()
    assert "Mot de passe" in html or "Password" in html
    html = signed_in(Client(), requester).get(reverse("kb:home"), {"q": "password"}).content.decode()
    assert "Mot de passe" in html  # found through English, shown in the reader's French


def test_illegal_transition_shows_a_clear_message(client: Client, agent: User) -> None:
    article = make_article(agent, en=("x", "y"), status=S.DRAFT)
    response = signed_in(client, agent).post(
        reverse("kb:manage-transition", args=[article.pk]), {"to": "published"}, follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "cannot go from" in response.content.decode()
    article.refresh_from_db()
    assert article.status == S.DRAFT


def test_bad_editor_input_keeps_what_was_typed(client: Client, agent: User) -> None:
    response = signed_in(client, agent).post(
        reverse("kb:manage-new"),
        {"visibility": "organisations", "body_en": "text without a title"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "text without a title" in html and "Give this version a title" in html
    assert not Article.objects.exists()


def test_editor_refuses_to_overwrite_a_colleagues_save(client: Client, agent: User, agent_l2: User) -> None:
    article = make_article(agent, en=("Wi-Fi", "Join the network."))
    page = signed_in(client, agent).get(reverse("kb:manage-edit", args=[article.pk])).content.decode()
    seen = re.search(r'name="version" value="(\d+)"', page)
    assert seen is not None and int(seen.group(1)) == article.version
    colleague = signed_in(Client(), agent_l2)
    data = {"visibility": "public", "title_en": "Wi-Fi", "body_en": "Colleague's text", "version": seen.group(1)}
    assert colleague.post(reverse("kb:manage-edit", args=[article.pk]), data).status_code == 302
    data["body_en"] = "My older text"
    response = client.post(reverse("kb:manage-edit", args=[article.pk]), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "Someone else changed this article in the meantime" in response.content.decode()
    assert article.translations.get().body == "Colleague's text"


def test_versions_page_shows_a_diff_and_restores(client: Client, agent: User) -> None:
    article = make_article(agent, en=("Title", "first text"), status=S.DRAFT)
    c = signed_in(client, agent)
    data = {"visibility": "public", "title_en": "Title", "body_en": "second text"}
    c.post(reverse("kb:manage-edit", args=[article.pk]), data)
    v2, v1 = article.versions.all()
    html = c.get(reverse("kb:manage-versions", args=[article.pk]), {"a": v1.pk, "b": v2.pk}).content.decode()
    assert "diff_chg" in html or "diff_add" in html
    assert c.post(reverse("kb:manage-restore", args=[article.pk, v1.pk])).status_code == 302
    assert article.translations.get().body == "first text"
    assert article.versions.count() == 3


def test_upload_refuses_dangerous_files_next_to_the_field(client: Client, agent: User) -> None:
    article = make_article(agent, en=("x", "y"), status=S.DRAFT)
    c = signed_in(client, agent)
    bad = SimpleUploadedFile("tool.exe", b"MZ" + b"\x00" * 40)
    response = c.post(reverse("kb:manage-file-upload", args=[article.pk]), {"file": bad})
    html = response.content.decode()
    assert response.status_code == 400 and "tool.exe" in html and "invalid-feedback" in html
    good = SimpleUploadedFile("shot.png", PNG)
    assert c.post(reverse("kb:manage-file-upload", args=[article.pk]), {"file": good}).status_code == 302
    assert article.files.get().filename == "shot.png"


def _resolved_ticket(requester: User, agent: User) -> Ticket:
    ticket = make_ticket(requester, subject="Imprimante bloquée", description="Bourrage papier au 2e étage.")
    ticket_services.comment_on_ticket(ticket, by=agent, body="Ouvrir le bac 2 et retirer la feuille.")
    ticket_services.comment_on_ticket(ticket, by=agent, body="Note interne", internal=True)
    ticket.refresh_from_db()
    return ticket_services.transition_ticket(ticket, to=Ticket.Status.RESOLVED, by=agent)


def test_article_from_a_resolved_ticket_is_prefilled_and_linked(client: Client, agent: User, requester: User) -> None:
    ticket = _resolved_ticket(requester, agent)
    c = signed_in(client, agent)
    response = c.get(reverse("kb:manage-new"), {"ticket": ticket.pk})
    form = response.context["form"]
    assert form.initial["title_fr"] == "Imprimante bloquée"
    body = form.initial["body_fr"]
    assert "Bourrage papier au 2e étage." in body and "Ouvrir le bac 2" in body and "Note interne" not in body
    data = {"visibility": "internal", "title_fr": "Imprimante bloquée", "body_fr": body, "ticket": ticket.pk}
    assert c.post(reverse("kb:manage-new"), data).status_code == 302
    assert ArticleTicketLink.objects.get().ticket == ticket


def test_article_from_an_open_ticket_is_refused(client: Client, agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    response = signed_in(client, agent).get(reverse("kb:manage-new"), {"ticket": ticket.pk})
    assert response.status_code == 302 and response.url == reverse("agent:ticket-detail", args=[ticket.pk])


def test_ticket_panel_suggests_articles_with_insertable_links(client: Client, agent: User, requester: User) -> None:
    article = make_article(agent, fr=("Débloquer une imprimante", "Ouvrir le bac."))
    ticket = _resolved_ticket(requester, agent)
    c = signed_in(client, agent)
    html = c.get(reverse("kb:ticket-panel", args=[ticket.pk])).content.decode()
    assert "data-kb-insert" in html
    assert re.search(rf'data-url="http://testserver/kb/articles/{article.pk}/"', html)
    assert "Write an article from this ticket" in html or "?ticket=" in html
    html = c.post(
        reverse("kb:manage-ticket-link", args=[article.pk]), {"ticket": ticket.pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert ArticleTicketLink.objects.filter(article=article, ticket=ticket).exists()
    assert "Linked articles" in html or reverse("kb:manage-edit", args=[article.pk]) in html
    assert signed_in(Client(), requester).get(reverse("kb:ticket-panel", args=[ticket.pk])).status_code == 404


def test_ticket_panel_offers_no_link_the_requester_could_not_open(client: Client, agent: User, requester: User) -> None:
    public = make_article(agent, fr=("Débloquer une imprimante", "Ouvrir le bac."))
    internal = make_article(agent, fr=("Imprimante: procédure interne", "x"), visibility=V.INTERNAL)
    ticket = _resolved_ticket(requester, agent)
    html = signed_in(client, agent).get(reverse("kb:ticket-panel", args=[ticket.pk]), HTTP_ACCEPT_LANGUAGE="en")
    text = html.content.decode()
    assert f'data-url="http://testserver/kb/articles/{public.pk}/"' in text
    assert f'data-url="http://testserver/kb/articles/{internal.pk}/"' not in text
    assert "The requester cannot read it" in text


def test_manage_list_is_paginated_with_constant_queries(
    client: Client, agent: User, django_assert_max_num_queries
) -> None:
    c = signed_in(client, agent)
    make_article(agent, en=("Article first", "x"))
    with CaptureQueriesContext(connection) as ctx:
        assert c.get(reverse("kb:manage")).status_code == 200
    baseline = len(ctx.captured_queries)
    for i in range(55):
        make_article(agent, en=(f"Article {i:02d}", "x"), status=S.DRAFT)
    with django_assert_max_num_queries(baseline):
        html = c.get(reverse("kb:manage"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Page 1 of 2" in html and "Article 54" in html and "Article first" not in html
    html = c.get(reverse("kb:manage"), {"page": 2}).content.decode()
    assert "Article first" in html and "Article 54" not in html
