"""The catalog API with field conditions: the item's form describes them, and a submission goes
through the same rules as the portal (forged answers to fields not asked are dropped, a filtered
option or a missing required-when-shown answer is named per field and nothing is created)."""

from __future__ import annotations

from typing import Any

import pytest

from palier.api.tests.conftest import assert_problem
from palier.catalog.models import CatalogItem, Submission
from palier.catalog.tests.builders import make_item
from palier.tickets.models import Ticket

pytestmark = pytest.mark.django_db
TYPES = [{"value": "laptop", "fr": "Portable", "en": "Laptop"}, {"value": "desktop", "fr": "Fixe", "en": "Desktop"}]
MODELS = [{"value": "x1", "fr": "X1", "en": "X1"}, {"value": "tower", "fr": "Tour", "en": "Tower"}]
MODEL_RULES = {
    "show": {"field": "type", "op": "equals", "value": "laptop"},
    "filter": {"field": "type", "map": {"laptop": ["x1"], "desktop": ["tower"]}},
}
BADGE_RULES = {"require": {"field": "onsite", "op": "true"}}


@pytest.fixture
def computer() -> CatalogItem:
    return make_item(
        name="New computer",
        fields=[
            {"key": "type", "kind": "choice", "required": True, "choices": TYPES},
            {"key": "model", "kind": "choice", "required": True, "choices": MODELS, "conditions": MODEL_RULES},
            {"key": "onsite", "kind": "checkbox"},
            {"key": "badge", "kind": "short_text", "conditions": BADGE_RULES},
        ],
    )


def post(client: Any, item: CatalogItem, answers: dict[str, Any]) -> Any:
    return client.call("POST", f"/catalog/items/{item.pk}/requests", {"answers": answers})


def test_the_items_form_describes_its_conditions(
    token_client, requester, computer, django_assert_max_num_queries
) -> None:
    client = token_client(requester)
    with django_assert_max_num_queries(8):
        response = client.call("GET", f"/catalog/items/{computer.pk}")
    fields = {f["key"]: f for f in response.json()["fields"]}
    assert fields["model"]["conditions"] == MODEL_RULES
    assert fields["badge"]["conditions"] == BADGE_RULES
    assert fields["type"]["conditions"] == {}


def test_forged_answers_to_fields_not_asked_are_dropped(token_client, requester, computer) -> None:
    response = post(
        token_client(requester), computer, {"type": "desktop", "model": "x1", "onsite": False, "badge": "B7"}
    )
    assert response.status_code == 201, response.content
    answers = Submission.objects.get().answers
    assert [a["key"] for a in answers] == ["type", "onsite", "badge"]  # the model is not asked with a desktop
    assert "X1" not in Ticket.objects.get().description


@pytest.mark.parametrize(
    ("answers", "errors"),
    [
        (
            {"type": "laptop", "model": "tower"},
            {"answers.model": "This option is not offered with your other answers."},
        ),
        ({"type": "laptop"}, {"answers.model": "This field is required."}),
        ({"type": "laptop", "model": "x1", "onsite": True}, {"answers.badge": "This field is required."}),
        ({"type": "desktop", "model": "x1", "onsite": True}, {"answers.badge": "This field is required."}),
    ],
)
def test_refused_answers_are_named_per_field_and_nothing_is_created(
    token_client, requester, computer, answers, errors
) -> None:
    requester.language = "en"
    requester.save(update_fields=["language"])
    body = assert_problem(post(token_client(requester), computer, answers), 422, *errors)
    assert {key: messages[0] for key, messages in body["errors"].items()} == errors
    assert not Ticket.objects.exists() and not Submission.objects.exists()
