"""Conditions on an item's fields: a field shows only when, or is required only when, an earlier
field's answer matches; a choice field's options may be filtered by an earlier choice's answer.

The one rule source of every submission path: ``apply`` (the portal's form, the API through the
same form, ``services.submit_request`` for any other caller) and ``check_item`` (the admin's save,
move and removal). ``describe`` gives the browser the same rules as JSON
(``palier/static/palier/catalog-form.js``), which only hides and filters what the server decides
anyway. No database access: it reads ``ItemField`` objects and answers.

A field's ``conditions``::

    {"show":    {"field": "type", "op": "equals", "value": "laptop"},
     "require": {"field": "type", "op": "one_of", "value": ["laptop", "tablet"]},
     "filter":  {"field": "type", "map": {"laptop": ["x1", "mac"], "desktop": ["tower"]}}}

Operators: ``equals`` / ``one_of`` (an earlier single choice, multiple choice — any ticked — or
short text), ``not_empty`` (any kind but a checkbox), ``true`` / ``false`` (a checkbox). A hidden
field's answer is dropped, and a dropped answer counts as empty for the fields after it. A
filtered field offers the options its map lists for the earlier answer; without an answer, or an
answer the map does not list, it offers none (a required one then cannot be answered, so the
admin lists every option of the earlier field)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from palier.catalog.models import ItemField

K = ItemField.Kind
OPS = ("equals", "one_of", "not_empty", "true", "false")
VALUE_OPS = ("equals", "one_of")
VALUE_KINDS = (K.CHOICE, K.MULTIPLE, K.SHORT_TEXT)
CHOICE_KINDS = (K.CHOICE, K.MULTIPLE)
RULES = ("show", "require")


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {} or value is False


def matches(rule: Mapping[str, Any], value: Any) -> bool:
    """Does an answer (stored form: text, list of values, bool, …) satisfy ``rule``?"""
    op = rule.get("op")
    if op == "true":
        return value is True
    if op == "false":
        return value is not True
    if op == "not_empty":
        return not is_empty(value)
    wanted = rule.get("value")
    accepted = {str(v) for v in wanted} if isinstance(wanted, list) else {str(wanted)}
    given = value if isinstance(value, list) else ([] if is_empty(value) else [value])
    return any(str(v) in accepted for v in given)


@dataclass
class Outcome:
    """What the rules decide for one set of answers."""

    answers: dict[str, Any]  # the answers kept: hidden fields' answers dropped
    hidden: set[str] = field(default_factory=set)
    required: set[str] = field(default_factory=set)  # shown and required
    offered: dict[str, list[str]] = field(default_factory=dict)  # filtered fields: the options offered
    errors: dict[str, str] = field(default_factory=dict)


def is_required(spec: ItemField, answers: Mapping[str, Any]) -> bool:
    rule: dict[str, Any] | None = (spec.conditions or {}).get("require")
    if spec.required:
        return True
    if not rule:
        return False
    return matches(rule, answers.get(rule["field"]))


def apply(specs: Sequence[ItemField], answers: Mapping[str, Any]) -> Outcome:
    """Evaluate the conditions over ``answers`` (key -> value, stored form), in field order: drop
    the hidden fields' answers, and name each missing required answer and each option the filter
    does not offer (``errors``: key -> message)."""
    outcome = Outcome(answers={})
    for spec in specs:
        rules = spec.conditions or {}
        show = rules.get("show")
        value = answers.get(spec.key)
        if show and not matches(show, outcome.answers.get(show["field"])):
            outcome.hidden.add(spec.key)
            continue
        if is_required(spec, outcome.answers):
            outcome.required.add(spec.key)
            if is_empty(value):
                outcome.errors[spec.key] = (
                    _("Tick this box to go on.") if spec.kind == K.CHECKBOX else _("This field is required.")
                )
        flt = rules.get("filter")
        if flt:
            source = outcome.answers.get(flt["field"])
            offered = [str(v) for v in (flt.get("map") or {}).get(str(source), [])] if not is_empty(source) else []
            outcome.offered[spec.key] = offered
            chosen = value if isinstance(value, list) else ([] if is_empty(value) else [value])
            if any(str(v) not in offered for v in chosen):
                outcome.errors[spec.key] = _("This option is not offered with your other answers.")
        outcome.answers[spec.key] = value
    return outcome


def _option_values(spec: ItemField) -> set[str]:
    return {str(c.get("value", "")) for c in spec.choices or []}


def _check_rule(rule: Any, spec: ItemField, earlier: Mapping[str, ItemField], everything: set[str]) -> list[str]:
    if not isinstance(rule, dict) or not isinstance(rule.get("field"), str):
        return [_("A condition names the field it depends on.")]
    key = rule["field"]
    if key == spec.key:
        return [_("A field cannot depend on itself.")]
    if key not in earlier:
        if key in everything:
            return [_("“%(key)s” must come before this field: move it up first.") % {"key": key}]
        return [_("There is no field “%(key)s”.") % {"key": key}]
    source, op = earlier[key], rule.get("op")
    if op not in OPS:
        return [_("Unknown condition.")]
    if (source.kind == K.CHECKBOX) != (op in ("true", "false")):
        return [_("A checkbox is tested as ticked or not ticked; other fields by their answer.")]
    if op not in VALUE_OPS:
        return []
    if source.kind not in VALUE_KINDS:
        return [_("Compare only the answer of a choice or a short text; else test it is not empty.")]
    values = rule.get("value")
    values = values if isinstance(values, list) else [values]
    if not values or any(not isinstance(v, str) or not v for v in values) or (op == "equals" and len(values) != 1):
        return [_("Give the answer to compare with.")]
    if source.kind in CHOICE_KINDS:
        unknown = sorted(set(values) - _option_values(source))
        if unknown:
            return [_("“%(key)s” has no option %(values)s.") % {"key": key, "values": ", ".join(unknown)}]
    return []


def _check_filter(rule: Any, spec: ItemField, earlier: Mapping[str, ItemField], everything: set[str]) -> list[str]:
    if spec.kind not in CHOICE_KINDS:
        return [_("Only a choice field's options can be filtered.")]
    errors = _check_rule(
        {"field": rule.get("field") if isinstance(rule, dict) else None, "op": "not_empty"}, spec, earlier, everything
    )
    if errors:
        return errors
    source = earlier[rule["field"]]
    if source.kind != K.CHOICE:
        return [_("Options are filtered by the answer of an earlier single choice.")]
    mapping = rule.get("map")
    if not isinstance(mapping, dict) or not mapping:
        return [_("Say which options go with each answer.")]
    unknown_keys = sorted(set(map(str, mapping)) - _option_values(source))
    if unknown_keys:
        return [_("“%(key)s” has no option %(values)s.") % {"key": source.key, "values": ", ".join(unknown_keys)}]
    listed = {str(v) for vs in mapping.values() if isinstance(vs, list) for v in vs}
    if any(not isinstance(vs, list) for vs in mapping.values()):
        return [_("Say which options go with each answer.")]
    unknown = sorted(listed - _option_values(spec))
    if unknown:
        return [_("This field has no option %(values)s.") % {"values": ", ".join(unknown)}]
    return []


def check_item(specs: Sequence[ItemField]) -> dict[str, list[str]]:
    """The admin's check of an item's fields, in their order: each condition names an earlier
    field (so no field depends on itself or on a later one, and no cycle can form), an operator
    fitting its type, and options that exist. Returns key -> messages (empty: all good)."""
    everything = {s.key for s in specs}
    earlier: dict[str, ItemField] = {}
    errors: dict[str, list[str]] = {}
    for spec in specs:
        rules = spec.conditions or {}
        found: list[str] = []
        if not isinstance(rules, dict) or set(rules) - {*RULES, "filter"}:
            found.append(_("Unknown condition."))
        else:
            for name in RULES:
                if rules.get(name):
                    found += _check_rule(rules[name], spec, earlier, everything)
            if rules.get("filter"):
                found += _check_filter(rules["filter"], spec, earlier, everything)
        if found:
            errors[spec.key] = found
        earlier[spec.key] = spec
    return errors


def describe(specs: Iterable[ItemField]) -> list[dict[str, Any]]:
    """The rules as JSON for the browser and the API: one entry per field with conditions."""
    return [
        {"key": s.key, "kind": s.kind, "required": s.required, **{k: v for k, v in (s.conditions or {}).items() if v}}
        for s in specs
        if s.conditions
    ]


def depends_on(specs: Iterable[ItemField], key: str) -> list[str]:
    """The keys of the fields whose conditions name ``key``."""
    return [
        s.key
        for s in specs
        if any(isinstance(r, dict) and r.get("field") == key for r in (s.conditions or {}).values())
    ]
