"""What the change pages rely on: the list's filters and keyset pages, the ticket panel in one
query, the history sentences (approval events from the board included), the review, comments,
the seeded questionnaire and templates, and the administration's rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from palier.changes import display, history, selectors, services
from palier.changes.models import Change, ChangeEvent, ChangeSettings, ChangeTemplate, RiskQuestion
from palier.changes.services import admin
from palier.lib.errors import IllegalTransition, PermissionDenied
from palier.people.models import User
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
S = Change.Status


def _change(by: User, title: str = "Upgrade the core switch", **values: Any) -> Change:
    return services.create_change(by=by, kind=values.pop("kind", "normal"), title=title, **values)


def test_the_seed_gives_five_bilingual_questions_and_two_templates() -> None:
    questions = list(RiskQuestion.objects.filter(is_active=True))
    assert len(questions) == 5
    assert all(q.text_fr and q.text_en and len(q.choices) >= 2 for q in questions)
    assert sum(max(c["score"] for c in q.choices) for q in questions) == 17
    assert ChangeTemplate.objects.filter(is_active=True).count() == 2


def test_the_list_is_open_changes_newest_first_in_pages(agent: User) -> None:
    made = [_change(agent, f"Change {i}") for i in range(5)]
    services.transition_change(made[0], to=S.CLOSED, by=agent, outcome="cancelled")
    page = selectors.change_page(agent, selectors.ChangeFilters(), limit=2)
    assert [c.title for c in page.items] == ["Change 4", "Change 3"] and page.next_after == made[3].pk
    page = selectors.change_page(agent, selectors.ChangeFilters(), after=page.next_after, limit=2)
    assert [c.title for c in page.items] == ["Change 2", "Change 1"] and page.next_after is None
    everything = selectors.change_page(agent, selectors.ChangeFilters(status=("all",), q="change 0"))
    assert [c.pk for c in everything.items] == [made[0].pk]


def test_requesters_see_no_change(requester: User, agent: User) -> None:
    change = _change(agent)
    assert selectors.change_page(requester, selectors.ChangeFilters()).items == []
    with pytest.raises(Exception, match="change"):
        selectors.get_change_for(requester, change.pk)


def test_the_ticket_panel_reads_in_one_query(agent: User, requester: User, django_assert_num_queries: Any) -> None:
    ticket = make_ticket(requester)
    for i in range(3):
        services.link_ticket(_change(agent, f"Change {i}"), ticket, by=agent, relation="caused" if i else "related")
    with django_assert_num_queries(1):
        links = selectors.changes_of_ticket(agent, ticket.pk)
        rows = [(link.change.reference, link.change.status, link.relation) for link in links]
    assert len(rows) == 3 and rows[0][2] == "caused"
    assert selectors.changes_of_ticket(requester, ticket.pk) == []


def test_approval_events_read_as_sentences(agent: User) -> None:
    change = _change(agent)
    history.record(
        change,
        ChangeEvent.Kind.APPROVAL,
        actor=agent,
        data={"stage": 1, "decision": "rejected", "approver": "Ada", "comment": "Not during the sales"},
    )
    lines = display.lines(selectors.timeline(change))
    approval = next(line for line in lines if line.kind == "approval")
    assert approval.summary == "approval: rejected"
    assert approval.details == ["Stage: 1", "By: Ada", "Not during the sales"]
    text, _details = display.summary("approval", {"decision": "something new"})
    assert text == "approval: something new"


def test_history_sentences(agent: User) -> None:
    start = timezone.now() + timedelta(days=1)
    change = _change(agent, planned_start=start, planned_end=start + timedelta(hours=1))
    services.update_change(change, by=agent, title="Upgrade both switches", impact="high")
    services.comment_on_change(change, by=agent, body="Vendor says fine")
    lines = display.lines(selectors.timeline(change))
    assert lines[0].summary == "raised a normal change"
    changed = next(line for line in lines if line.kind == "changed")
    assert "Impact: Medium → High" in changed.details
    assert "Title: Upgrade the core switch → Upgrade both switches" in changed.details
    assert [line.comment for line in lines if line.kind == "comment"] == ["Vendor says fine"]
    assert not any(line.kind == "comment" and not line.comment for line in lines)  # no double


def test_the_review_comes_after_implementation(agent: User) -> None:
    change = _change(agent, kind="standard", template=ChangeTemplate.objects.first(), planned_start=timezone.now())
    with pytest.raises(IllegalTransition):
        services.review_change(change, by=agent, review_notes="early")
    for to in (S.SCHEDULED, S.IMPLEMENTING, S.REVIEW):
        change = services.transition_change(change, to=to, by=agent)
    with pytest.raises(ValidationError):
        services.review_change(change, by=agent, review_notes="  ")
    change = services.review_change(change, by=agent, version=change.version, review_notes="Fine", lessons="None")
    assert change.reviewed_at is not None and change.events.filter(kind="reviewed").count() == 1
    services.review_change(change, by=agent, review_notes="Fine", lessons="None")  # nothing new
    assert change.events.filter(kind="reviewed").count() == 1


def test_comments_need_words_and_an_agent(agent: User, requester: User) -> None:
    change = _change(agent)
    with pytest.raises(ValidationError):
        services.comment_on_change(change, by=agent, body="   ")
    with pytest.raises(PermissionDenied):
        services.comment_on_change(change, by=requester, body="hello")
    assert not change.comments.exists()


def test_only_administrators_administer(agent: User) -> None:
    with pytest.raises(PermissionDenied):
        admin.update_thresholds(by=agent, medium_from=1, high_from=2, critical_from=3)
    with pytest.raises(PermissionDenied):
        admin.create_template(by=agent, name_fr="a", name_en="a", implementation_plan="x", duration_minutes=5)
    with pytest.raises(PermissionDenied):
        admin.create_question(by=agent, text_fr="a", text_en="a", choices="a | a | a | 0\nb | b | b | 1")


def test_thresholds_increase_and_drive_the_risk(admin_user: User) -> None:
    for bad in ((4, 4, 9), (4, 9, 9), (0, 2, 3), (4, 9, 2000)):
        with pytest.raises(ValidationError):
            admin.update_thresholds(by=admin_user, medium_from=bad[0], high_from=bad[1], critical_from=bad[2])
    assert ChangeSettings.current().medium_from == 4
    admin.update_thresholds(by=admin_user, medium_from=2, high_from=3, critical_from=20)
    assert services.risk_from_score(2) == "medium" and services.risk_from_score(19) == "high"


def test_answers_are_checked(admin_user: User) -> None:
    cases = [
        "only | Seule | Only | 1",
        "a b | A | A | 1\nb | B | B | 1",
        "a | A | A | 1\na | B | B | 2",
        "a | | A | 1\nb | B | B | 2",
        "a | A | A | 101\nb | B | B | 2",
        "a | A | A\nb | B | B | 2",
    ]
    for text in cases:
        with pytest.raises(ValidationError):
            admin.clean_choices(text)
    assert admin.clean_choices("a | A | AA | 1\nb | B | BB | 2")[0] == {"value": "a", "fr": "A", "en": "AA", "score": 1}
    assert (
        admin.choices_as_text(admin.clean_choices("a | A | AA | 1\nb | B | BB | 2")) == "a | A | AA | 1\nb | B | BB | 2"
    )


def test_a_switched_off_template_keeps_its_changes(admin_user: User, agent: User) -> None:
    template = ChangeTemplate.objects.get(name_en="Restart an application server")
    change = _change(agent, kind="standard", template=template)
    values = {
        "name_fr": template.name_fr,
        "name_en": template.name_en,
        "implementation_plan": template.implementation_plan,
        "duration_minutes": template.duration_minutes,
        "is_active": False,
    }
    admin.update_template(template, by=admin_user, **values)
    template.refresh_from_db()
    assert not template.is_active and template not in selectors.active_templates()
    change.refresh_from_db()
    assert change.template == template
    with pytest.raises(ValidationError):
        _change(agent, kind="standard", template=template)
