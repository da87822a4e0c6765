"""Service catalog administration through the API: items, categories, and each item's fields,
approval stages and fulfilment tasks, with the same checks as the pages."""

from __future__ import annotations

from typing import Any

import pytest

from palier.api.tests.conftest import API, assert_problem
from palier.catalog.models import ApprovalStage, CatalogCategory, CatalogItem, ItemField, TaskTemplate
from palier.people import services as people


@pytest.fixture(autouse=True)
def _english_by_default(settings: object) -> None:
    """These tests read the English messages: people without a language get English here (French,
    the product's default, is checked by the catalogs' tests)."""
    settings.LANGUAGE_CODE = "en"  # type: ignore[attr-defined]


ITEM = {"slug": "laptop", "name_fr": "Portable", "name_en": "Laptop"}


@pytest.fixture
def item(db: None) -> CatalogItem:
    return CatalogItem.objects.create(slug="phone", name_fr="Téléphone", name_en="Phone")


def _etag(client: Any, path: str) -> str:
    answer = client.get(API + path)
    assert answer.status_code == 200, answer.content
    return str(answer["ETag"])


def _field(client: Any, item: CatalogItem, **body: Any) -> Any:
    data = {"kind": "short_text", "label_fr": body.get("key", "x"), "label_en": body.get("key", "x"), **body}
    return client.call("POST", f"/catalog/items/{item.pk}/fields", data)


def test_requesters_and_agents_cannot_administer_the_catalog(client_for, requester, agent, item):
    category = CatalogCategory.objects.create(name_fr="Matériel", name_en="Hardware")
    spec = ItemField.objects.create(item=item, key="model", kind="short_text", label_fr="m", label_en="m")
    categories = CatalogCategory.objects.count()
    for user in (requester, agent):
        client = client_for(user)
        assert_problem(client.call("POST", "/catalog/items", ITEM), 403)
        assert_problem(
            client.call("PATCH", f"/catalog/items/{item.pk}", {"is_active": False}, **{"If-Match": "x"}), 403
        )
        assert_problem(client.call("POST", "/catalog/categories", {"name_fr": "a", "name_en": "a"}), 403)
        assert_problem(client.call("DELETE", f"/catalog/categories/{category.pk}"), 403)
        assert_problem(_field(client, item, key="extra"), 403)
        assert_problem(client.call("PATCH", f"/catalog/fields/{spec.pk}", {"required": True}, **{"If-Match": "x"}), 403)
        assert_problem(client.call("DELETE", f"/catalog/fields/{spec.pk}"), 403)
        assert_problem(client.call("POST", f"/catalog/items/{item.pk}/stages", {"kind": "manager"}), 403)
        assert_problem(
            client.call("POST", f"/catalog/items/{item.pk}/tasks", {"subject_fr": "a", "subject_en": "a"}), 403
        )
        assert_problem(client.call("GET", f"/catalog/fields/{spec.pk}"), 403)
        assert_problem(client.get(f"{API}/catalog/items?include_inactive=true"), 403, "include_inactive")
        # what they read stays the requesters' view: no settings, no ETag
        body = client.get(f"{API}/catalog/items/{item.pk}").json()
        assert "is_active" not in body and "stages" not in body
    item.refresh_from_db()
    spec.refresh_from_db()
    assert item.is_active and not spec.required and CatalogCategory.objects.count() == categories
    assert list(item.fields.values_list("key", flat=True)) == ["model"]
    assert not CatalogItem.objects.filter(slug="laptop").exists()
    assert not item.stages.exists() and not item.task_templates.exists()


