"""Tasks on tickets: the refusals first (a requester, an agent who cannot see the ticket, an
assignee outside the group or the staff, a due day in the past, a stale version), then what a good
change writes, templates, and the guard that keeps a ticket open while a mandatory task is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from palier.lib.errors import IllegalTransition, PermissionDenied, StaleVersion
from palier.people.models import SupportGroup, User
from palier.tickets import services as ticket_services
from palier.tickets.display import event_sentence
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket
from palier.worklist import selectors
from palier.worklist.models import TaskTemplate, TicketTask
from palier.worklist.services import tasks, templates

pytestmark = pytest.mark.django_db
E = TicketEvent.Kind
T = TicketTask.Status


@pytest.fixture
def ticket(requester: User) -> Ticket:
    return make_ticket(requester)  # lands in the triage group, where ``agent`` works


def _nothing_written(ticket: Ticket) -> None:
    assert not TicketTask.objects.exists()
    assert not TicketEvent.objects.filter(ticket=ticket, kind=E.WORKTASK).exists()


# --- refusals ----------------------------------------------------------------------------------------


def test_a_requester_can_neither_add_nor_see_tasks_even_on_their_own_ticket(
    ticket: Ticket, requester: User, agent: User
) -> None:
    with pytest.raises(PermissionDenied):
        tasks.add_task(ticket, by=requester, title="Sneak")
    _nothing_written(ticket)
    tasks.add_task(ticket, by=agent, title="Internal work")
    assert selectors.ticket_tasks(requester, ticket) == []
    assert selectors.my_open_tasks(requester) == []


def test_an_agent_of_another_group_cannot_add_or_edit_tasks(ticket: Ticket, agent: User, agent_l2: User) -> None:
    with pytest.raises(PermissionDenied):
        tasks.add_task(ticket, by=agent_l2, title="Not mine")
    task = tasks.add_task(ticket, by=agent, title="Mine")
    with pytest.raises(PermissionDenied):
        tasks.update_task(task, by=agent_l2, status=T.DONE)
    task.refresh_from_db()
    assert task.status == T.OPEN and task.version == 1


def test_an_assignee_must_be_active_desk_staff_and_in_the_task_group(
    ticket: Ticket, agent: User, agent_l2: User, requester_b: User, triage: SupportGroup
) -> None:
    with pytest.raises(ValidationError) as exc:
        tasks.add_task(ticket, by=agent, title="Fix", assignee=requester_b)
    assert "assignee" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        tasks.add_task(ticket, by=agent, title="Fix", assignee=agent_l2, group=triage)
    assert "not a member" in exc.value.message_dict["assignee"][0]
    _nothing_written(ticket)


def test_a_due_day_in_the_past_is_refused(ticket: Ticket, agent: User) -> None:
    yesterday = tasks.today_for(agent) - timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        tasks.add_task(ticket, by=agent, title="Late", due_on=yesterday)
    assert "due_on" in exc.value.message_dict
    _nothing_written(ticket)


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_an_empty_or_overlong_title_is_refused(ticket: Ticket, agent: User, title: str) -> None:
    with pytest.raises(ValidationError):
        tasks.add_task(ticket, by=agent, title=title)
    _nothing_written(ticket)


def test_a_stale_version_changes_nothing(ticket: Ticket, agent: User) -> None:
    task = tasks.add_task(ticket, by=agent, title="Swap the disk")
    tasks.update_task(task, by=agent, expected_version=1, title="Swap the SSD")
    with pytest.raises(StaleVersion):
        tasks.update_task(task, by=agent, expected_version=1, status=T.DONE)
    task.refresh_from_db()
    assert (task.title, task.status, task.version) == ("Swap the SSD", T.OPEN, 2)


def test_a_bad_status_is_refused(ticket: Ticket, agent: User) -> None:
    task = tasks.add_task(ticket, by=agent, title="Check")
    with pytest.raises(ValidationError):
        tasks.update_task(task, by=agent, status="finished-ish")


def test_no_task_is_added_to_a_closed_ticket(ticket: Ticket, agent: User) -> None:
    ticket_services.transition_ticket(ticket, to="cancelled", by=agent)
    with pytest.raises(IllegalTransition):
        tasks.add_task(ticket, by=agent, title="Too late")
    _nothing_written(ticket)


# --- what is written ------------------------------------------------------------------------------------


def test_adding_and_finishing_a_task_is_internal_ticket_history(
    ticket: Ticket, agent: User, triage: SupportGroup
) -> None:
    due = tasks.today_for(agent) + timedelta(days=2)
    task = tasks.add_task(ticket, by=agent, title="Back up the mailbox", assignee=agent, group=triage, due_on=due)
    version = ticket.version
    done = tasks.update_task(task, by=agent, expected_version=1, status=T.DONE)
    assert done.status == T.DONE and done.done_at is not None and done.version == 2
    events = list(TicketEvent.objects.filter(ticket=ticket, kind=E.WORKTASK).order_by("id"))
    assert [event_sentence(e) for e in events] == [
        "added the task “Back up the mailbox”",
        "finished the task “Back up the mailbox”",
    ]
    assert all(e.is_internal for e in events)
    ticket.refresh_from_db()
    assert ticket.version == version  # a task ticked off never makes a colleague's reply stale


def test_my_open_tasks_lists_mine_soonest_first_and_not_done_ones(
    requester: User, agent: User, django_assert_max_num_queries: object
) -> None:
    today = tasks.today_for(agent)
    first, second = make_ticket(requester), make_ticket(requester)
    later = tasks.add_task(first, by=agent, title="Later", assignee=agent, due_on=today + timedelta(days=5))
    soon = tasks.add_task(second, by=agent, title="Soon", assignee=agent, due_on=today)
    undated = tasks.add_task(second, by=agent, title="Whenever", assignee=agent)
    finished = tasks.add_task(first, by=agent, title="Done", assignee=agent)
    tasks.update_task(finished, by=agent, status=T.DONE)
    with django_assert_max_num_queries(2):  # type: ignore[operator]
        mine = selectors.my_open_tasks(agent)
        titles = [(t.title, t.ticket.reference) for t in mine]
    assert [t for t, _ref in titles] == ["Soon", "Later", "Whenever"]
    page_two = selectors.my_open_tasks(agent, limit=2, after=(later.due_on, later.pk))
    assert [t.pk for t in page_two] == [undated.pk]
    assert soon.pk not in [t.pk for t in page_two]


def test_a_template_adds_its_tasks_with_due_days_from_today(
    ticket: Ticket, agent: User, admin_user: User, triage: SupportGroup
) -> None:
    with pytest.raises(PermissionDenied):
        templates.save_template(by=agent, name="Onboarding", items=[{"title": "Account"}])
    template = templates.save_template(
        by=admin_user,
        name="Onboarding",
        items=[
            {"title": "Create the account", "group": triage.pk, "mandatory": True, "due_in_days": 1},
            {"title": "Order a laptop", "due_in_days": ""},
        ],
    )
    added = tasks.add_template_tasks(ticket, template, by=agent)
    assert [(t.title, t.mandatory, t.group_id, t.position) for t in added] == [
        ("Create the account", True, triage.pk, 0),
        ("Order a laptop", False, None, 1),
    ]
    assert added[0].due_on == tasks.today_for(agent) + timedelta(days=1)
    sentence = event_sentence(TicketEvent.objects.filter(ticket=ticket, kind=E.WORKTASK).get())
    assert sentence == "added the tasks of the template “Onboarding” (2)"


def test_a_template_with_a_bad_item_is_refused_whole(admin_user: User) -> None:
    with pytest.raises(ValidationError) as exc:
        templates.save_template(by=admin_user, name="Broken", items=[{"title": "Fine"}, {"title": "", "group": 9}])
    assert "Task 2" in exc.value.message_dict["items"][0]
    assert not TaskTemplate.objects.exists()


# --- the guard --------------------------------------------------------------------------------------------


def test_a_ticket_cannot_be_resolved_while_a_mandatory_task_is_open(ticket: Ticket, agent: User) -> None:
    optional = tasks.add_task(ticket, by=agent, title="Tidy the cables")
    required = tasks.add_task(ticket, by=agent, title="Restore the backup", mandatory=True)
    with pytest.raises(IllegalTransition) as exc:
        ticket_services.transition_ticket(ticket, to="resolved", by=agent)
    assert "“Restore the backup”" in exc.value.message and "Tidy" not in exc.value.message
    ticket.refresh_from_db()
    assert ticket.status != "resolved" and ticket.resolved_at is None
    tasks.update_task(required, by=agent, status=T.DONE)
    resolved = ticket_services.transition_ticket(ticket, to="resolved", by=agent)
    assert resolved.status == "resolved"
    optional.refresh_from_db()
    assert optional.status == T.OPEN  # optional tasks never block


def test_a_cancelled_mandatory_task_no_longer_blocks(ticket: Ticket, agent: User) -> None:
    required = tasks.add_task(ticket, by=agent, title="Call the vendor", mandatory=True)
    tasks.update_task(required, by=agent, status=T.CANCELLED)
    assert ticket_services.transition_ticket(ticket, to="resolved", by=agent).status == "resolved"


def test_the_guard_also_holds_for_palier_itself(ticket: Ticket, agent: User) -> None:
    tasks.add_task(ticket, by=agent, title="Sign the form", mandatory=True)
    with pytest.raises(IllegalTransition):
        ticket_services.transition_ticket(ticket, to="resolved", by=None)


def test_ending_a_major_incident_leaves_a_ticket_with_a_mandatory_task_open(
    requester: User, requester_b: User, agent: User, manager: User
) -> None:
    """A guard refusing one attached ticket does not stop the major incident from ending."""
    from palier.problems import services as problem_services

    main = make_ticket(requester, kind="incident", subject="Mail down")
    blocked = make_ticket(requester_b, kind="incident", subject="No mail")
    tasks.add_task(blocked, by=agent, title="Confirm with the site", mandatory=True)
    major = problem_services.declare_major(main, by=manager, headline="Mail is down")
    problem_services.attach_incident(major, blocked, by=agent)
    major = problem_services.resolve_major(major, by=manager, message="Mail flows again.", resolve_attached=True)
    assert major.state == "resolved"
    blocked.refresh_from_db()
    assert blocked.status != "resolved"
    assert blocked.comments.filter(is_internal=False, body="Mail flows again.").exists()
