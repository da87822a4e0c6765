"""The change record's core rules: types, the lifecycle table, the window, the risk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from palier.changes import rules, services
from palier.changes.models import Change, ChangeTemplate, RiskQuestion
from palier.lib.errors import IllegalTransition
from palier.people.models import User

pytestmark = pytest.mark.django_db
S = Change.Status


def test_a_standard_change_comes_from_a_template_and_skips_approval(agent: User) -> None:
    template = ChangeTemplate.objects.create(
        name_fr="Redémarrer", name_en="Restart the web farm", implementation_plan="Rolling restart", duration_minutes=30
    )
    start = timezone.now() + timedelta(days=1)
    change = services.create_change(by=agent, kind="standard", template=template, planned_start=start)
    assert change.title == "Restart the web farm" and change.planned_end == start + timedelta(minutes=30)
    assert rules.allowed_targets(S.DRAFT, "standard") == {S.SCHEDULED, S.CLOSED}
    change = services.transition_change(change, to=S.SCHEDULED, by=agent)
    assert change.status == S.SCHEDULED
    with pytest.raises(ValidationError):
        services.create_change(by=agent, kind="standard", title="no template")


def test_no_one_approves_by_hand_and_order_is_kept(agent: User) -> None:
    change = services.create_change(by=agent, kind="normal", title="Upgrade the core switch")
    with pytest.raises(IllegalTransition):
        services.transition_change(change, to=S.APPROVED, by=agent)
    with pytest.raises(IllegalTransition):
        services.transition_change(change, to=S.IMPLEMENTING, by=agent)
    change = services.transition_change(change, to=S.ASSESSMENT, by=agent)
    with pytest.raises(ValidationError) as error:
        services.transition_change(change, to=S.AWAITING_APPROVAL, by=agent)
    assert "planned_start" in error.value.message_dict


def test_a_window_ending_before_it_starts_is_refused(agent: User) -> None:
    start = timezone.now() + timedelta(days=2)
    with pytest.raises(ValidationError, match="end after it starts"):
        services.create_change(
            by=agent, kind="normal", title="x", planned_start=start, planned_end=start - timedelta(hours=1)
        )
    assert not Change.objects.exists()


def test_closing_needs_the_right_outcome(agent: User) -> None:
    change = services.create_change(by=agent, kind="normal", title="Upgrade")
    with pytest.raises(ValidationError):
        services.transition_change(change, to=S.CLOSED, by=agent, outcome="successful")
    change = services.transition_change(change, to=S.CLOSED, by=agent, outcome="cancelled")
    assert change.outcome == "cancelled" and change.closed_at is not None


def test_risk_questionnaire_sums_scores(agent: User) -> None:
    RiskQuestion.objects.update(is_active=False)  # the seeded questionnaire
    q1 = RiskQuestion.objects.create(
        text_fr="Service touché ?",
        text_en="Service affected?",
        choices=[{"value": "no", "score": 0}, {"value": "yes", "score": 5}],
    )
    q2 = RiskQuestion.objects.create(
        text_fr="Testé ?", text_en="Tested?", choices=[{"value": "yes", "score": 0}, {"value": "no", "score": 4}]
    )
    change = services.create_change(by=agent, kind="normal", title="Upgrade")
    with pytest.raises(ValidationError):
        services.assess_risk(change, by=agent, answers={str(q1.pk): "yes"})
    change = services.assess_risk(change, by=agent, answers={str(q1.pk): "yes", str(q2.pk): "no"})
    assert change.risk_score == 9 and change.risk == "high"