def test_items_are_created_with_a_key_read_changed_and_switched_off(client_for, admin_user, requester):
    client = client_for(admin_user)
    category = CatalogCategory.objects.create(name_fr="Matériel", name_en="Hardware")
    body = {**ITEM, "category": category.pk, "remind_after_hours": 24}
    made = client.call("POST", "/catalog/items", body, **{"Idempotency-Key": "i1"})
    assert made.status_code == 201, made.content
    assert made["Location"] == f"{API}/catalog/items/{made.json()['id']}"
    again = client.call("POST", "/catalog/items", body, **{"Idempotency-Key": "i1"})
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    assert CatalogItem.objects.filter(slug="laptop").count() == 1
    pk = made.json()["id"]
    read = client.get(f"{API}/catalog/items/{pk}")
    assert read["ETag"] == made["ETag"] and read.json()["remind_after_hours"] == 24
    assert read.json()["category"] == {"id": category.pk, "name": "Hardware"}  # the English default of these tests
    assert client.get(f"{API}/catalog/items/{pk}", headers={"If-None-Match": made["ETag"]}).status_code == 304
    # the form's rules: a unique slug, an organisation for a restricted item
    assert_problem(client.call("POST", "/catalog/items", ITEM), 422, "slug")
    assert_problem(
        client.call("POST", "/catalog/items", {**ITEM, "slug": "other", "visibility": "organisations"}),
        422,
        "organisations",
    )
    assert_problem(client.call("PATCH", f"/catalog/items/{pk}", {"is_active": False}), 428, "If-Match")
    off = client.call("PATCH", f"/catalog/items/{pk}", {"is_active": False}, **{"If-Match": made["ETag"]})
    assert off.status_code == 200, off.content
    assert off.json()["is_active"] is False and off.json()["name_en"] == "Laptop" and off.json()["category"]
    assert off["ETag"] != made["ETag"]
    assert_problem(client.call("PATCH", f"/catalog/items/{pk}", {"name_en": "Old"}, **{"If-Match": made["ETag"]}), 412)
    assert CatalogItem.objects.get(pk=pk).name_en == "Laptop"
    # requesters no longer see it; the administrators' list still has it
    assert client_for(requester).get(f"{API}/catalog/items/{pk}").status_code == 404
    assert pk not in [i["id"] for i in client_for(requester).get(f"{API}/catalog/items").json()["items"]]
    assert pk in [i["id"] for i in client.get(f"{API}/catalog/items?include_inactive=true").json()["items"]]


def test_categories_are_managed_and_one_holding_items_is_kept(client_for, admin_user, item):
    client = client_for(admin_user)
    made = client.call("POST", "/catalog/categories", {"name_fr": "Logiciels", "name_en": "Software", "order": 2})
    assert made.status_code == 201, made.content
    pk = made.json()["id"]
    assert pk in [c["id"] for c in client.get(f"{API}/catalog/categories").json()]  # empty, listed for admins
    renamed = client.call("PATCH", f"/catalog/categories/{pk}", {"name_en": "Apps"}, **{"If-Match": made["ETag"]})
    assert (
        renamed.status_code == 200 and renamed.json()["name_en"] == "Apps" and renamed.json()["name_fr"] == "Logiciels"
    )
    item.category_id = pk
    item.save()
    body = assert_problem(client.call("DELETE", f"/catalog/categories/{pk}"), 409)
    assert body["detail"] == "1 item is in this category: move it to another category first."
    assert CatalogCategory.objects.filter(pk=pk).exists()
    item.category = None
    item.save()
    assert client.call("DELETE", f"/catalog/categories/{pk}").status_code == 204
    assert not CatalogCategory.objects.filter(pk=pk).exists()


