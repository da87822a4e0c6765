"""People search (the agents' pickers: log a call, header search, recurring-ticket requester)
ignores case and accents, needs every word, and stays one query however many people match."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse

from palier.people import services as people
from palier.people.models import Organisation, User
from palier.people.selectors import people_matching, user_page_for_admin

pytestmark = pytest.mark.django_db


def _emails(q: str, **kwargs: Any) -> list[str]:
    return [u.email for u in people_matching(q, **kwargs)]


@pytest.fixture
def directory(org: Organisation) -> dict[str, User]:
    return {
        "lea": people.create_user(email="lmartin@acme.test", full_name="Léa Martin", organisation=org),
        "helene": people.create_user(email="helene.roux@acme.test", full_name="H. Roux", organisation=org),
        "leon": people.create_user(email="leon@acme.test", full_name="Léon Dupré", organisation=org),
        "chloe": people.create_user(email="chloe@acme.test", full_name="Chloé Lefèvre", organisation=org),
    }


def test_accents_and_case_do_not_matter(directory: dict[str, User]) -> None:
    assert _emails("lea") == ["lmartin@acme.test"]  # "lea" finds "Léa Martin"
    assert _emails("LÉA") == ["lmartin@acme.test"]
    assert _emails("HÉLÈNE") == ["helene.roux@acme.test"]  # found by the address helene.roux@…
    assert _emails("lefevre") == ["chloe@acme.test"]
    assert _emails("dupre") == ["leon@acme.test"]
    assert _emails("Chloe LEFÈVRE") == ["chloe@acme.test"]


def test_every_word_must_match(directory: dict[str, User]) -> None:
    assert _emails("le") == ["chloe@acme.test", "helene.roux@acme.test", "lmartin@acme.test", "leon@acme.test"]
    assert _emails("lé martin") == ["lmartin@acme.test"]
    assert _emails("martin dupré") == []
    assert _emails("martin lmartin@acme") == ["lmartin@acme.test"]  # a part of the address is a word too
    assert _emails("   ") == [] and _emails("") == []


def test_inactive_people_are_left_out_when_asked(directory: dict[str, User], admin_user: User) -> None:
    people.set_user_active(directory["lea"], active=False, by=admin_user)
    assert _emails("martin", active_only=True) == []
    assert _emails("martin") == ["lmartin@acme.test"]


def test_the_limit_is_respected_in_name_order(directory: dict[str, User]) -> None:
    assert _emails("acme", limit=2) == ["chloe@acme.test", "helene.roux@acme.test"]


def test_a_renamed_person_is_found_by_the_new_name(directory: dict[str, User], admin_user: User) -> None:
    lea = directory["lea"]
    people.update_user(lea, by=lea, full_name="Léa Bérénice Durand")  # save(update_fields=[…])
    assert _emails("berenice durand") == ["lmartin@acme.test"]
    assert _emails("martin lea") == ["lmartin@acme.test"]  # the address still holds "martin"
    people.update_user(lea, by=admin_user, email="lea.durand@acme.test")
    assert _emails("lmartin") == []
    assert _emails("lea.durand") == ["lea.durand@acme.test"]
    lea.full_name = "Léa Zoé"
    lea.save()
    assert _emails("zoe") == ["lea.durand@acme.test"]


def test_people_created_in_bulk_are_findable(org: Organisation) -> None:
    User.objects.bulk_create(User(email=f"p{n}@acme.test", full_name=f"Émile Nº{n}") for n in range(3))
    assert _emails("emile") == ["p0@acme.test", "p1@acme.test", "p2@acme.test"]
    rows = list(User.objects.filter(email__startswith="p").order_by("email"))
    rows[0].full_name = "Zoë Ångström"
    User.objects.bulk_update(rows[:1], ["full_name"])
    assert _emails("zoe angstrom") == ["p0@acme.test"]


def test_the_search_is_one_query_however_many_match(org: Organisation, django_assert_num_queries: Any) -> None:
    User.objects.bulk_create(User(email=f"h{n}@acme.test", full_name=f"Hélène {n}", organisation=org) for n in range(3))
    with django_assert_num_queries(1):
        few = people_matching("helene", limit=10)
    User.objects.bulk_create(
        User(email=f"h{n}@acme.test", full_name=f"Hélène {n}", organisation=org) for n in range(3, 60)
    )
    with django_assert_num_queries(1):
        many = people_matching("helene", limit=10)
    assert len(few) == 3 and len(many) == 10
    assert all(p.organisation == org for p in many)  # the organisation comes with the person


def test_the_admin_user_list_ignores_accents_too(directory: dict[str, User]) -> None:
    rows, _next = user_page_for_admin(q="LEFEVRE")
    assert [u.email for u in rows] == ["chloe@acme.test"]


def test_log_a_call_finds_the_caller_without_accents(
    client: Client, agent: User, directory: dict[str, User], django_assert_max_num_queries: Any
) -> None:
    client.force_login(agent)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("agent:call-callers"), {"caller_q": "lea mart"})
    assert response.status_code == 200
    assert "lmartin@acme.test" in response.content.decode()
    assert "leon@acme.test" not in response.content.decode()


def test_the_migration_fills_existing_people(directory: dict[str, User]) -> None:
    User.objects.update(search_text="")
    migration = importlib.import_module("palier.people.migrations.0006_user_search_text")
    migration.fill_search_text(django_apps, None)
    assert _emails("lea martin") == ["lmartin@acme.test"]
    assert User.objects.get(email="chloe@acme.test").search_text == "chloe lefevre chloe@acme.test"
