"""The item page of a catalog item with conditions: the rules in the page for its script, and the
server deciding on what the browser sends (hidden answers dropped, filtered options refused)."""

from __future__ import annotations

import json
import re
from typing import Any

from django.test import Client
from django.urls import reverse

from palier.catalog.models import Submission
from palier.catalog.tests.builders import make_item
from palier.people.models import User
from palier.tickets.models import Ticket

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
TYPES = [{"value": "laptop", "fr": "Portable", "en": "Laptop"}, {"value": "desktop", "fr": "Fixe", "en": "Desktop"}]
MODELS = [{"value": "x1", "fr": "X1", "en": "X1"}, {"value": "tower", "fr": "Tour", "en": "Tower"}]
SHOW = {"field": "type", "op": "equals", "value": "laptop"}
FILTER = {"field": "type", "map": {"laptop": ["x1"], "desktop": ["tower"]}}


def _item() -> Any:
    return make_item(
        name="New computer",
        fields=[
            {"key": "type", "kind": "choice", "required": True, "choices": TYPES},
            {
                "key": "model",
                "kind": "choice",
                "required": True,
                "choices": MODELS,
                "conditions": {"show": SHOW, "filter": FILTER},
            },
            {
                "key": "office",
                "kind": "short_text",
                "conditions": {"require": {"field": "type", "op": "equals", "value": "desktop"}},
            },
        ],
    )


def test_the_page_carries_the_rules_and_its_script(
    client: Client, requester: User, django_assert_max_num_queries: Any
) -> None:
    item = _item()
    client.force_login(requester)
    with django_assert_max_num_queries(8):
        html = client.get(reverse("catalog:item", args=[item.pk]), **EN).content.decode()
    rules = json.loads(re.search(r'<script id="catalog-rules" type="application/json">(.*?)</script>', html).group(1))  # type: ignore[union-attr]
    assert [r["key"] for r in rules] == ["model", "office"]
    assert rules[0]["show"] == SHOW and rules[0]["filter"] == FILTER
    assert "palier/catalog-form" in html
    # without the script every field shows; the conditional one keeps its asterisk
    assert 'data-catalog-field="f_model"' in html and 'data-catalog-field="f_office"' in html
    assert re.search(r'for="id_f_model">Model <span aria-hidden="true">\*</span>', html)


def test_a_plain_item_has_no_rules_nor_script(client: Client, requester: User) -> None:
    item = make_item()
    client.force_login(requester)
    html = client.get(reverse("catalog:item", args=[item.pk]), **EN).content.decode()
    assert "catalog-rules" not in html and "catalog-form.js" not in html


def test_an_answer_to_a_hidden_field_is_dropped(client: Client, requester: User) -> None:
    item = _item()
    client.force_login(requester)
    response = client.post(
        reverse("catalog:item", args=[item.pk]), {"f_type": "desktop", "f_model": "x1", "f_office": "B-12"}, **EN
    )
    assert response.status_code == 302
    answers = Submission.objects.get().answers
    assert [(a["key"], a["value"]) for a in answers] == [("type", "desktop"), ("office", "B-12")]


def test_refusals_are_shown_beside_each_field_and_nothing_is_stored(client: Client, requester: User) -> None:
    item = _item()
    client.force_login(requester)
    url = reverse("catalog:item", args=[item.pk])
    response = client.post(url, {"f_type": "laptop", "f_model": "tower"}, **EN)
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(
        r'id="id_f_model_error">\s*<p class="mb-0">This option is not offered with your other answers.', html
    )
    response = client.post(url, {"f_type": "desktop"}, **EN)  # the office is required with a desktop
    assert response.status_code == 400
    assert re.search(r'id="id_f_office_error">\s*<p class="mb-0">This field is required.', response.content.decode())
    assert not Ticket.objects.exists()


def test_the_request_page_shows_parallel_stages_and_the_deputy(client: Client, requester: User) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from palier.catalog import services
    from palier.catalog.tests.builders import submit
    from palier.people import services as people

    fin = people.create_user(email="fin@acme.test", full_name="Fanny Finance")
    sec = people.create_user(email="sec@acme.test", full_name="Sam Security")
    dep = people.create_user(email="dep@acme.test", full_name="Dan Deputy")
    today = timezone.localdate()
    services.set_delegation(user=sec, deputy=dep, starts_on=today, ends_on=today + timedelta(days=1))
    item = make_item(
        stages=[{"kind": "people", "people": [fin]}, {"kind": "people", "people": [sec], "with_previous": True}]
    )
    ticket = submit(item, requester)
    client.force_login(requester)
    html = client.get(reverse("portal:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert "(at the same time as the previous stage)" in html
    assert "Dan Deputy for Sam Security" in html
