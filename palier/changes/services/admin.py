"""The administration of changes (administrators only): standard change templates, the risk
questionnaire and the risk thresholds. Every write is audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from palier.audit import services as audit
from palier.changes import permissions
from palier.changes.models import ChangeSettings, ChangeTemplate, Risk, RiskQuestion
from palier.lib import ordering
from palier.lib.errors import PermissionDenied
from palier.people.models import SupportGroup, User

MAX_NAME = 200
MAX_QUESTION = 300
MAX_PLAN = 20_000
MAX_SCORE = 100
MAX_DURATION = 60 * 24 * 14  # two weeks
TEMPLATE_TEXTS = ("description", "implementation_plan", "backout_plan", "test_plan")


def _admin(by: User | None) -> None:
    if not permissions.can(by, "administer"):
        raise PermissionDenied(_("Only administrators manage the change settings."))


# --- standard change templates --------------------------------------------------------------------


def _clean_template(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name in ("name_fr", "name_en"):
        text = " ".join(str(values.get(name) or "").split())
        if not text:
            errors[name] = _("Give the template its name in both languages.")
        elif len(text) > MAX_NAME:
            errors[name] = _("At most %(n)d characters.") % {"n": MAX_NAME}
        out[name] = text
    for name in TEMPLATE_TEXTS:
        text = str(values.get(name) or "").strip()
        if len(text) > MAX_PLAN:
            errors[name] = _("At most %(n)d characters.") % {"n": MAX_PLAN}
        out[name] = text
    if not out["implementation_plan"]:
        errors["implementation_plan"] = _("A standard change needs its implementation plan.")
    risk = values.get("risk") or Risk.LOW
    if risk not in Risk.values:
        errors["risk"] = _("Choose a risk level.")
    out["risk"] = risk
    group = values.get("group")
    if group is not None and not isinstance(group, SupportGroup):
        errors["group"] = _("Choose a group from the list.")
    out["group"] = group
    try:
        duration = int(values.get("duration_minutes") or 0)
    except (TypeError, ValueError):
        duration = 0
    if not 1 <= duration <= MAX_DURATION:
        errors["duration_minutes"] = _("Between 1 minute and two weeks.")
    out["duration_minutes"] = duration
    out["is_active"] = bool(values.get("is_active", True))
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def create_template(*, by: User | None, **values: Any) -> ChangeTemplate:
    _admin(by)
    template = ChangeTemplate.objects.create(**_clean_template(values))
    audit.record("change_template.created", actor=by, target=template, changes={"name_en": [None, template.name_en]})
    return template


@transaction.atomic
def update_template(template: ChangeTemplate, *, by: User | None, **values: Any) -> ChangeTemplate:
    """Edit a template; switching it off (``is_active`` False) keeps it on the changes raised
    from it but offers it no more. Templates are never deleted."""
    _admin(by)
    clean = _clean_template(values)
    locked = ChangeTemplate.objects.select_for_update().get(pk=template.pk)
    changes: dict[str, list[Any]] = {}
    for name, value in clean.items():
        old = getattr(locked, name)
        if old != value:
            changes[name] = [
                str(old) if name == "group" and old else old,
                str(value) if name == "group" and value else value,
            ]
            setattr(locked, name, value)
    if changes:
        locked.save(update_fields=list(changes))
        audit.record("change_template.changed", actor=by, target=locked, changes=changes)
    return locked


# --- the risk questionnaire -----------------------------------------------------------------------


def parse_choices(text: str) -> list[dict[str, Any]]:
    """Answers written one a line as "value | French | English | score" → the stored list."""
    rows: list[dict[str, Any]] = []
    errors: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 4:
            errors.append(_("Line %(n)d: write “value | French | English | score”.") % {"n": number})
            continue
        value, french, english, score = parts
        rows.append({"value": value, "fr": french, "en": english, "score": score})
    if errors:
        raise ValidationError({"choices": errors})
    return rows


def clean_choices(choices: Any) -> list[dict[str, Any]]:
    """At least two answers, each with a value (unique, no spaces), both labels and a whole score
    from 0 to 100."""
    rows = parse_choices(choices) if isinstance(choices, str) else list(choices or [])
    errors: list[str] = []
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            errors.append(_("Answer %(n)d is not valid.") % {"n": number})
            continue
        value = str(row.get("value") or "").strip()
        french, english = str(row.get("fr") or "").strip(), str(row.get("en") or "").strip()
        try:
            score = int(str(row.get("score", "")).strip())
        except ValueError:
            score = -1
        if not value or " " in value or len(value) > 40:
            errors.append(_("Answer %(n)d: the value is one short word.") % {"n": number})
        elif value in seen:
            errors.append(_("Answer %(n)d: the value “%(value)s” is used twice.") % {"n": number, "value": value})
        if not french or not english or len(french) > 120 or len(english) > 120:
            errors.append(_("Answer %(n)d: give its label in French and in English.") % {"n": number})
        if not 0 <= score <= MAX_SCORE:
            errors.append(_("Answer %(n)d: the score is a whole number from 0 to 100.") % {"n": number})
        seen.add(value)
        out.append({"value": value, "fr": french, "en": english, "score": score})
    if len(out) < 2 and not errors:
        errors.append(_("A question needs at least two answers."))
    if errors:
        raise ValidationError({"choices": errors})
    return out


def choices_as_text(choices: list[dict[str, Any]]) -> str:
    return "\n".join(f"{c.get('value')} | {c.get('fr', '')} | {c.get('en', '')} | {c.get('score', 0)}" for c in choices)


def _clean_question(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for name in ("text_fr", "text_en"):
        text = " ".join(str(values.get(name) or "").split())
        if not text:
            errors[name] = _("Write the question in both languages.")
        elif len(text) > MAX_QUESTION:
            errors[name] = _("At most %(n)d characters.") % {"n": MAX_QUESTION}
        out[name] = text
    try:
        out["choices"] = clean_choices(values.get("choices"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    out["is_active"] = bool(values.get("is_active", True))
    if errors:
        raise ValidationError(errors)
    return out


@transaction.atomic
def create_question(*, by: User | None, **values: Any) -> RiskQuestion:
    """Add a question at the end of the questionnaire."""
    _admin(by)
    clean = _clean_question(values)
    last = RiskQuestion.objects.order_by("-order").values_list("order", flat=True).first()
    question = RiskQuestion.objects.create(order=(last or 0) + 1, **clean)
    audit.record("risk_question.created", actor=by, target=question, changes={"text_en": [None, question.text_en]})
    return question


@transaction.atomic
def update_question(question: RiskQuestion, *, by: User | None, **values: Any) -> RiskQuestion:
    """Edit a question. The answers already given stay on the changes assessed; switching a
    question off leaves it out of new assessments."""
    _admin(by)
    clean = _clean_question(values)
    locked = RiskQuestion.objects.select_for_update().get(pk=question.pk)
    changes = {name: [getattr(locked, name), value] for name, value in clean.items() if getattr(locked, name) != value}
    if changes:
        for name, (_old, value) in changes.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(changes))
        audit.record("risk_question.changed", actor=by, target=locked, changes=changes)
    return locked


@transaction.atomic
def reorder_questions(*, by: User | None, ids: list[int]) -> None:
    """The questionnaire in the order of ``ids`` (every question once)."""
    _admin(by)
    ordering.reorder(RiskQuestion.objects.all(), ids, field="order", start=1)
    audit.record(
        "risk_question.moved", actor=by, target_type="risk_question", target_id="", changes={"order": [None, ids]}
    )


@transaction.atomic
def move_question(question: RiskQuestion, *, by: User | None, up: bool) -> RiskQuestion:
    _admin(by)
    moved = ordering.move(RiskQuestion.objects.all(), question.pk, up=up, field="order")
    audit.record("risk_question.moved", actor=by, target=moved, changes={"order": [None, moved.order]})
    return moved


# --- the risk thresholds --------------------------------------------------------------------------


@transaction.atomic
def update_thresholds(
    *,
    by: User | None,
    medium_from: int,
    high_from: int,
    critical_from: int,
    remind_after_hours: int | None = None,
) -> ChangeSettings:
    """The scores from which a change is of medium, high and critical risk: each above the one
    before, from 1 to 1000; and after how many hours a pending approval is reminded (0: never)."""
    _admin(by)
    values: dict[str, int] = {"medium_from": medium_from, "high_from": high_from, "critical_from": critical_from}
    errors: dict[str, str] = {}
    for name, value in values.items():
        if not isinstance(value, int) or not 1 <= value <= 1000:
            errors[name] = _("A whole number from 1 to 1000.")
    if remind_after_hours is not None:
        if not isinstance(remind_after_hours, int) or not 0 <= remind_after_hours <= 720:
            errors["remind_after_hours"] = _("A whole number of hours from 0 (no reminder) to 720.")
        values["remind_after_hours"] = remind_after_hours
    if not errors:
        if high_from <= medium_from:
            errors["high_from"] = _("The high risk starts above the medium risk.")
        if critical_from <= high_from:
            errors["critical_from"] = _("The critical risk starts above the high risk.")
    if errors:
        raise ValidationError(errors)
    ChangeSettings.current()
    row = ChangeSettings.objects.select_for_update().get(pk=1)
    changes = {name: [getattr(row, name), value] for name, value in values.items() if getattr(row, name) != value}
    if changes:
        for name, (_old, value) in changes.items():
            setattr(row, name, value)
        row.save(update_fields=list(changes))
        audit.record("change_settings.changed", actor=by, target_type="change_settings", target_id=1, changes=changes)
    return row
