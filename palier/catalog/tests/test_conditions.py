"""Conditions on an item's fields: the one rule function (table-driven), the admin's check of an
item's conditions, the request form and ``submit_request`` applying them."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from palier.catalog import conditions, services
from palier.catalog.forms import RequestForm
from palier.catalog.models import ItemField, Submission
from palier.catalog.permissions import nameable_people
from palier.catalog.tests.builders import make_item
from palier.people.models import User
from palier.tickets.models import Ticket

TYPES = [{"value": "laptop", "fr": "Portable", "en": "Laptop"}, {"value": "desktop", "fr": "Fixe", "en": "Desktop"}]
MODELS = [
    {"value": "x1", "fr": "X1", "en": "X1"},
    {"value": "mac", "fr": "Mac", "en": "Mac"},
    {"value": "tower", "fr": "Tour", "en": "Tower"},
]


def spec(key: str, kind: str = "short_text", *, required: bool = False, choices: Any = None, **rules: Any) -> ItemField:
    return ItemField(key=key, kind=kind, required=required, choices=choices or [], conditions=rules, label_en=key)


LAPTOP_FORM = [
    spec("type", "choice", required=True, choices=TYPES),
    spec(
        "model",
        "choice",
        required=True,
        choices=MODELS,
        show={"field": "type", "op": "equals", "value": "laptop"},
        filter={"field": "type", "map": {"laptop": ["x1", "mac"], "desktop": ["tower"]}},
    ),
    spec("dock", "checkbox", show={"field": "model", "op": "not_empty"}),
    spec("dock_site", require={"field": "dock", "op": "true"}),
    spec("reason", "long_text", show={"field": "type", "op": "one_of", "value": ["desktop"]}),
]


@pytest.mark.parametrize(
    ("answers", "kept", "hidden", "errors"),
    [
        # "laptop model" only with a new laptop; the desktop-only reason is dropped
        ({"type": "laptop", "model": "x1", "reason": "forged"}, {"type", "model", "dock", "dock_site"}, {"reason"}, {}),
        # a desktop: the model is not asked, its forged answer dropped, and so is the dock shown with it
        (
            {"type": "desktop", "model": "x1", "dock": True, "dock_site": "Lyon"},
            {"type", "reason", "dock_site"},
            {"model", "dock"},
            {},
        ),
        # required when shown: the laptop needs its model
        ({"type": "laptop"}, {"type", "model", "dock_site"}, {"reason", "dock"}, {"model": "This field is required."}),
        # a filtered-out option is refused
        (
            {"type": "laptop", "model": "tower"},
            {"type", "model", "dock", "dock_site"},
            {"reason"},
            {"model": "This option is not offered with your other answers."},
        ),
        # required only when the box is ticked
        (
            {"type": "laptop", "model": "mac", "dock": True},
            {"type", "model", "dock", "dock_site"},
            {"reason"},
            {"dock_site": "This field is required."},
        ),
        ({"type": "laptop", "model": "mac", "dock": False}, {"type", "model", "dock", "dock_site"}, {"reason"}, {}),
        # nothing chosen: only the static rules
        ({}, {"type", "dock_site"}, {"model", "dock", "reason"}, {"type": "This field is required."}),
    ],
)
def test_the_rule_function(answers: dict[str, Any], kept: set[str], hidden: set[str], errors: dict[str, str]) -> None:
    outcome = conditions.apply(LAPTOP_FORM, answers)
    assert set(outcome.answers) == kept
    assert outcome.hidden == hidden
    assert outcome.errors == errors


@pytest.mark.parametrize(
    ("rule", "value", "expected"),
    [
        ({"op": "equals", "value": "a"}, "a", True),
        ({"op": "equals", "value": "a"}, "b", False),
        ({"op": "equals", "value": "a"}, None, False),
        ({"op": "one_of", "value": ["a", "b"]}, "b", True),
        ({"op": "one_of", "value": ["a", "b"]}, ["c", "b"], True),  # multiple choice: any ticked
        ({"op": "one_of", "value": ["a", "b"]}, ["c"], False),
        ({"op": "not_empty"}, "x", True),
        ({"op": "not_empty"}, "", False),
        ({"op": "not_empty"}, [], False),
        ({"op": "true"}, True, True),
        ({"op": "true"}, False, False),
        ({"op": "false"}, False, True),
        ({"op": "false"}, None, True),
    ],
)
def test_matches(rule: dict[str, Any], value: Any, expected: bool) -> None:
    assert conditions.matches(rule, value) is expected


@pytest.mark.parametrize(
    ("fields", "key", "message"),
    [
        ([spec("a", show={"field": "a", "op": "not_empty"})], "a", "A field cannot depend on itself."),
        ([spec("a", show={"field": "b", "op": "not_empty"}), spec("b")], "a", "“b” must come before this field"),
        # a cycle: each names the other, so one of them names a later field
        (
            [spec("a", show={"field": "b", "op": "not_empty"}), spec("b", show={"field": "a", "op": "not_empty"})],
            "a",
            "must come before",
        ),
        ([spec("a"), spec("b", show={"field": "zz", "op": "not_empty"})], "b", "There is no field “zz”."),
        (
            [spec("t", "choice", choices=TYPES), spec("b", show={"field": "t", "op": "equals", "value": "tablet"})],
            "b",
            "“t” has no option tablet.",
        ),
        ([spec("c", "checkbox"), spec("b", show={"field": "c", "op": "equals", "value": "x"})], "b", "A checkbox"),
        ([spec("t", "short_text"), spec("b", show={"field": "t", "op": "true"})], "b", "A checkbox"),
        ([spec("n", "number"), spec("b", show={"field": "n", "op": "equals", "value": "3"})], "b", "Compare only"),
        ([spec("t", "choice", choices=TYPES), spec("b", show={"field": "t", "op": "bigger"})], "b", "Unknown"),
        (
            [
                spec("t", "choice", choices=TYPES),
                spec("m", "choice", choices=MODELS, filter={"field": "t", "map": {"tablet": ["x1"]}}),
            ],
            "m",
            "“t” has no option tablet.",
        ),
        (
            [
                spec("t", "choice", choices=TYPES),
                spec("m", "choice", choices=MODELS, filter={"field": "t", "map": {"laptop": ["ipad"]}}),
            ],
            "m",
            "This field has no option ipad.",
        ),
        (
            [
                spec("t", "choice", choices=TYPES),
                spec("m", "short_text", filter={"field": "t", "map": {"laptop": ["x1"]}}),
            ],
            "m",
            "Only a choice field",
        ),
    ],
)
def test_check_item_refuses_bad_conditions(fields: list[ItemField], key: str, message: str) -> None:
    errors = conditions.check_item(fields)
    assert key in errors and message in " ".join(errors[key])


def test_check_item_accepts_the_laptop_form() -> None:
    assert conditions.check_item(LAPTOP_FORM) == {}


# --- the form and the service ------------------------------------------------------------------------


def _laptop_item() -> Any:
    return make_item(
        name="New computer",
        fields=[
            {"key": "type", "kind": "choice", "required": True, "choices": TYPES},
            {
                "key": "model",
                "kind": "choice",
                "required": True,
                "choices": MODELS,
                "conditions": {
                    "show": {"field": "type", "op": "equals", "value": "laptop"},
                    "filter": {"field": "type", "map": {"laptop": ["x1", "mac"], "desktop": ["tower"]}},
                },
            },
            {
                "key": "room",
                "kind": "short_text",
                "conditions": {"show": {"field": "type", "op": "equals", "value": "desktop"}},
            },
        ],
    )


def _form(item: Any, user: User, data: dict[str, Any]) -> RequestForm:
    return RequestForm(data, {}, specs=list(item.fields.order_by("order")), people=nameable_people(user))


def test_form_drops_the_hidden_answers_and_stores_only_what_was_asked(requester: User) -> None:
    item = _laptop_item()
    form = _form(item, requester, {"f_type": "laptop", "f_model": "mac", "f_room": "B-12 (forged)"})
    assert form.is_valid(), form.errors
    ticket = services.submit_request(item=item, requester=requester, answers=form.answers())
    answers = Submission.objects.get(ticket=ticket).answers
    assert [a["key"] for a in answers] == ["type", "model"]
    assert "B-12" not in Ticket.objects.get(pk=ticket.pk).description


def test_form_refuses_a_filtered_out_option_and_a_missing_answer_beside_each_field(requester: User) -> None:
    item = _laptop_item()
    form = _form(item, requester, {"f_type": "laptop", "f_model": "tower"})
    assert not form.is_valid()
    assert form.errors == {"f_model": ["This option is not offered with your other answers."]}
    form = _form(item, requester, {"f_type": "laptop"})
    assert form.errors == {"f_model": ["This field is required."]}
    # hidden, a wrong answer counts for nothing: a desktop needs no model
    form = _form(item, requester, {"f_type": "desktop", "f_model": "no-such-model"})
    assert form.is_valid(), form.errors
    assert [a["key"] for a in form.answers()] == ["type", "room"]


def test_submit_request_applies_the_conditions_for_any_caller(requester: User) -> None:
    item = _laptop_item()
    rows = [
        {"key": "type", "kind": "choice", "label_fr": "", "label_en": "", "value": "laptop", "text": "Laptop"},
        {"key": "model", "kind": "choice", "label_fr": "", "label_en": "", "value": "tower", "text": "Tower"},
    ]
    with pytest.raises(ValidationError) as caught:
        services.submit_request(item=item, requester=requester, answers=rows)
    assert "not offered" in str(caught.value)
    assert not Ticket.objects.exists()
    rows[0]["value"] = "desktop"  # the model is not asked: dropped
    ticket = services.submit_request(item=item, requester=requester, answers=rows)
    assert [a["key"] for a in Submission.objects.get(ticket=ticket).answers] == ["type"]
