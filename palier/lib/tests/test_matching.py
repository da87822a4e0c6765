"""The shared rule-matching core, with a small vocabulary of its own (no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from palier.lib import matching


@dataclass(frozen=True)
class Facts:
    priority: int | None = 3
    group_ids: frozenset[int] = frozenset()
    text: str = ""
    tags: frozenset[str] = field(default_factory=frozenset)


FIELDS: matching.Vocabulary = {
    "priority": ("Priority", ("is", "is_not", "lte", "gte", "set", "unset"), "priority"),
    "group": ("Group", ("under", "not_under"), "number"),
    "text": ("Text", ("contains", "not_contains"), "text"),
    "tags": ("Tags", ("has", "lacks"), "text"),
}
READERS: dict[str, Any] = {
    "priority": lambda f: f.priority,
    "group": lambda f: f.group_ids,
    "text": lambda f: f.text,
    "tags": lambda f: f.tags,
}


def _clean_value(kind: str, value: Any) -> Any:
    if kind == "priority":
        return matching.clean_number(value, within=(1, 4, "Between 1 and 4."))
    if kind == "number":
        return matching.clean_number(value)
    return matching.clean_text(value)


def clean_row(row: Any) -> dict[str, Any]:
    return matching.clean_row(row, fields=FIELDS, clean_value=_clean_value)


def compile_row(row: Any) -> matching.Test[Facts]:
    return matching.condition(row["op"], row["value"], READERS[row["field"]])


@pytest.mark.parametrize(
    ("op", "actual", "value", "expected"),
    [
        ("is", 2, 2, True),
        ("is_not", 2, 2, False),
        ("lte", 2, 3, True),
        ("gte", 2, 3, False),
        ("lte", None, 3, False),
        ("gte", None, 3, False),
        ("set", None, None, False),
        ("unset", None, None, True),
        ("unknown", 1, 1, False),
    ],
)
def test_compare(op, actual, value, expected):
    assert matching.compare(op, actual, value) is expected


def test_rows_are_validated_with_the_vocabulary():
    assert clean_row({"field": "priority", "op": "lte", "value": "2"}) == {"field": "priority", "op": "lte", "value": 2}
    assert clean_row({"field": "priority", "op": "unset", "value": "x"})["value"] is None
    assert clean_row({"field": "text", "op": "contains", "value": "  vpn "})["value"] == "vpn"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"field": "nope", "op": "is"}, "Choose a field."),
        ({"field": "priority", "op": "contains"}, "This comparison does not apply to this field."),
        ({"field": "priority", "op": "is", "value": "high"}, "Enter a whole number."),
        ({"field": "priority", "op": "is", "value": 7}, "Between 1 and 4."),
        ({"field": "group", "op": "under", "value": -1}, "Enter a positive number."),
        ({"field": "text", "op": "contains", "value": " "}, "Enter the text to look for."),
        ({"field": "text", "op": "contains", "value": "x" * 201}, "At most 200 characters."),
    ],
)
def test_a_refused_row_says_why(row, message):
    with pytest.raises(ValueError) as refused:
        clean_row(row)
    assert str(refused.value) == message


def test_a_choice_must_be_in_the_list():
    assert matching.clean_choice("open", ["open", "closed"]) == "open"
    with pytest.raises(ValueError, match="Choose a value from the list"):
        matching.clean_choice("lost", ["open", "closed"])


def test_conditions_name_the_first_refused_row():
    conditions = {"all": [{"field": "priority", "op": "is", "value": 1}], "any": ["junk", {"field": "x"}]}
    with pytest.raises(ValidationError) as refused:
        matching.clean_conditions(conditions, clean_row=clean_row)
    assert refused.value.message_dict == {"conditions": ["Condition 1: Choose a field."]}
    assert matching.clean_conditions(None, clean_row=clean_row) == {"all": [], "any": []}


def test_references_list_the_rows_naming_other_rows():
    conditions = {"all": [{"field": "group", "op": "under", "value": 4}], "any": [{"field": "priority", "value": 2}]}
    assert matching.references(conditions, fields=FIELDS, kinds={"number"}) == [("number", 4)]


def test_a_matcher_needs_every_all_and_one_any():
    conditions = {
        "all": [{"field": "priority", "op": "lte", "value": 2}],
        "any": [{"field": "tags", "op": "has", "value": "VIP"}, {"field": "text", "op": "contains", "value": "vpn"}],
    }
    matcher = matching.compile_conditions(conditions, compile_row=compile_row, needs={"tags"})
    assert matcher.needs == frozenset({"tags"})
    assert matcher(Facts(priority=1, tags=frozenset({"vip"})))
    assert matcher(Facts(priority=2, text="the vpn is down"))
    assert not matcher(Facts(priority=1, text="printer"))
    assert not matcher(Facts(priority=3, tags=frozenset({"vip"})))
    assert matching.compile_conditions({}, compile_row=compile_row)(Facts())


def test_negated_and_set_operators():
    lacks = matching.condition("lacks", "vip", READERS["tags"])
    not_under = matching.condition("not_under", 5, READERS["group"])
    not_contains = matching.condition("not_contains", "vpn", READERS["text"])
    assert lacks(Facts()) and not lacks(Facts(tags=frozenset({"vip"})))
    assert not_under(Facts(group_ids=frozenset({1}))) and not not_under(Facts(group_ids=frozenset({5})))
    assert matching.condition("under", 5, lambda f: None)(Facts()) is False
    assert not_contains(Facts(text="printer")) and not not_contains(Facts(text="vpn"))


def test_words_match_at_the_start_of_a_word():
    pattern = matching.words_pattern(["imprim", "ecran"])
    assert matching.words_pattern([]) is None
    words = matching.condition("words", pattern, READERS["text"])
    assert words(Facts(text="mon imprimante")) and words(Facts(text="deux ecrans"))
    assert not words(Facts(text="reimprimer"))
