"""Rule matching without the database: the core that routing rules and automation rules share.

A rule is compiled once into tests over an app's frozen *facts* (what it reads from a ticket or
an event) and evaluated as plain Python. This module knows the operators, how a condition row
``{"field": ..., "op": ..., "value": ...}`` is validated, how rows compile into tests, and how
a :class:`Matcher` evaluates them. Each app keeps its own vocabulary: the field names and labels,
how a value of each kind is cleaned, and how each fact is read from its facts.

Text facts and the needles compared with them arrive normalised (lower case, accents removed) by
the app, so ``imprim`` finds "Imprimante".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

F = TypeVar("F")

Test = Callable[[F], bool]
Reader = Callable[[F], Any]
# field -> (label, operators, value kind)
Vocabulary = Mapping[str, tuple[Any, tuple[str, ...], str]]

OPERATORS: dict[str, Any] = {
    "is": gettext_lazy("is"),
    "is_not": gettext_lazy("is not"),
    "lte": gettext_lazy("at most"),
    "gte": gettext_lazy("at least"),
    "under": gettext_lazy("is or is under"),
    "not_under": gettext_lazy("is not and is not under"),
    "set": gettext_lazy("is set"),
    "unset": gettext_lazy("is empty"),
    "has": gettext_lazy("includes"),
    "lacks": gettext_lazy("does not include"),
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "reaches": gettext_lazy("reaches"),
}
# operators that take no value
NO_VALUE = frozenset({"set", "unset"})
MAX_TEXT = 200


# --- validation -----------------------------------------------------------------------------------------


def clean_choice(value: Any, choices: Collection[str]) -> Any:
    if value not in choices:
        raise ValueError(_("Choose a value from the list."))
    return value


def clean_number(value: Any, *, within: tuple[int, int, str] | None = None) -> int:
    """A whole number, not negative; ``within`` is (lowest, highest, the sentence when outside)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(_("Enter a whole number.")) from None
    if within is not None and not within[0] <= number <= within[1]:
        raise ValueError(within[2])
    if number < 0:
        raise ValueError(_("Enter a positive number."))
    return number


def clean_text(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValueError(_("Enter the text to look for."))
    if len(text) > MAX_TEXT:
        raise ValueError(_("At most %(n)d characters.") % {"n": MAX_TEXT})
    return text


def clean_row(row: Mapping[str, Any], *, fields: Vocabulary, clean_value: Callable[[str, Any], Any]) -> dict[str, Any]:
    """A validated condition row, or ``ValueError`` with a sentence for the form. ``clean_value``
    gets the field's value kind and the value, for operators that take one."""
    name = row.get("field")
    if name not in fields:
        raise ValueError(_("Choose a field."))
    _label, operators, kind = fields[str(name)]
    op = row.get("op")
    if op not in operators:
        raise ValueError(_("This comparison does not apply to this field."))
    value = None if op in NO_VALUE else clean_value(kind, row.get("value"))
    return {"field": name, "op": op, "value": value}


def clean_conditions(
    conditions: Any, *, clean_row: Callable[[Mapping[str, Any]], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """``{"all": [...], "any": [...]}`` with every row validated, or ``ValidationError`` on
    ``conditions`` naming the first row refused."""
    if not isinstance(conditions, Mapping):
        conditions = {}
    cleaned: dict[str, list[dict[str, Any]]] = {"all": [], "any": []}
    for part in ("all", "any"):
        for index, row in enumerate(conditions.get(part) or []):
            try:
                cleaned[part].append(clean_row(row if isinstance(row, Mapping) else {}))
            except ValueError as exc:
                message = _("Condition %(n)d: %(error)s") % {"n": index + 1, "error": exc}
                raise ValidationError({"conditions": message}) from None
    return cleaned


def references(conditions: Mapping[str, Any], *, fields: Vocabulary, kinds: Collection[str]) -> list[tuple[str, int]]:
    """(value kind, id) of every row whose field's kind is one of ``kinds`` (rows naming rows)."""
    found: list[tuple[str, int]] = []
    for part in ("all", "any"):
        for row in conditions.get(part) or []:
            kind = fields.get(row.get("field"), ("", (), ""))[2]
            if kind in kinds and row.get("value") is not None:
                found.append((kind, int(row["value"])))
    return found


# --- words ----------------------------------------------------------------------------------------------


def words_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    """A pattern finding any of ``words`` at the start of a word (``imprim`` in "imprimante")."""
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + ")")


# --- compiled tests -------------------------------------------------------------------------------------


def compare(op: str, actual: Any, value: Any) -> bool:
    """A scalar comparison; ``lte`` and ``gte`` never hold for a missing fact."""
    if op == "set":
        return actual is not None
    if op == "unset":
        return actual is None
    if op == "is":
        return bool(actual == value)
    if op == "is_not":
        return bool(actual != value)
    if actual is None:
        return False
    if op == "lte":
        return bool(actual <= value)
    if op == "gte":
        return bool(actual >= value)
    return False


def condition(op: str, value: Any, read: Reader[F]) -> Test[F]:
    """The test of one condition: ``read`` takes the compared fact from the facts.

    ``contains``/``not_contains`` look for a (normalised) needle in a text; ``has``/``lacks`` for a
    tag in a set; ``under``/``not_under`` for an id in a set of ids (a missing set is empty);
    ``words`` searches a text with a :func:`words_pattern`; ``reaches`` holds when a count read as
    a (before, now) pair crossed the value (9 → 10 reaches 10, 10 → 11 does not); the others
    :func:`compare`."""
    if op in ("contains", "not_contains"):
        needle, negate = str(value), op == "not_contains"
        return lambda f: (needle in read(f)) != negate
    if op in ("has", "lacks"):
        tag, negate = str(value).strip().lower(), op == "lacks"
        return lambda f: (tag in read(f)) != negate
    if op in ("under", "not_under"):
        wanted, negate = int(value) if value is not None else 0, op == "not_under"
        return lambda f: (wanted in (read(f) or ())) != negate
    if op == "reaches":
        # the fact is a (before, now) pair of counts: it went from below the value to at least it
        threshold = int(value)
        return lambda f: _reaches(read(f), threshold)
    if op == "words":
        pattern: re.Pattern[str] = value
        return lambda f: pattern.search(read(f)) is not None
    return lambda f: compare(op, read(f), value)


def _reaches(pair: Any, threshold: int) -> bool:
    if not isinstance(pair, tuple) or len(pair) != 2 or pair[0] is None or pair[1] is None:
        return False
    before, now = pair
    return bool(before < threshold <= now)


@dataclass(frozen=True)
class Matcher(Generic[F]):
    """Every ``all`` test holds, and at least one ``any`` test when there are any."""

    all: tuple[Test[F], ...]
    any: tuple[Test[F], ...] = ()
    needs: frozenset[str] = frozenset()  # what the app must load into the facts (its own words)

    def __call__(self, facts: F) -> bool:
        if not all(test(facts) for test in self.all):
            return False
        return not self.any or any(test(facts) for test in self.any)


def compile_conditions(
    conditions: Mapping[str, Any], *, compile_row: Callable[[Mapping[str, Any]], Test[F]], needs: Collection[str] = ()
) -> Matcher[F]:
    """Validated ``{"all": [...], "any": [...]}`` rows as a :class:`Matcher`."""
    return Matcher(
        all=tuple(compile_row(row) for row in conditions.get("all") or []),
        any=tuple(compile_row(row) for row in conditions.get("any") or []),
        needs=frozenset(needs),
    )