def test_fields_with_conditions_are_checked_like_the_page(client_for, admin_user, item):
    client = client_for(admin_user)
    kind = _field(
        client,
        item,
        key="type",
        kind="choice",
        choices=[{"value": "laptop", "fr": "Portable", "en": "Laptop"}, {"value": "desktop"}],
    )
    assert kind.status_code == 201, kind.content
    assert kind.json()["choices"][1] == {
        "value": "desktop",
        "label": "desktop",
        "label_fr": "desktop",
        "label_en": "desktop",
    }
    assert_problem(_field(client, item, key="bad", kind="choice"), 422, "choices")
    assert_problem(_field(client, item, key="n", kind="number", min_value=5, max_value=1), 422, "max_value")
    # a condition on a field that comes later (or does not exist) is refused, nothing added
    assert_problem(
        _field(client, item, key="dock", conditions={"show": {"field": "later", "op": "equals", "value": "x"}}),
        422,
    )
    assert list(item.fields.values_list("key", flat=True)) == ["type"]
    dock = _field(
        client,
        item,
        key="dock",
        kind="checkbox",
        conditions={"show": {"field": "type", "op": "one_of", "value": ["laptop"]}},
    )
    assert dock.status_code == 201, dock.content
    assert dock.json()["conditions"] == {"show": {"field": "type", "op": "one_of", "value": ["laptop"]}}
    assert dock.json()["order"] == 2
    dock_id, type_id = dock.json()["id"], kind.json()["id"]
    # moving the dependent field before the one it depends on is refused
    tag = dock["ETag"]
    assert_problem(client.call("PATCH", f"/catalog/fields/{dock_id}", {"position": 1}, **{"If-Match": tag}), 422)
    assert list(item.fields.order_by("order").values_list("key", flat=True)) == ["type", "dock"]
    # removing a field others depend on is refused
    body = assert_problem(client.call("DELETE", f"/catalog/fields/{type_id}"), 422)
    assert body["errors"]["__all__"] == ["The conditions of dock depend on this field: change them first."]
    assert item.fields.count() == 2
    # the requester's form shows the condition
    shown = client.get(f"{API}/catalog/items/{item.pk}").json()["fields"]
    assert [f["key"] for f in shown] == ["type", "dock"] and shown[1]["conditions"]["show"]["field"] == "type"
    # a change keeps what is not sent; clearing the conditions frees the first field
    cleared = client.call(
        "PATCH", f"/catalog/fields/{dock_id}", {"conditions": {}, "label_en": "Dock?"}, **{"If-Match": tag}
    )
    assert cleared.status_code == 200, cleared.content
    assert (
        cleared.json()["conditions"] == {}
        and cleared.json()["kind"] == "checkbox"
        and cleared.json()["label_fr"] == "dock"
    )
    moved = client.call("PATCH", f"/catalog/fields/{dock_id}", {"position": 1}, **{"If-Match": cleared["ETag"]})
    assert moved.status_code == 200 and moved.json()["order"] == 1
    assert list(item.fields.order_by("order").values_list("key", flat=True)) == ["dock", "type"]
    assert client.call("DELETE", f"/catalog/fields/{type_id}").status_code == 204
    assert list(item.fields.values_list("key", flat=True)) == ["dock"]


def test_stages_and_tasks_with_parallel_stages_and_reminders(client_for, admin_user, item, agent, triage):
    client = client_for(admin_user)
    first = client.call("POST", f"/catalog/items/{item.pk}/stages", {"kind": "manager"}, **{"Idempotency-Key": "s1"})
    assert first.status_code == 201, first.content
    assert (
        client.call(
            "POST", f"/catalog/items/{item.pk}/stages", {"kind": "manager"}, **{"Idempotency-Key": "s1"}
        ).status_code
        == 200
    )
    assert_problem(client.call("POST", f"/catalog/items/{item.pk}/stages", {"kind": "people"}), 422, "people")
    assert_problem(
        client.call("POST", f"/catalog/items/{item.pk}/stages", {"kind": "people", "people": ["nobody@x.test"]}),
        422,
        "people",
    )
    assert_problem(client.call("POST", f"/catalog/items/{item.pk}/stages", {"kind": "group"}), 422, "group")
    second = client.call(
        "POST",
        f"/catalog/items/{item.pk}/stages",
        {"kind": "people", "people": [agent.email], "rule": "all", "with_previous": True},
    )
    assert second.status_code == 201, second.content
    assert second.json()["people"] == [agent.email] and second.json()["with_previous"] is True
    assert item.stages.count() == 2
    to_group = client.call(
        "PATCH",
        f"/catalog/stages/{second.json()['id']}",
        {"kind": "group", "group": triage.pk},
        **{"If-Match": second["ETag"]},
    )
    assert to_group.status_code == 200, to_group.content
    assert (
        to_group.json()["group"] == triage.pk and to_group.json()["people"] == [] and to_group.json()["rule"] == "all"
    )
    task = client.call(
        "POST", f"/catalog/items/{item.pk}/tasks", {"subject_fr": "Livrer", "subject_en": "Deliver", "group": triage.pk}
    )
    assert task.status_code == 201, task.content
    assert_problem(
        client.call("POST", f"/catalog/items/{item.pk}/tasks", {"subject_fr": "", "subject_en": "x"}), 422, "subject_fr"
    )
    read = client.get(f"{API}/catalog/items/{item.pk}").json()
    assert [s["kind"] for s in read["stages"]] == ["manager", "group"] and read["needs_approval"] is True
    assert read["tasks"][0]["subject_en"] == "Deliver"
    assert client.call("DELETE", f"/catalog/tasks/{task.json()['id']}").status_code == 204
    assert client.call("DELETE", f"/catalog/stages/{first.json()['id']}").status_code == 204
    assert list(item.stages.values_list("kind", flat=True)) == ["group"] and not item.task_templates.exists()


