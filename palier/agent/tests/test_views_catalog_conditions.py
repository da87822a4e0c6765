"""The admin's item page: a field's conditions edited with the field, checked against the item's
other fields on save, move and removal."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from palier.catalog.models import ItemField
from palier.catalog.tests.builders import make_item
from palier.people.models import User

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
TYPES = [{"value": "laptop", "fr": "Portable", "en": "Laptop"}, {"value": "desktop", "fr": "Fixe", "en": "Desktop"}]


def _field(key: str, **extra: str) -> dict[str, str]:
    data = {"part": "field", "field-key": key, "field-kind": "short_text", "field-label_fr": key, "field-label_en": key}
    return {**data, **{f"field-{k}": v for k, v in extra.items()}}


def test_admin_adds_a_field_shown_and_filtered_by_an_earlier_choice(
    client: Client, admin_user: User, django_assert_max_num_queries: Any
) -> None:
    item = make_item(fields=[{"key": "type", "kind": "choice", "required": True, "choices": TYPES}])
    client.force_login(admin_user)
    url = reverse("catalog:admin-item", args=[item.pk])
    response = client.post(url, _field(
        "model", kind="choice", choices_text="x1 | X1\ntower | Tour", required="on", show_field="type",
        show_op="equals", show_value="laptop", filter_field="type", filter_map="laptop: x1\ndesktop: tower",
    ))  # fmt: skip
    assert response.status_code == 302
    model = ItemField.objects.get(item=item, key="model")
    assert model.conditions == {
        "show": {"field": "type", "op": "equals", "value": "laptop"},
        "filter": {"field": "type", "map": {"laptop": ["x1"], "desktop": ["tower"]}},
    }
    with django_assert_max_num_queries(20) as first:
        html = client.get(url, **EN).content.decode()
    for n in range(5):  # more conditional fields: no more queries
        ItemField.objects.create(
            item=item, key=f"more{n}", kind="short_text", order=10 + n, conditions=model.conditions
        )
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(url, **EN)
    assert "conditional" in html
    edit = client.get(reverse("catalog:admin-part", args=[item.pk, "field", model.pk]), **EN).content.decode()
    assert 'value="laptop"' in edit and "laptop: x1" in edit  # the conditions come back in the form


def test_admin_bad_conditions_are_refused_with_a_message_and_change_nothing(client: Client, admin_user: User) -> None:
    item = make_item(fields=[{"key": "type", "kind": "choice", "choices": TYPES}])
    client.force_login(admin_user)
    url = reverse("catalog:admin-item", args=[item.pk])
    cases = [
        (_field("a", show_field="a", show_op="not_empty"), "A field cannot depend on itself."),
        (_field("a", show_field="later", show_op="not_empty"), "There is no field “later”."),
        (_field("a", show_field="type", show_op="equals", show_value="tablet"), "“type” has no option tablet."),
        (_field("a", show_field="type", show_op="true"), "A checkbox is tested"),
        (_field("a", show_field="type"), "Say what its answer must be."),
        (_field("a", kind="choice", choices_text="x1", filter_field="type", filter_map="laptop: ipad"),
         "This field has no option ipad."),
    ]  # fmt: skip
    for data, message in cases:
        response = client.post(url, data, **EN)
        assert response.status_code == 400, message
        assert message in response.content.decode(), message
    assert list(item.fields.values_list("key", flat=True)) == ["type"]


def test_admin_cannot_move_a_field_above_the_one_it_depends_on_nor_remove_that_one(
    client: Client, admin_user: User
) -> None:
    item = make_item(
        fields=[
            {"key": "type", "kind": "choice", "choices": TYPES},
            {"key": "model", "kind": "short_text", "conditions": {"show": {"field": "type", "op": "not_empty"}}},
        ]
    )
    type_field, model = item.fields.order_by("order")
    client.force_login(admin_user)
    response = client.post(
        reverse("catalog:admin-part-move", args=[item.pk, "field", model.pk, "up"]), follow=True, **EN
    )
    assert "“type” must come before this field" in response.content.decode()
    assert list(item.fields.order_by("order").values_list("key", flat=True)) == ["type", "model"]
    response = client.post(
        reverse("catalog:admin-part-remove", args=[item.pk, "field", type_field.pk]), follow=True, **EN
    )
    assert "The conditions of model depend on this field" in response.content.decode()
    assert item.fields.count() == 2


def test_admin_sets_a_stage_with_the_previous_and_the_reminder_delay(client: Client, admin_user: User) -> None:
    item = make_item()
    client.force_login(admin_user)
    url = reverse("catalog:admin-item", args=[item.pk])
    for n in (1, 2):
        client.post(url, {"part": "stage", "stage-kind": "people", "stage-rule": "any",
                          "stage-people_emails": admin_user.email, **({"stage-with_previous": "on"} if n == 2 else {})})  # fmt: skip
    assert list(item.stages.order_by("order").values_list("with_previous", flat=True)) == [False, True]
    assert "at the same time as the previous stage" in client.get(url, **EN).content.decode()
    data = {
        "part": "item", "item-slug": item.slug, "item-name_fr": "x", "item-name_en": "x", "item-visibility": "everyone",
        "item-impact": "low", "item-urgency": "low", "item-fulfilment": "parallel", "item-order": "1",
        "item-is_active": "on", "item-remind_after_hours": "24",
    }  # fmt: skip
    assert client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert item.remind_after_hours == 24
