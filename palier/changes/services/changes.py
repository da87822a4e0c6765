"""Writes on changes: raise (from a template or not), edit, assess the risk, move through the
lifecycle, link assets, incidents and problems. Each runs in one transaction with the change's
row locked and its version checked, and leaves one history event per change."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palier.assets import permissions as asset_permissions
from palier.assets.models import Asset
from palier.changes import conflicts, history, permissions, rules
from palier.changes.models import (
    RISK_ORDER,
    Change,
    ChangeAsset,
    ChangeEvent,
    ChangeProblem,
    ChangeSettings,
    ChangeTemplate,
    ChangeTicket,
    Risk,
    RiskQuestion,
)
from palier.core.numbers import next_number
from palier.lib.errors import IllegalTransition, PermissionDenied, StaleVersion
from palier.lib.text import normalise
from palier.people.models import SupportGroup, User
from palier.problems.models import Problem
from palier.tickets import history as ticket_history
from palier.tickets import permissions as ticket_permissions
from palier.tickets.models import Level, Ticket, TicketEvent

E = ChangeEvent.Kind
S = Change.Status
MAX_TITLE = 250
MAX_TEXT = 20_000
TEXT_FIELDS = ("title", "description", "reason", "implementation_plan", "backout_plan", "test_plan")
EDITABLE: tuple[str, ...] = (
    *TEXT_FIELDS,
    "impact",
    "planned_start",
    "planned_end",
    "group",
    "implementer",
)
# fields frozen once the board was asked: a new window or plan needs a new assessment
FROZEN_FROM_APPROVAL: frozenset[str] = frozenset(
    {"planned_start", "planned_end", "implementation_plan", "backout_plan", "impact"}
)

# called after a change's window or assets changed (the footprint of the calendar), and when a
# change enters "awaiting approval" (the board's approval): set by the modules that own them
AFTER_SAVE: list[Callable[[Change], None]] = []
ON_AWAITING_APPROVAL: list[Callable[[Change, User | None], None]] = []
# called when a change leaves "awaiting approval" (sent back, cancelled, decided): the board's
# pending approvals are withdrawn
ON_LEAVE_APPROVAL: list[Callable[[Change, User | None], None]] = []


def _required_labels() -> dict[str, str]:
    return {
        "planned_start": _("planned start"),
        "planned_end": _("planned end"),
        "implementation_plan": _("implementation plan"),
        "backout_plan": _("back-out plan"),
    }


def _require(by: User | None, action: permissions.Action) -> None:
    if not permissions.can(by, action):
        raise PermissionDenied(_("You may not do this with changes."))


def search_text_of(change: Change) -> str:
    return normalise(" ".join(p for p in (change.reference, change.title, change.description) if p))


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out = dict(values)
    unknown = set(out) - set(EDITABLE)
    if unknown:
        errors[sorted(unknown)[0]] = _("This field cannot be changed.")
    for name in TEXT_FIELDS:
        if name in out:
            text = str(out[name] or "").strip()
            limit = MAX_TITLE if name == "title" else MAX_TEXT
            if len(text) > limit:
                errors[name] = _("At most %(n)d characters.") % {"n": limit}
            out[name] = text
    if "title" in out and not out["title"]:
        errors["title"] = _("Give the change a title.")
    if "impact" in out and out["impact"] not in Level.values:
        errors["impact"] = _("Choose high, medium or low.")
    for name in ("planned_start", "planned_end"):
        if name in out and out[name] is not None and not isinstance(out[name], datetime):
            errors[name] = _("Enter a date and time.")
    if "group" in out and out["group"] is not None and not isinstance(out["group"], SupportGroup):
        errors["group"] = _("Choose a group from the list.")
    implementer = out.get("implementer")
    if implementer is not None and (
        not isinstance(implementer, User) or not implementer.is_agent or not implementer.is_active
    ):
        errors["implementer"] = _("The implementer must be an active agent.")
    if errors:
        raise ValidationError(errors)
    return out


def check_window(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise ValidationError({"planned_end": _("The change window must end after it starts.")})


def _lock(change: Change, version: int | None) -> Change:
    locked = Change.objects.select_for_update().get(pk=change.pk)
    if version is not None and locked.version != version:
        raise StaleVersion(
            _("The change was changed by someone else (version %(now)d, you saw %(seen)d). Reload it and try again.")
            % {"now": locked.version, "seen": version}
        )
    return locked


def _bump(change: Change, fields: Sequence[str]) -> None:
    change.updated_at = timezone.now()
    change.version += 1
    change.search_text = search_text_of(change)
    change.save(update_fields=[*fields, "updated_at", "version", "search_text"])


def _after_save(change: Change) -> None:
    for hook in AFTER_SAVE:
        hook(change)


@transaction.atomic
def create_change(
    *,
    by: User | None,
    kind: str,
    title: str = "",
    template: ChangeTemplate | None = None,
    asset_ids: Sequence[int] = (),
    **values: Any,
) -> Change:
    """Raise a change. A standard change comes from an active template, whose plans, group,
    risk and usual duration it takes (the caller's values win where given)."""
    _require(by, "edit")
    if kind not in Change.Kind.values:
        raise ValidationError({"kind": _("Choose standard, normal or emergency.")})
    risk: str = Risk.LOW
    if kind == Change.Kind.STANDARD:
        if template is None or not template.is_active:
            raise ValidationError({"template": _("A standard change comes from an active template.")})
        risk = template.risk
        defaults: dict[str, Any] = {
            "description": template.description,
            "implementation_plan": template.implementation_plan,
            "backout_plan": template.backout_plan,
            "test_plan": template.test_plan,
            "group": template.group,
        }
        for name, value in defaults.items():
            if not values.get(name):
                values[name] = value
        title = title or template.name
        if values.get("planned_start") and not values.get("planned_end"):
            values["planned_end"] = values["planned_start"] + timedelta(minutes=template.duration_minutes)
    elif template is not None:
        raise ValidationError({"template": _("Only standard changes come from a template.")})
    values = _clean({"title": title, **values})
    check_window(values.get("planned_start"), values.get("planned_end"))
    now = timezone.now()
    change = Change(
        number=next_number("change"),
        kind=kind,
        template=template,
        risk=risk,
        requested_by=by if by is not None and by.pk else None,
        created_at=now,
        updated_at=now,
        **values,
    )
    change.search_text = search_text_of(change)
    change.save()
    history.record(change, E.CREATED, actor=by, data={"kind": kind, "template": template.name if template else ""})
    if asset_ids:
        link_assets(change, asset_ids, by=by)
    _after_save(change)
    return change


@transaction.atomic
def update_change(change: Change, *, by: User | None, version: int | None = None, **values: Any) -> Change:
    _require(by, "edit")
    values = _clean(values)
    locked = _lock(change, version)
    if locked.status == S.CLOSED:
        raise IllegalTransition(_("A closed change cannot be edited."))
    changed: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(locked, name)
        if old != value:
            changed[name] = [old, value]
            setattr(locked, name, value)
    if not changed:
        return locked
    frozen = sorted(set(changed) & FROZEN_FROM_APPROVAL)
    if frozen and locked.status not in (S.DRAFT, S.ASSESSMENT, S.REJECTED):
        raise IllegalTransition(
            _(
                "The window, the plans and the impact were approved as they are; send the change back to assessment to change them."
            )
        )
    check_window(locked.planned_start, locked.planned_end)
    _bump(locked, list(changed))
    history.record(locked, E.CHANGED, actor=by, data=changed)
    if {"planned_start", "planned_end"} & set(changed):
        _after_save(locked)
    return locked


def risk_from_score(score: int, settings_row: ChangeSettings | None = None) -> str:
    row = settings_row or ChangeSettings.current()
    if score >= row.critical_from:
        return Risk.CRITICAL
    if score >= row.high_from:
        return Risk.HIGH
    if score >= row.medium_from:
        return Risk.MEDIUM
    return Risk.LOW


@transaction.atomic
def assess_risk(change: Change, *, by: User | None, answers: dict[str, str], version: int | None = None) -> Change:
    """Answer the risk questionnaire: every active question needs one of its answers; the scores
    add up to the risk level (``ChangeSettings`` thresholds)."""
    _require(by, "edit")
    locked = _lock(change, version)
    if locked.status not in (S.DRAFT, S.ASSESSMENT, S.REJECTED):
        raise IllegalTransition(_("The risk is assessed before the change goes to the board."))
    questions = list(RiskQuestion.objects.filter(is_active=True))
    errors: dict[str, str] = {}
    score = 0
    kept: dict[str, str] = {}
    for question in questions:
        value = str(answers.get(str(question.pk), "") or "")
        choice = next((c for c in question.choices if str(c.get("value")) == value), None)
        if choice is None:
            errors[f"q{question.pk}"] = _("Choose an answer.")
            continue
        kept[str(question.pk)] = value
        score += int(choice.get("score") or 0)
    if errors:
        raise ValidationError(errors)
    risk = risk_from_score(score)
    old = [locked.risk, locked.risk_score]
    locked.risk_answers, locked.risk_score, locked.risk = kept, score, risk
    _bump(locked, ["risk_answers", "risk_score", "risk"])
    history.record(locked, E.RISK, actor=by, data={"risk": [old[0], risk], "score": [old[1], score]})
    return locked


def _dates_for(locked: Change, to: str, outcome: str) -> list[str]:
    """Set the outcome and the dates a move records; the names of the fields set."""
    fields: list[str] = []
    now = timezone.now()
    if to == S.CLOSED:
        if outcome not in rules.outcomes_for(locked.status):
            raise ValidationError({"outcome": _("Choose how the change ended.")})
        locked.outcome, locked.closed_at = outcome, now
        fields += ["outcome", "closed_at"]
    elif outcome:
        raise ValidationError({"outcome": _("An outcome is recorded when the change is closed.")})
    if to == S.IMPLEMENTING and locked.actual_start is None:
        locked.actual_start = now
        fields.append("actual_start")
    if to == S.REVIEW and locked.actual_end is None:
        locked.actual_end = now
        fields.append("actual_end")
    return fields


@transaction.atomic
def transition_change(
    change: Change,
    *,
    to: str,
    by: User | None,
    version: int | None = None,
    outcome: str = "",
    note: str = "",
    system: bool = False,
) -> Change:
    """Move the change along ``rules.TRANSITIONS``. ``system``: the approval engine deciding
    (the only way to approved or rejected). Closing records an outcome: successful, failed or
    rolled back after review; cancelled from any other status."""
    if not system:
        _require(by, "edit")
        if to in rules.BY_APPROVAL_ONLY:
            raise IllegalTransition(_("Only the board's decision approves or rejects a change."))
    locked = _lock(change, version)
    allowed = (
        rules.TRANSITIONS.get(locked.status, frozenset())
        if system
        else rules.allowed_targets(locked.status, locked.kind)
    )
    if to not in allowed:
        raise IllegalTransition(
            _("A %(kind)s change cannot go from “%(old)s” to “%(new)s”.")
            % {
                "kind": Change.Kind(locked.kind).label.lower(),
                "old": Change.Status(locked.status).label,
                "new": Change.Status(to).label if to in Change.Status.values else to,
            }
        )
    missing = [name for name in rules.REQUIRES.get(to, ()) if not getattr(locked, name)]
    if missing:
        raise ValidationError(
            {name: _("Fill in the %(field)s first.") % {"field": _required_labels()[name]} for name in missing}
        )
    # a freeze refuses scheduling a standard or normal change; an emergency change is flagged
    in_freeze = conflicts.freeze_check(locked) if to == S.SCHEDULED else []
    fields = ["status", *_dates_for(locked, to, outcome)]
    old = locked.status
    locked.status = to
    _bump(locked, fields)
    data: dict[str, Any] = {"status": [old, to]}
    if outcome:
        data["outcome"] = outcome
    if note:
        data["note"] = note.strip()[:2000]
    if in_freeze:
        data["freeze"] = [freeze.name for freeze in in_freeze]
    history.record(locked, E.STATUS, actor=by, data=data)
    if to == S.AWAITING_APPROVAL:
        for hook in ON_AWAITING_APPROVAL:
            hook(locked, by)
    if old == S.AWAITING_APPROVAL:
        for hook in ON_LEAVE_APPROVAL:
            hook(locked, by)
    _after_save(locked)
    return locked


@transaction.atomic
def link_assets(change: Change, asset_ids: Sequence[int], *, by: User | None) -> int:
    """Add assets and services the change touches (those the user may see; all or nothing)."""
    _require(by, "edit")
    assert by is not None
    wanted = sorted({int(a) for a in asset_ids})
    assets = list(Asset.objects.filter(asset_permissions.visible(by), pk__in=wanted).only("id", "tag", "name"))
    if len(assets) != len(wanted):
        raise ValidationError(
            {"assets": _("Some of these assets do not exist or you may not see them; nothing was linked.")}
        )
    have = set(ChangeAsset.objects.filter(change=change, asset_id__in=wanted).values_list("asset_id", flat=True))
    new = [a for a in assets if a.pk not in have]
    ChangeAsset.objects.bulk_create([ChangeAsset(change=change, asset=a) for a in new])
    for asset in new:
        history.record(change, E.LINKED, actor=by, data={"asset": asset.pk, "tag": asset.tag, "name": asset.name})
    if new:
        _after_save(change)
    return len(new)


@transaction.atomic
def unlink_asset(change: Change, asset: Asset, *, by: User | None) -> None:
    _require(by, "edit")
    if ChangeAsset.objects.filter(change=change, asset=asset).delete()[0]:
        history.record(change, E.UNLINKED, actor=by, data={"asset": asset.pk, "tag": asset.tag, "name": asset.name})
        _after_save(change)


@transaction.atomic
def link_ticket(
    change: Change, ticket: Ticket, *, by: User | None, relation: str = ChangeTicket.Relation.RELATED
) -> ChangeTicket:
    """Link an incident the user may see; "caused" marks it as caused by the change (counted in
    the review and the reports)."""
    _require(by, "edit")
    assert by is not None
    if not ticket_permissions.can_see(by, ticket):
        raise ValidationError({"ticket": _("This ticket does not exist or you may not see it.")})
    if relation not in ChangeTicket.Relation.values:
        raise ValidationError({"relation": _("Choose related or caused by the change.")})
    link, created = ChangeTicket.objects.get_or_create(
        change=change, ticket=ticket, defaults={"relation": relation, "linked_by": by}
    )
    if not created and link.relation == relation:
        return link
    if not created:
        link.relation = relation
        link.save(update_fields=["relation"])
    action = "caused" if relation == ChangeTicket.Relation.CAUSED else "linked"
    ticket_history.record(
        ticket,
        TicketEvent.Kind.CHANGE,
        by=by,
        internal=True,
        reference=change.reference,
        action=action,
        change=change.pk,
    )
    history.record(change, E.LINKED, actor=by, data={"ticket": ticket.reference, "relation": relation})
    return link


@transaction.atomic
def link_problem(
    change: Change, problem: Problem, *, by: User | None, relation: str = ChangeProblem.Relation.FIXES
) -> ChangeProblem:
    _require(by, "edit")
    if relation not in ChangeProblem.Relation.values:
        raise ValidationError({"relation": _("Choose fixes or caused the problem.")})
    link, created = ChangeProblem.objects.get_or_create(change=change, problem=problem, defaults={"relation": relation})
    if created:
        history.record(change, E.LINKED, actor=by, data={"problem": problem.reference, "relation": relation})
        from palier.problems import history as problem_history
        from palier.problems.models import ProblemEvent

        problem_history.record(
            problem, ProblemEvent.Kind.CHANGE_LINKED, actor=by, data={"change": change.reference, "relation": relation}
        )
    return link


def risk_rank(risk: str) -> int:
    return RISK_ORDER.index(risk) if risk in RISK_ORDER else 0