def test_an_unknown_group_or_item_changes_nothing(client_for, admin_user, item):
    client = client_for(admin_user)
    assert_problem(client.call("POST", "/catalog/items", {**ITEM, "target_group": 999_999}), 422, "target_group")
    assert (
        client.call(
            "POST", "/catalog/items/999999/fields", {"key": "a", "kind": "short_text", "label_fr": "a", "label_en": "a"}
        ).status_code
        == 404
    )
    assert_problem(client.call("POST", "/catalog/items", {**ITEM, "extra": 1}), 422, "extra")
    assert not CatalogItem.objects.filter(slug="laptop").exists() and not item.fields.exists()


def test_an_error_in_french(client_for, admin_user, item):
    admin_user.language = "fr"
    admin_user.save()
    client = client_for(admin_user)
    ItemField.objects.create(item=item, key="type", kind="short_text", label_fr="t", label_en="t", order=1)
    ItemField.objects.create(
        item=item, key="more", kind="short_text", label_fr="m", label_en="m", order=2,
        conditions={"show": {"field": "type", "op": "not_empty"}},
    )  # fmt: skip
    body = assert_problem(client.call("DELETE", f"/catalog/fields/{item.fields.get(key='type').pk}"), 422)
    assert body["detail"] == "Certains champs ne sont pas valides."
    assert "more" in body["errors"]["__all__"][0]  # the lead translates the new texts after the merge
    assert item.fields.count() == 2


def test_reads_have_a_bounded_number_of_queries(client_for, admin_user, item, agent, django_assert_max_num_queries):
    client = client_for(admin_user)
    group = people.create_group(name="Desk", level=1)
    for n in range(5):
        ItemField.objects.create(item=item, key=f"f{n}", kind="short_text", label_fr="f", label_en="f", order=n)
        stage = ApprovalStage.objects.create(item=item, kind="people", order=n)
        stage.people.add(agent)
        TaskTemplate.objects.create(item=item, subject_fr="t", subject_en="t", group=group, order=n)
        CatalogItem.objects.create(slug=f"i{n}", name_fr="i", name_en="i", is_active=n % 2 == 0)
        CatalogCategory.objects.create(name_fr=f"c{n}", name_en=f"c{n}")
    with django_assert_max_num_queries(12):
        assert len(client.get(f"{API}/catalog/items/{item.pk}").json()["fields"]) == 5
    items, categories = CatalogItem.objects.count(), CatalogCategory.objects.count()
    with django_assert_max_num_queries(8):
        assert len(client.get(f"{API}/catalog/items?include_inactive=true&limit=100").json()["items"]) == items
    with django_assert_max_num_queries(8):
        assert len(client.get(f"{API}/catalog/categories").json()) == categories
    spec = item.fields.first()
    with django_assert_max_num_queries(8):
        assert client.get(f"{API}/catalog/fields/{spec.pk}").status_code == 200


def test_a_key_used_twice_in_an_item_is_refused(client_for, admin_user, item):
    client = client_for(admin_user)
    assert _field(client, item, key="model").status_code == 201
    assert_problem(_field(client, item, key="model"), 422, "key")
    assert item.fields.count() == 1


def test_ids_out_of_range_are_refused_not_crashed(client_for, admin_user, item):
    client = client_for(admin_user)
    huge = 2**70
    assert_problem(client.call("POST", "/catalog/items", {**ITEM, "category": huge}), 422, "category")
    assert_problem(client.call("POST", "/catalog/items", {**ITEM, "groups": [huge]}), 422, "groups.0")
    assert_problem(
        client.call("POST", f"/catalog/items/{item.pk}/tasks", {"subject_fr": "a", "subject_en": "a", "group": huge}),
        422,
        "group",
    )
    assert not CatalogItem.objects.filter(slug="laptop").exists() and not item.task_templates.exists()
