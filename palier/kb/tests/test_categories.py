"""Knowledge-base categories: the services and the agent page (list, create, edit, delete)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from palier.kb import services
from palier.kb.models import Article, KbCategory
from palier.kb.services import CategoryInput, TranslationInput
from palier.kb.tests.builders import make_article
from palier.lib.errors import Conflict, PermissionDenied
from palier.people.models import User

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


# --- services ------------------------------------------------------------------------------------


def test_slug_is_made_from_the_english_name(agent: User) -> None:
    category = services.create_kb_category(by=agent, data=CategoryInput(name_fr="Téléphonie", name_en="Desk phones"))
    assert (category.slug, category.name_fr, category.position) == ("desk-phones", "Téléphonie", 0)


def test_bad_category_input_names_each_field(agent: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_kb_category(
            by=agent, data=CategoryInput(name_fr=" ", name_en="x", slug="Bad slug!", position=-1)
        )
    assert set(exc.value.error_dict) == {"name_fr", "slug", "position"}
    with pytest.raises(ValidationError) as exc:
        services.create_kb_category(
            by=agent, data=CategoryInput(name_fr="Impression 2", name_en="Printing", slug="printing")
        )
    assert "slug" in exc.value.error_dict  # the seeded "printing" is taken
    assert not KbCategory.objects.filter(name_fr__in=["Impression 2", " "]).exists()


def test_requesters_cannot_manage_categories(requester: User) -> None:
    with pytest.raises(PermissionDenied):
        services.create_kb_category(by=requester, data=CategoryInput(name_fr="a", name_en="a"))


def test_only_an_empty_category_can_be_deleted(agent: User) -> None:
    category = services.create_kb_category(by=agent, data=CategoryInput(name_fr="Vide", name_en="Empty"))
    article = make_article(agent, en=("Archived one", "x"), category=category, status=Article.Status.ARCHIVED)
    with pytest.raises(Conflict, match="1 article"):
        services.delete_kb_category(category, by=agent)
    assert KbCategory.objects.filter(pk=category.pk).exists()
    services.update_article(
        article,
        by=agent,
        translations={"en": TranslationInput(title="Archived one", body="x")},
        category=None,
        visibility=article.visibility,
        organisations=[],
    )
    services.delete_kb_category(category, by=agent)
    assert not KbCategory.objects.filter(pk=category.pk).exists()


# --- pages ---------------------------------------------------------------------------------------


def test_page_needs_an_agent(client: Client, requester: User) -> None:
    url = reverse("kb:categories")
    assert client.get(url).status_code == 302
    assert signed_in(client, requester).get(url).status_code == 404
    assert client.post(url, {"name_fr": "a", "name_en": "a", "position": 0}).status_code == 404
    assert not KbCategory.objects.filter(name_fr="a").exists()


def test_agent_creates_edits_and_deletes_a_category(client: Client, agent: User) -> None:
    signed_in(client, agent)
    r = client.post(reverse("kb:categories"), {"name_fr": "Téléphonie", "name_en": "Phones", "position": 3}, **EN)
    assert r.status_code == 302
    category = KbCategory.objects.get(slug="phones")
    html = client.get(reverse("kb:categories"), **EN).content.decode()
    assert "The category “Phones” is created." in html and "Téléphonie" in html
    r = client.post(
        reverse("kb:category-edit", args=[category.pk]),
        {"name_fr": "Téléphones", "name_en": "Phones", "slug": "phones", "position": 1},
    )
    assert r.status_code == 302
    category.refresh_from_db()
    assert (category.name_fr, category.position) == ("Téléphones", 1)
    r = client.post(reverse("kb:category-delete", args=[category.pk]), **EN, follow=True)
    assert "The category “Phones” is deleted." in r.content.decode()
    assert not KbCategory.objects.filter(pk=category.pk).exists()


def test_deleting_a_category_with_articles_explains_why_not(client: Client, agent: User) -> None:
    category = KbCategory.objects.get(slug="printing")
    make_article(agent, en=("Paper jam", "x"), category=category)
    make_article(agent, en=("Toner", "x"), category=category, status=Article.Status.DRAFT)
    r = signed_in(client, agent).post(reverse("kb:category-delete", args=[category.pk]), follow=True, **EN)
    assert "“Printing” still holds 2 articles; move them to another category first." in r.content.decode()
    assert KbCategory.objects.filter(pk=category.pk).exists()
    assert Article.objects.filter(category=category).count() == 2


def test_bad_input_shows_field_errors_and_changes_nothing(client: Client, agent: User) -> None:
    before = list(KbCategory.objects.values_list("slug", "name_fr", "name_en", "position"))
    signed_in(client, agent)
    r = client.post(
        reverse("kb:categories"), {"name_fr": "", "name_en": "Printing", "slug": "printing", "position": "x"}, **EN
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert "This field is required." in html and "Enter a whole number." in html
    printing = KbCategory.objects.get(slug="printing")
    r = client.post(
        reverse("kb:category-edit", args=[printing.pk]),
        {"name_fr": "Réseau", "name_en": "Network", "slug": "network", "position": 0},
        **EN,
    )
    assert r.status_code == 400
    assert "Another category already uses “network”." in r.content.decode()
    assert list(KbCategory.objects.values_list("slug", "name_fr", "name_en", "position")) == before


def test_list_is_paginated_with_constant_queries(client: Client, agent: User, django_assert_max_num_queries) -> None:
    signed_in(client, agent)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("kb:categories")).status_code == 200
    baseline = len(ctx.captured_queries)
    for i in range(60):
        category = KbCategory.objects.create(
            slug=f"bulk-{i:02d}", name_en=f"Bulk {i}", name_fr=f"Lot {i}", position=100 + i
        )
        if i < 3:
            make_article(agent, en=(f"In bulk {i}", "x"), category=category)
    with django_assert_max_num_queries(baseline):
        r = client.get(reverse("kb:categories"), **EN)
    html = r.content.decode()
    assert "Page 1 of 2" in html and "Bulk 43" in html and "Bulk 44" not in html
    assert "Bulk 59" in client.get(reverse("kb:categories"), {"page": 2}).content.decode()
