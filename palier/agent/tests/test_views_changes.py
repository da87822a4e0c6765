"""The change pages: raising a change (standard from a template, normal with the full form, from a
ticket), its lifecycle through the buttons, the risk questionnaire, closing with an outcome, the
review, links, bad input, the administration (administrators only), and the query counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from palier.assets.tests.builders import make_asset
from palier.changes import services
from palier.changes.models import Change, ChangeSettings, ChangeTemplate, ChangeTicket, RiskQuestion
from palier.people.models import User
from palier.problems.services import create_problem
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db
S = Change.Status
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _when(days: int, hours: int = 0) -> str:
    moment = timezone.localtime(timezone.now() + timedelta(days=days, hours=hours))
    return moment.strftime("%Y-%m-%dT%H:%M")


def _detail(change: Change) -> str:
    return reverse("changes:detail", args=[change.pk])


@pytest.fixture(autouse=True)
def _board(admin_user: User) -> None:
    """A board on the normal path, so a change can be sent for approval."""
    from palier.changes.services import boards
    from palier.people import services as people

    group = people.create_group(name="CAB", level=2)
    member = people.create_user(
        email="cab@desk.test", full_name="Cab Member", role=User.Role.AGENT, password="pw-cab-1234!"
    )
    people.add_group_member(group, user=member)
    board = boards.save_board(by=admin_user, name="CAB", group=group, rule="any", quorum=None)
    boards.add_stage(by=admin_user, path="normal", board=board, min_risk="low")


def _normal(by: User, **values: Any) -> Change:
    start = timezone.now() + timedelta(days=3)
    values.setdefault("title", "Upgrade the core switch")
    values.setdefault("implementation_plan", "Upgrade the firmware")
    values.setdefault("backout_plan", "Downgrade it")
    return services.create_change(
        by=by, kind="normal", planned_start=start, planned_end=start + timedelta(hours=2), **values
    )


def _post_status(client: Client, change: Change, to: str, **extra: Any) -> Any:
    change.refresh_from_db()
    data = {"to": to, "version": change.version, **extra}
    return client.post(reverse("changes:status", args=[change.pk]), data, follow=True, **EN)


# --- who may see ---------------------------------------------------------------------------------


def test_requesters_never_see_the_change_pages(client: Client, requester: User, agent: User) -> None:
    change = _normal(agent)
    client.force_login(requester)
    assert client.get(reverse("changes:list"), **EN).status_code == 404
    assert client.get(_detail(change), **EN).status_code == 404
    response = client.post(reverse("changes:comment", args=[change.pk]), {"body": "hi"}, **EN)
    assert response.status_code == 404
    assert not change.comments.exists()


def test_the_list_shows_open_changes_and_filters(client: Client, agent: User) -> None:
    open_one = _normal(agent, title="Replace the VPN gateway")
    closed = _normal(agent, title="Rename the file server")
    services.transition_change(closed, to=S.CLOSED, by=agent, outcome="cancelled")
    client.force_login(agent)
    page = client.get(reverse("changes:list"), **EN).content.decode()
    assert open_one.reference in page and closed.reference not in page
    page = client.get(reverse("changes:list"), {"status": "all", "q": "file server"}, **EN).content.decode()
    assert closed.reference in page and open_one.reference not in page
    page = client.get(reverse("changes:list"), {"kind": "standard"}, **EN).content.decode()
    assert "No change matches." in page


# --- raising a change ----------------------------------------------------------------------------


def test_a_normal_change_is_raised_with_the_full_form(client: Client, agent: User) -> None:
    make_asset("SW-CORE-1", by=agent)
    client.force_login(agent)
    choose = client.get(reverse("changes:new"), **EN).content.decode()
    assert "Restart an application server" in choose  # a seeded template
    response = client.post(
        reverse("changes:new"),
        {
            "kind": "normal",
            "title": "Upgrade the core switch",
            "reason": "End of support",
            "impact": "high",
            "implementation_plan": "Firmware 9.2",
            "backout_plan": "Firmware 9.1",
            "planned_start": _when(2),
            "planned_end": _when(2, 3),
            "assets": "sw-core-1",
        },
        follow=True,
        **EN,
    )
    change = Change.objects.get()
    assert change.kind == "normal" and change.status == S.DRAFT and change.impact == "high"
    assert change.planned_end - change.planned_start == timedelta(hours=3)
    page = response.content.decode()
    assert f"Change {change.reference} raised." in page
    assert 'data-asset="SW-CORE-1"' in page
    assert reverse("assets:impact", args=[change.asset_links.get().asset_id]) in page
    assert "raised a normal change" in page


def test_a_window_ending_before_it_starts_is_refused(client: Client, agent: User) -> None:
    client.force_login(agent)
    response = client.post(
        reverse("changes:new"),
        {"kind": "normal", "title": "x", "impact": "low", "planned_start": _when(2), "planned_end": _when(1)},
        **EN,
    )
    assert response.status_code == 400
    assert "The change window must end after it starts." in response.content.decode()
    assert not Change.objects.exists()


def test_an_unknown_asset_tag_saves_nothing(client: Client, agent: User) -> None:
    client.force_login(agent)
    response = client.post(
        reverse("changes:new"), {"kind": "normal", "title": "x", "impact": "low", "assets": "NOPE-1"}, **EN
    )
    assert response.status_code == 400
    assert "No asset you may see has the tag NOPE-1" in response.content.decode()
    assert not Change.objects.exists()


def test_a_standard_change_comes_from_its_template_and_is_scheduled_without_approval(
    client: Client, agent: User
) -> None:
    template = ChangeTemplate.objects.get(name_en="Restart an application server")
    client.force_login(agent)
    form = client.get(reverse("changes:new"), {"kind": "standard", "template": template.pk}, **EN)
    assert "Standard change: Restart an application server" in form.content.decode()
    assert "backout_plan" not in form.content.decode()
    response = client.post(
        reverse("changes:new"),
        {"kind": "standard", "template": template.pk, "planned_start": _when(1)},
        follow=True,
        **EN,
    )
    change = Change.objects.get()
    assert change.title == "Restart an application server" and change.template == template
    assert change.implementation_plan == template.implementation_plan
    assert change.planned_end - change.planned_start == timedelta(minutes=30)
    page = response.content.decode()
    assert 'value="scheduled"' in page and 'value="assessment"' not in page
    _post_status(client, change, S.SCHEDULED)
    change.refresh_from_db()
    assert change.status == S.SCHEDULED


def test_an_unknown_or_switched_off_template_is_refused(client: Client, agent: User) -> None:
    template = ChangeTemplate.objects.get(name_en="Restart an application server")
    client.force_login(agent)
    response = client.post(reverse("changes:new"), {"kind": "standard", "template": 99999}, **EN)
    assert response.status_code == 400
    assert "Choose one of the templates below." in response.content.decode()
    template.is_active = False
    template.save()
    response = client.get(reverse("changes:new"), {"kind": "standard", "template": template.pk}, **EN)
    assert response.status_code == 400 and "switched off" in response.content.decode()
    assert "Restart an application server" not in response.content.decode()  # no longer offered
    response = client.post(
        reverse("changes:new"), {"kind": "standard", "template": template.pk, "planned_start": _when(1)}, **EN
    )
    assert response.status_code == 400
    assert "A standard change comes from an active template." in response.content.decode()
    assert not Change.objects.exists()


def test_a_change_raised_from_a_ticket_is_linked_to_it(
    client: Client, agent: User, agent_l2: User, requester: User
) -> None:
    ticket = make_ticket(requester)
    client.force_login(agent)
    ticket_page = client.get(reverse("agent:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert f"{reverse('changes:new')}?ticket={ticket.pk}" in ticket_page and "No change linked." in ticket_page
    client.post(
        reverse("changes:new"),
        {"kind": "emergency", "title": "Patch the VPN gateway", "impact": "high", "ticket": ticket.pk},
        **EN,
    )
    change = Change.objects.get()
    assert ChangeTicket.objects.filter(change=change, ticket=ticket).exists()
    ticket_page = client.get(reverse("agent:ticket-detail", args=[ticket.pk]), **EN).content.decode()
    assert f'data-change="{change.reference}"' in ticket_page and "Draft" in ticket_page
    # an agent who may not see the ticket cannot raise a change from it
    client.force_login(agent_l2)
    response = client.post(
        reverse("changes:new"), {"kind": "normal", "title": "Sneaky", "impact": "low", "ticket": ticket.pk}, **EN
    )
    assert response.status_code == 404
    assert Change.objects.count() == 1


# --- the lifecycle -------------------------------------------------------------------------------


def test_a_normal_change_goes_through_its_lifecycle_on_its_page(client: Client, agent: User) -> None:
    change = _normal(agent)
    client.force_login(agent)
    page = client.get(_detail(change), **EN).content.decode()
    assert 'value="approved"' not in page  # only the board approves
    assert 'id="close-form"' in page and 'value="cancelled"' in page and 'value="successful"' not in page
    _post_status(client, change, S.ASSESSMENT)
    response = _post_status(client, change, S.AWAITING_APPROVAL)
    assert "Awaiting approval" in response.content.decode()
    change.refresh_from_db()
    services.transition_change(change, to=S.APPROVED, by=None, system=True)  # the board decided
    for to in (S.SCHEDULED, S.IMPLEMENTING, S.REVIEW):
        _post_status(client, change, to)
    change.refresh_from_db()
    assert change.status == S.REVIEW and change.actual_start and change.actual_end
    page = client.get(_detail(change), **EN).content.decode()
    assert 'id="review-form"' in page and 'value="successful"' in page and 'value="cancelled"' not in page
    response = _post_status(client, change, S.CLOSED, outcome="cancelled")
    assert "Choose how the change ended." in response.content.decode()
    response = _post_status(client, change, S.CLOSED, outcome="rolled_back", note="Back-out after errors")
    change.refresh_from_db()
    assert change.status == S.CLOSED and change.outcome == "rolled_back"
    page = response.content.decode()
    assert "Closed" in page and "Rolled back" in page and "Back-out after errors" in page
    assert 'id="status-buttons"' not in page and 'id="edit-change"' not in page


def test_moves_out_of_order_and_stale_pages_change_nothing(client: Client, agent: User) -> None:
    change = _normal(agent)
    client.force_login(agent)
    response = _post_status(client, change, S.IMPLEMENTING)
    assert "cannot go from “Draft” to “Implementing”" in response.content.decode()
    response = _post_status(client, change, S.APPROVED)
    assert "approves or rejects a change" in response.content.decode()
    seen = change.version
    services.update_change(change, by=agent, title="Upgrade both core switches")
    response = client.post(
        reverse("changes:status", args=[change.pk]), {"to": S.ASSESSMENT, "version": seen}, follow=True, **EN
    )
    assert "changed by someone else" in response.content.decode()
    change.refresh_from_db()
    assert change.status == S.DRAFT


def test_going_to_the_board_needs_the_window_and_plans(client: Client, agent: User) -> None:
    change = services.create_change(by=agent, kind="emergency", title="Patch now")
    client.force_login(agent)
    response = _post_status(client, change, S.AWAITING_APPROVAL)
    assert "Fill in the planned start first." in response.content.decode()
    change.refresh_from_db()
    assert change.status == S.DRAFT


def test_the_risk_questionnaire_gives_the_risk(client: Client, agent: User) -> None:
    change = _normal(agent)
    questions = list(RiskQuestion.objects.filter(is_active=True))
    assert len(questions) == 5  # the seeded questionnaire
    client.force_login(agent)
    page = client.get(_detail(change), **EN).content.decode()
    assert "Was the change tried in a test environment?" in page
    url = reverse("changes:risk", args=[change.pk])
    partial = {"version": change.version, f"q{questions[0].pk}": questions[0].choices[-1]["value"]}
    response = client.post(url, partial, **EN)
    assert response.status_code == 400 and "Choose an answer." in response.content.decode()
    change.refresh_from_db()
    assert change.risk == "low" and change.risk_score == 0
    worst = {f"q{q.pk}": q.choices[-1]["value"] for q in questions}
    response = client.post(url, {"version": change.version, **worst}, follow=True, **EN)
    change.refresh_from_db()
    assert change.risk_score == 17 and change.risk == "critical"
    assert "Risk: Critical" in response.content.decode()
    assert "assessed the risk: Critical (score 17)" in response.content.decode()


def test_edit_keeps_the_window_in_order(client: Client, agent: User) -> None:
    change = _normal(agent)
    client.force_login(agent)
    url = reverse("changes:edit", args=[change.pk])
    form = client.get(url, **EN).content.decode()
    assert timezone.localtime(change.planned_start).strftime("%Y-%m-%dT%H:%M") in form
    data = {
        "title": "Upgrade the core switches",
        "impact": "medium",
        "implementation_plan": "Upgrade the firmware",
        "backout_plan": "Downgrade it",
        "planned_start": _when(5),
        "planned_end": _when(4),
        "version": change.version,
    }
    response = client.post(url, data, **EN)
    assert response.status_code == 400 and "must end after it starts" in response.content.decode()
    data["planned_end"] = _when(5, 1)
    response = client.post(url, data, follow=True, **EN)
    change.refresh_from_db()
    assert change.title == "Upgrade the core switches"
    assert "Planned start" in response.content.decode()  # the history says what changed


# --- links, comments, review ---------------------------------------------------------------------


def test_links_to_tickets_problems_and_assets(client: Client, agent: User, agent_l2: User, requester: User) -> None:
    change = _normal(agent)
    ticket = make_ticket(requester)
    problem = create_problem(by=agent, title="VPN drops every hour")
    asset = make_asset("VPN-GW-1", by=agent)
    client.force_login(agent_l2)  # may not see the ticket (triage's)
    response = client.post(
        reverse("changes:link-ticket", args=[change.pk]), {"reference": ticket.reference, "relation": "caused"}, **EN
    )
    assert response.status_code == 400 and "does not exist or you may not see it" in response.content.decode()
    assert not ChangeTicket.objects.exists()
    client.force_login(agent)
    client.post(
        reverse("changes:link-ticket", args=[change.pk]), {"reference": ticket.reference, "relation": "caused"}, **EN
    )
    client.post(
        reverse("changes:link-problem", args=[change.pk]), {"reference": problem.reference, "relation": "fixes"}, **EN
    )
    response = client.post(
        reverse("changes:link-problem", args=[change.pk]), {"reference": "PRB-999", "relation": "fixes"}, **EN
    )
    assert response.status_code == 400
    client.post(reverse("changes:link-assets", args=[change.pk]), {"tags": "vpn-gw-1"}, **EN)
    page = client.get(_detail(change), **EN).content.decode()
    assert f'data-ticket="{ticket.reference}"' in page and "Caused by the change" in page
    assert f'data-problem="{problem.reference}"' in page and "Fixes the problem" in page
    assert 'data-asset="VPN-GW-1"' in page
    assert f"linked the ticket {ticket.reference} (caused by the change)" in page
    response = client.post(reverse("changes:unlink-asset", args=[change.pk, asset.pk]), follow=True, **EN)
    assert 'data-asset="VPN-GW-1"' not in response.content.decode()
    assert "removed the asset VPN-GW-1" in response.content.decode()


def test_comments_and_the_review(client: Client, agent: User) -> None:
    change = _normal(agent)
    client.force_login(agent)
    response = client.post(
        reverse("changes:comment", args=[change.pk]), {"body": "Vendor confirmed"}, follow=True, **EN
    )
    assert "Vendor confirmed" in response.content.decode()
    review = reverse("changes:review", args=[change.pk])
    response = client.post(review, {"review_notes": "Too early", "version": change.version}, **EN)
    assert response.status_code == 400 and "reviewed once it was implemented" in response.content.decode()
    for to in (S.ASSESSMENT, S.AWAITING_APPROVAL):
        change = services.transition_change(change, to=to, by=agent)
    change = services.transition_change(change, to=S.APPROVED, by=None, system=True)
    for to in (S.SCHEDULED, S.IMPLEMENTING, S.REVIEW):
        change = services.transition_change(change, to=to, by=agent)
    response = client.post(review, {"review_notes": "", "version": change.version}, **EN)
    assert response.status_code == 400 and "Say how the change went." in response.content.decode()
    response = client.post(
        review,
        {"review_notes": "Went fine", "lessons": "Book a longer window", "version": change.version},
        follow=True,
        **EN,
    )
    change.refresh_from_db()
    assert change.review_notes == "Went fine" and change.reviewed_at is not None
    assert "wrote the post-implementation review" in response.content.decode()


# --- administration ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["changes:templates", "changes:risk-questions", "changes:settings"])
def test_the_administration_is_for_administrators(client: Client, agent: User, admin_user: User, name: str) -> None:
    client.force_login(agent)
    assert client.get(reverse(name), **EN).status_code == 404
    assert client.post(reverse(name), {}, **EN).status_code == 404
    client.force_login(admin_user)
    assert client.get(reverse(name), **EN).status_code == 200


def test_thresholds_must_increase(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    url = reverse("changes:settings")
    response = client.post(url, {"medium_from": 5, "high_from": 5, "critical_from": 4}, **EN)
    assert response.status_code == 400
    page = response.content.decode()
    assert "The high risk starts above the medium risk." in page
    assert ChangeSettings.current().high_from == 8
    client.post(url, {"medium_from": 3, "high_from": 6, "critical_from": 10}, **EN)
    row = ChangeSettings.current()
    assert (row.medium_from, row.high_from, row.critical_from) == (3, 6, 10)


def test_templates_are_created_edited_and_switched_off(client: Client, admin_user: User, agent: User) -> None:
    client.force_login(admin_user)
    data = {
        "name_fr": "Ajouter un disque",
        "name_en": "Add a disk",
        "implementation_plan": "Hot-plug the disk",
        "risk": "low",
        "duration_minutes": 45,
        "is_active": "on",
    }
    response = client.post(reverse("changes:templates"), {**data, "implementation_plan": ""}, **EN)
    assert response.status_code == 400 and "needs its implementation plan" in response.content.decode()
    client.post(reverse("changes:templates"), data, **EN)
    template = ChangeTemplate.objects.get(name_en="Add a disk")
    services.create_change(by=agent, kind="standard", template=template)
    edit = client.get(reverse("changes:template-edit", args=[template.pk]), **EN)
    assert edit.status_code == 200 and 'value="Add a disk"' in edit.content.decode()
    client.post(reverse("changes:template-edit", args=[template.pk]), {**data, "is_active": ""}, **EN)
    template.refresh_from_db()
    assert not template.is_active and template.changes.count() == 1
    client.force_login(agent)
    assert "Add a disk" not in client.get(reverse("changes:new"), **EN).content.decode()


def test_risk_questions_as_rows_reordered_and_switched_off(client: Client, admin_user: User) -> None:
    client.force_login(admin_user)
    url = reverse("changes:risk-questions")
    bad = {"text_fr": "Nuit ?", "text_en": "At night?", "choices": "yes | Oui | Yes\nno | Non | No | x"}
    response = client.post(url, bad, **EN)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Line 1: write" in page
    assert RiskQuestion.objects.count() == 5
    good = {**bad, "choices": "no | Non | No | 0\nyes | Oui | Yes | 2", "is_active": "on"}
    client.post(url, good, **EN)
    question = RiskQuestion.objects.get(text_en="At night?")
    assert question.choices[1] == {"value": "yes", "fr": "Oui", "en": "Yes", "score": 2}
    client.post(reverse("changes:risk-question-move", args=[question.pk]), {"direction": "up"}, **EN)
    ordered = list(RiskQuestion.objects.order_by("order", "id").values_list("text_en", flat=True))
    assert ordered[-2] == "At night?"
    edit = client.get(reverse("changes:risk-question-edit", args=[question.pk]), **EN).content.decode()
    assert "yes | Oui | Yes | 2" in edit
    client.post(reverse("changes:risk-question-edit", args=[question.pk]), {**good, "is_active": ""}, **EN)
    question.refresh_from_db()
    assert not question.is_active


# --- query counts --------------------------------------------------------------------------------


def test_the_list_and_the_page_run_a_fixed_number_of_queries(
    client: Client, agent: User, requester: User, django_assert_max_num_queries: Any
) -> None:
    client.force_login(agent)
    change = _normal(agent)
    with CaptureQueriesContext(connection) as list_few:
        client.get(reverse("changes:list"), **EN)
    with CaptureQueriesContext(connection) as page_few:
        client.get(_detail(change), **EN)
    for i in range(6):
        _normal(agent, title=f"Change {i}")
        ticket = make_ticket(requester)
        services.link_ticket(change, ticket, by=agent)
        asset = make_asset(f"LAP-{i}", by=agent)
        services.link_assets(change, [asset.pk], by=agent)
        services.update_change(change, by=agent, title=f"Upgrade {i}")
    from palier.changes.services import comment_on_change

    for i in range(4):
        comment_on_change(change, by=agent, body=f"note {i}")
    with django_assert_max_num_queries(len(list_few)):
        response = client.get(reverse("changes:list"), **EN)
    assert "Change 5" in response.content.decode()
    with django_assert_max_num_queries(len(page_few)):
        response = client.get(_detail(change), **EN)
    assert "note 3" in response.content.decode()


def test_the_window_is_in_the_agents_time_zone(client: Client, agent: User) -> None:
    agent.work_time_zone = "America/Montreal"
    agent.save(update_fields=["work_time_zone"])
    client.force_login(agent)
    client.post(
        reverse("changes:new"),
        {"kind": "normal", "title": "Night work", "impact": "low", "planned_start": "2031-01-15T22:00"},
        **EN,
    )
    change = Change.objects.get()
    expected = datetime(2031, 1, 15, 22, 0, tzinfo=ZoneInfo("America/Montreal"))
    assert change.planned_start == expected  # 03:00 the next day in Paris
    form = client.get(reverse("changes:edit", args=[change.pk]), **EN).content.decode()
    assert 'value="2031-01-15T22:00"' in form


def test_a_stale_edit_form_saves_nothing(client: Client, agent: User) -> None:
    change = _normal(agent)
    seen = change.version
    services.update_change(change, by=agent, reason="Someone else's words")
    client.force_login(agent)
    data = {"title": "Mine", "impact": "low", "version": seen}
    response = client.post(reverse("changes:edit", args=[change.pk]), data, **EN)
    assert response.status_code == 400 and "changed by someone else" in response.content.decode()
    change.refresh_from_db()
    assert change.title == "Upgrade the core switch"


def test_editing_an_approved_change_keeps_its_window(client: Client, agent: User) -> None:
    change = _normal(agent)  # a window with seconds, as the API may set it
    for to in (S.ASSESSMENT, S.AWAITING_APPROVAL):
        change = services.transition_change(change, to=to, by=agent)
    change = services.transition_change(change, to=S.APPROVED, by=None, system=True)
    client.force_login(agent)
    url = reverse("changes:edit", args=[change.pk])
    form = client.get(url, **EN).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["planned_start"] = timezone.localtime(change.planned_start).strftime("%Y-%m-%dT%H:%M")
    data["planned_end"] = timezone.localtime(change.planned_end).strftime("%Y-%m-%dT%H:%M")
    data["test_plan"] = "Ping the gateway"
    response = client.post(url, data, follow=True, **EN)
    assert "Saved." in response.content.decode()
    start = change.planned_start
    change.refresh_from_db()
    assert change.test_plan == "Ping the gateway" and change.planned_start == start
    data["planned_end"], data["version"] = _when(9), change.version
    response = client.post(url, data, **EN)
    assert response.status_code == 400 and "approved as they are" in response.content.decode()
