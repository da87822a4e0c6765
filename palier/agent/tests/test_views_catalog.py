"""Catalog administration pages: admins only; an item built with fields, stages and tasks."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from palier.catalog.models import Approval, CatalogItem, ItemField
from palier.people import services as people
from palier.people.models import Organisation, User

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
D = Approval.Decision


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def boss(requester: User, org: Organisation) -> User:
    boss = people.create_user(
        email="boss@acme.test", full_name="Bea Boss", organisation=org, password="pw-bea-123!", language="en"
    )
    requester.manager = boss
    requester.save(update_fields=["manager"])
    return boss


# --- admin ----------------------------------------------------------------------------------------


def test_admin_pages_are_for_admins_only(client: Client, agent: User) -> None:
    assert signed_in(client, agent).get(reverse("catalog:admin-items")).status_code == 404


def test_admin_builds_an_item_with_fields_stages_and_tasks(client: Client, admin_user: User, boss: User) -> None:
    c = signed_in(client, admin_user)
    data = {
        "slug": "monitor", "name_fr": "Écran", "name_en": "Monitor", "visibility": "everyone", "impact": "low",
        "urgency": "low", "fulfilment": "parallel", "order": "1", "is_active": "on",
    }  # fmt: skip
    response = c.post(reverse("catalog:admin-items"), data)
    item = CatalogItem.objects.get(slug="monitor")
    url = reverse("catalog:admin-item", args=[item.pk])
    assert response.status_code == 302 and response["Location"] == url
    bad = c.post(url, {"part": "field", "field-key": "size", "field-kind": "choice", "field-label_fr": "Taille",
                       "field-label_en": "Size"}, **EN)  # fmt: skip
    assert bad.status_code == 400 and "Give at least one choice." in bad.content.decode()
    for key in ("size", "model"):
        c.post(url, {"part": "field", "field-key": key, "field-kind": "choice", "field-label_fr": key,
                     "field-label_en": key, "field-choices_text": "24 | 24 pouces | 24 inches\n27"})  # fmt: skip
    again = c.post(url, {"part": "field", "field-key": "size", "field-kind": "short_text", "field-label_fr": "x",
                         "field-label_en": "x"}, **EN)  # fmt: skip
    assert again.status_code == 400 and "Another field of this item already has this key." in again.content.decode()
    c.post(url, {"part": "stage", "stage-kind": "people", "stage-rule": "any", "stage-people_emails": "boss@acme.test"})
    c.post(url, {"part": "task", "task-subject_fr": "Livrer", "task-subject_en": "Deliver"})
    size, model = item.fields.order_by("order")
    assert size.choices[0] == {"value": "24", "fr": "24 pouces", "en": "24 inches"}
    assert list(item.stages.get().people.all()) == [boss]
    assert item.task_templates.get().subject_en == "Deliver"
    c.post(reverse("catalog:admin-part-move", args=[item.pk, "field", model.pk, "up"]))
    assert list(item.fields.order_by("order").values_list("key", flat=True)) == ["model", "size"]
    c.post(reverse("catalog:admin-part-remove", args=[item.pk, "field", size.pk]))
    assert list(ItemField.objects.filter(item=item).values_list("key", flat=True)) == ["model"]
    assert c.get(url).status_code == 200
