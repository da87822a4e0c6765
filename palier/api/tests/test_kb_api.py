"""The knowledge-base API: visibility per caller, search, editors' writes with version checks,
lifecycle, votes, categories, problem answers, query budget and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from palier.api.tests.conftest import API, assert_problem
from palier.kb.models import Article, ArticleVersion, HelpfulVote, KbCategory
from palier.kb.tests.builders import make_article
from palier.people.models import Organisation, User

pytestmark = pytest.mark.django_db
S, V = Article.Status, Article.Visibility


@pytest.fixture
def world(agent: User, org: Organisation) -> dict[str, Article]:
    return {
        "public": make_article(
            agent, fr=("Imprimante réseau", "Redémarrez l'imprimante."), en=("Network printer", "Restart it.")
        ),
        "internal": make_article(agent, en=("Internal printer notes", "paper"), visibility=V.INTERNAL),
        "acme": make_article(agent, en=("Acme printer", "paper"), visibility=V.ORGANISATIONS, organisations=[org]),
        "draft": make_article(agent, en=("Draft printer", "paper"), status=S.DRAFT),
    }


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


# --- reading -------------------------------------------------------------------------------------


def test_each_caller_lists_only_what_they_may_read(client_for, requester, outsider, agent, world) -> None:
    w = world
    assert ids(client_for(requester).call("GET", "/kb/articles")) == {w["public"].pk, w["acme"].pk}
    assert ids(client_for(outsider).call("GET", "/kb/articles")) == {w["public"].pk}
    assert ids(client_for(agent).call("GET", "/kb/articles")) == {a.pk for a in w.values()}  # editors: drafts too
    assert ids(client_for(agent).call("GET", "/kb/articles?status=draft")) == {w["draft"].pk}


def test_requester_cannot_read_an_internal_draft_or_other_organisations_article(
    client_for, requester, outsider, world
) -> None:
    for key in ("internal", "draft"):
        assert_problem(client_for(requester).call("GET", f"/kb/articles/{world[key].pk}"), 404)
    assert_problem(client_for(outsider).call("GET", f"/kb/articles/{world['acme'].pk}"), 404)
    assert client_for(requester).call("GET", f"/kb/articles/{world['acme'].pk}").status_code == 200


def test_anonymous_callers_get_401(client_for, world) -> None:
    assert_problem(client_for(None).call("GET", "/kb/articles"), 401)


def test_detail_has_markdown_and_sanitised_html(client_for, agent, requester) -> None:
    body = "Hello <script>alert(1)</script> [click](javascript:alert(2)) **bold**"
    article = make_article(agent, en=("Unsafe", body))
    r = client_for(requester).call("GET", f"/kb/articles/{article.pk}")
    assert r.status_code == 200
    assert r["ETag"] == f'"{article.pk}-{article.version}"'
    data = r.json()
    (translation,) = data["translations"]
    assert translation["body"] == body
    assert "<script" not in translation["body_html"] and "href" not in translation["body_html"]
    assert "<strong>bold</strong>" in translation["body_html"]
    assert data["organisations"] == []  # readers never see the list of organisations
    assert data["votes"] == {"yes": 0, "no": 0, "mine": None}


def test_search_ignores_accents_case_and_plurals(client_for, requester, world) -> None:
    r = client_for(requester).call("GET", "/kb/articles?q=IMPRIMANTES%20reseau")
    assert ids(r) == {world["public"].pk}
    assert "<mark>imprimante</mark>" in r.json()["items"][0]["excerpt_html"]
    assert ids(client_for(requester).call("GET", "/kb/articles?q=printer")) == {world["public"].pk, world["acme"].pk}


def test_search_filters_by_language_and_category(client_for, agent, requester) -> None:
    hardware = KbCategory.objects.create(slug="hardware-test", name_en="Hardware", name_fr="Matériel")
    french = make_article(agent, fr=("Écran noir", "écran"), category=hardware)
    english = make_article(agent, en=("Black screen", "screen écran"))
    client = client_for(requester)
    assert ids(client.call("GET", "/kb/articles?q=ecran")) == {french.pk, english.pk}
    assert ids(client.call("GET", "/kb/articles?q=ecran&language=en")) == {english.pk}
    assert ids(client.call("GET", f"/kb/articles?q=ecran&category={hardware.pk}")) == {french.pk}
    assert ids(client.call("GET", f"/kb/articles?category={hardware.pk}")) == {french.pk}
    assert ids(client.call("GET", "/kb/articles?language=fr")) == {french.pk}


def test_search_and_list_are_paginated(client_for, agent, requester) -> None:
    made = {make_article(agent, en=(f"Printer {i}", "printer")).pk for i in range(5)}
    client = client_for(requester)
    for query in ("/kb/articles?limit=2", "/kb/articles?q=printer&limit=2"):
        seen: list[int] = []
        r = client.call("GET", query)
        while True:
            page = r.json()
            seen += [item["id"] for item in page["items"]]
            if not page["next_cursor"]:
                break
            r = client.call("GET", f"{query}&cursor={page['next_cursor']}")
        assert sorted(seen) == sorted(made), query
    assert_problem(client.call("GET", "/kb/articles?q=printer&cursor=zz"), 400, "cursor")


def test_list_query_count_does_not_grow(client_for, agent, requester, django_assert_max_num_queries) -> None:
    client = client_for(requester)
    make_article(agent, fr=("Un", "x"), en=("One", "x"))

    with CaptureQueriesContext(connection) as ctx:
        assert client.call("GET", "/kb/articles").status_code == 200
    small = len(ctx.captured_queries)
    category = KbCategory.objects.create(slug="many-test", name_en="Many", name_fr="Beaucoup")
    for i in range(20):
        make_article(agent, fr=(f"Article {i}", "x"), en=(f"Article {i}", "x"), category=category)
    with django_assert_max_num_queries(small):
        r = client.call("GET", "/kb/articles?limit=100")
    assert len(r.json()["items"]) == 21


def test_categories_are_listed_in_the_callers_language(client_for, requester) -> None:
    KbCategory.objects.create(slug="zz-test", name_en="Printing", name_fr="Impression", position=999)
    r = client_for(requester).call("GET", "/kb/categories", HTTP_ACCEPT_LANGUAGE="en")
    last = r.json()[-1]
    assert last["slug"] == "zz-test" and last["name_fr"] == "Impression" and last["name_en"] == "Printing"


# --- writing -------------------------------------------------------------------------------------


def test_editor_creates_a_draft_then_publishes_it(client_for, agent, requester, org) -> None:
    client = client_for(agent)
    r = client.call(
        "POST",
        "/kb/articles",
        {
            "translations": {"fr": {"title": "VPN", "body": "Installez le **client**."}},
            "visibility": "organisations",
            "organisations": [org.pk],
        },
    )
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["status"] == "draft" and data["organisations"] == [{"id": org.pk, "name": "Acme"}]
    assert r["Location"].endswith(f"/kb/articles/{data['id']}")
    assert_problem(client_for(requester).call("GET", f"/kb/articles/{data['id']}"), 404)
    for status in ("in_review", "published"):
        r = client.call("POST", f"/kb/articles/{data['id']}/transitions", {"status": status})
        assert r.status_code == 200, r.content
    assert client_for(requester).call("GET", f"/kb/articles/{data['id']}").json()["status"] == "published"


def test_illegal_transition_answers_409(client_for, agent, world) -> None:
    r = client_for(agent).call("POST", f"/kb/articles/{world['draft'].pk}/transitions", {"status": "published"})
    assert_problem(r, 409, "status")
    world["draft"].refresh_from_db()
    assert world["draft"].status == S.DRAFT


def test_requester_cannot_write(client_for, requester, world) -> None:
    client = client_for(requester)
    assert_problem(client.call("POST", "/kb/articles", {"translations": {"en": {"title": "x"}}}), 403)
    r = client.call("PATCH", f"/kb/articles/{world['public'].pk}", {"version": 1, "visibility": "internal"})
    assert_problem(r, 403)
    assert Article.objects.get(pk=world["public"].pk).visibility == V.PUBLIC


def test_update_changes_only_what_is_sent_and_keeps_a_version(client_for, agent, world) -> None:
    article = world["public"]
    r = client_for(agent).call(
        "PATCH",
        f"/kb/articles/{article.pk}",
        {"version": article.version, "translations": {"en": {"title": "Printers"}}},
    )
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["version"] == article.version + 1 and r["ETag"] == f'"{article.pk}-{article.version + 1}"'
    texts = {t["language"]: (t["title"], t["body"]) for t in data["translations"]}
    assert texts == {"en": ("Printers", "Restart it."), "fr": ("Imprimante réseau", "Redémarrez l'imprimante.")}
    assert ArticleVersion.objects.filter(article=article, language="en").count() == 2
    assert ArticleVersion.objects.filter(article=article, language="fr").count() == 1


def test_stale_update_is_refused_and_changes_nothing(client_for, agent, agent_l2, world) -> None:
    article = world["public"]
    seen = client_for(agent).call("GET", f"/kb/articles/{article.pk}")["ETag"]
    first = client_for(agent_l2).call(
        "PATCH", f"/kb/articles/{article.pk}", {"translations": {"en": {"title": "First"}}}, **{"If-Match": seen}
    )
    assert first.status_code == 200
    for attempt in (
        {"headers": {"If-Match": seen}, "body": {"translations": {"en": {"title": "Second"}}}},
        {"headers": {}, "body": {"version": article.version, "visibility": "internal"}},
    ):
        r = client_for(agent).call("PATCH", f"/kb/articles/{article.pk}", attempt["body"], **attempt["headers"])
        assert_problem(r, 412, "version")
    article.refresh_from_db()
    assert article.visibility == V.PUBLIC
    assert article.translations.get(language="en").title == "First"
    assert_problem(
        client_for(agent).call("PATCH", f"/kb/articles/{article.pk}", {"visibility": "internal"}), 428, "version"
    )


def test_stale_transition_is_refused(client_for, agent, world) -> None:
    article = world["public"]
    r = client_for(agent).call(
        "POST", f"/kb/articles/{article.pk}/transitions", {"status": "archived", "version": article.version - 1}
    )
    assert_problem(r, 412)
    article.refresh_from_db()
    assert article.status == S.PUBLISHED


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["translations"]),
        ({"translations": {}}, ["translations"]),
        ({"translations": {"de": {"title": "Hallo"}}}, ["translations.de.[key]"]),
        ({"translations": {"en": {"title": "x" * 201}}}, ["translations.en.title"]),
        ({"translations": {"en": {"summary": "no title"}}}, ["translations.en.title"]),
        ({"translations": {"en": {"title": "x"}}, "visibility": "secret"}, ["visibility"]),
        ({"translations": {"en": {"title": "x"}}, "visibility": "organisations"}, ["organisations"]),
        ({"translations": {"en": {"title": "x"}}, "organisations": [999999]}, ["organisations"]),
        ({"translations": {"en": {"title": "x"}}, "category": 999999}, ["category"]),
        ({"translations": {"en": {"title": "x"}}, "colour": "red"}, ["colour"]),
    ],
)
def test_bad_input_answers_a_problem_with_field_errors(client_for, agent, body, fields) -> None:
    before = Article.objects.count()
    r = client_for(agent).call("POST", "/kb/articles", body)
    assert_problem(r, 422, *fields)
    assert Article.objects.count() == before


def test_bad_patch_changes_nothing(client_for, agent, world) -> None:
    article = world["public"]
    r = client_for(agent).call(
        "PATCH", f"/kb/articles/{article.pk}", {"version": article.version, "translations": {"fr": {"title": " "}}}
    )
    assert_problem(r, 422, "translations.fr.title")
    article.refresh_from_db()
    assert article.version == world["public"].version
    assert article.translations.get(language="fr").title == "Imprimante réseau"


# --- votes ---------------------------------------------------------------------------------------


def test_vote_and_change_the_answer(client_for, requester, requester_b, world) -> None:
    url = f"/kb/articles/{world['public'].pk}/vote"
    client_for(requester_b).call("POST", url, {"helpful": False})
    assert client_for(requester).call("POST", url, {"helpful": True}).json() == {"yes": 1, "no": 1, "mine": True}
    assert client_for(requester).call("POST", url, {"helpful": False}).json() == {"yes": 0, "no": 2, "mine": False}
    assert HelpfulVote.objects.filter(article=world["public"]).count() == 2


def test_vote_on_an_unreadable_article_is_404(client_for, requester, world) -> None:
    assert_problem(
        client_for(requester).call("POST", f"/kb/articles/{world['internal'].pk}/vote", {"helpful": True}), 404
    )
    assert_problem(
        client_for(requester).call("POST", f"/kb/articles/{world['public'].pk}/vote", {"helpful": "yes"}),
        422,
        "helpful",
    )
    assert not HelpfulVote.objects.exists()


def test_read_only_token_cannot_vote(token_client, requester, world) -> None:
    r = token_client(requester, scope="read").call("POST", f"/kb/articles/{world['public'].pk}/vote", {"helpful": True})
    assert_problem(r, 403)


# --- document ------------------------------------------------------------------------------------


def test_openapi_lists_the_kb_endpoints(client_for) -> None:
    paths = client_for(None).get(f"{API}/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths[f"{API}/kb/articles"])
    assert {"get", "patch"} <= set(paths[f"{API}/kb/articles/{{article_id}}"])
    assert "post" in paths[f"{API}/kb/articles/{{article_id}}/transitions"]
    assert "post" in paths[f"{API}/kb/articles/{{article_id}}/vote"]
    assert "get" in paths[f"{API}/kb/categories"]
