from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from palier.lib.errors import IllegalTransition, PermissionDenied, StaleVersion
from palier.tickets import services
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

S = Ticket.Status


def test_new_ticket_lands_in_triage_with_a_number_and_matrix_priority(requester, triage):
    ticket = make_ticket(requester, impact="high", urgency="medium")
    assert ticket.reference == f"INC-{ticket.number}"
    assert ticket.group == triage
    assert ticket.priority == 2
    assert ticket.status == S.NEW
    assert ticket.organisation == requester.organisation
    second = make_ticket(requester, kind="request")
    assert second.reference.startswith("REQ-")
    assert make_ticket(requester).number > ticket.number
    assert list(ticket.events.values_list("kind", flat=True)) == ["created"]


def test_empty_subject_is_rejected_and_nothing_is_created(requester):
    with pytest.raises(ValidationError) as err:
        make_ticket(requester, subject="   ")
    assert "subject" in err.value.message_dict
    assert Ticket.objects.count() == 0


def test_requester_cannot_open_for_someone_else(requester, requester_b):
    with pytest.raises(PermissionDenied):
        services.open_ticket(requester=requester_b, subject="x", by=requester)


def test_agent_changes_are_recorded_as_events_with_old_and_new(requester, agent, triage):
    ticket = make_ticket(requester)
    ticket = services.update_ticket(
        ticket,
        by=agent,
        expected_version=ticket.version,
        changes={"impact": "high", "urgency": "high", "assignee": agent},
    )
    assert ticket.priority == 1
    assert ticket.status == S.ASSIGNED
    changes = {
        e.data.get("field"): (e.data.get("old"), e.data.get("new"))
        for e in ticket.events.filter(kind=TicketEvent.Kind.CHANGED)
    }
    assert changes["priority"] == (4, 1)
    assert changes["assignee"] == (None, "Léa L1")
    assert ticket.events.filter(kind="status", data__new="assigned").exists()


def test_stale_version_changes_nothing(requester, agent):
    ticket = make_ticket(requester)
    services.update_ticket(ticket, by=agent, expected_version=1, changes={"subject": "Printer down"})
    with pytest.raises(StaleVersion):
        services.update_ticket(ticket, by=agent, expected_version=1, changes={"subject": "Other"})
    ticket.refresh_from_db()
    assert ticket.subject == "Printer down"
    assert ticket.version == 2


def test_illegal_transition_is_refused_with_a_clear_message(requester, agent):
    ticket = make_ticket(requester)
    services.transition_ticket(ticket, to=S.RESOLVED, by=agent)
    services.transition_ticket(ticket, to=S.CLOSED, by=agent)
    with pytest.raises(IllegalTransition) as err:
        services.transition_ticket(ticket, to=S.IN_PROGRESS, by=agent)
    assert "Closed" in err.value.message or "Clôturé" in err.value.message or "closed" in err.value.message.lower()


def test_requester_reopens_within_window_but_not_after(requester, agent, settings):
    settings.PALIER_REOPEN_DAYS = 7
    ticket = make_ticket(requester)
    services.transition_ticket(ticket, to=S.RESOLVED, by=agent)
    ticket = services.transition_ticket(ticket, to=S.IN_PROGRESS, by=requester)
    assert ticket.status == S.IN_PROGRESS and ticket.resolved_at is None
    services.transition_ticket(ticket, to=S.RESOLVED, by=agent)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=8))
    with pytest.raises(IllegalTransition):
        services.transition_ticket(ticket, to=S.IN_PROGRESS, by=requester)
    assert services.close_resolved_tickets() == 1
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    assert services.close_resolved_tickets() == 0


def test_requester_cannot_resolve_but_can_withdraw(requester):
    ticket = make_ticket(requester)
    with pytest.raises(IllegalTransition):
        services.transition_ticket(ticket, to=S.RESOLVED, by=requester)
    ticket = services.transition_ticket(ticket, to=S.CANCELLED, by=requester)
    assert ticket.closed_at is not None


def test_first_public_agent_reply_sets_first_response_and_notes_do_not(requester, agent):
    ticket = make_ticket(requester)
    services.comment_on_ticket(ticket, by=agent, body="Vu, je regarde.", internal=True)
    ticket.refresh_from_db()
    assert ticket.first_response_at is None
    services.comment_on_ticket(ticket, by=agent, body="Pouvez-vous redémarrer ?")
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


def test_requester_reply_resumes_pending_ticket(requester, agent):
    ticket = make_ticket(requester)
    services.transition_ticket(ticket, to=S.PENDING_REQUESTER, by=agent)
    services.comment_on_ticket(ticket, by=requester, body="C'est fait.")
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS


def test_requester_cannot_write_internal_notes(requester):
    ticket = make_ticket(requester)
    with pytest.raises(PermissionDenied):
        services.comment_on_ticket(ticket, by=requester, body="x", internal=True)
    assert ticket.comments.count() == 0


def test_assignee_must_belong_to_the_group(requester, agent, agent_l2, triage):
    ticket = make_ticket(requester)
    with pytest.raises(ValidationError):
        services.update_ticket(ticket, by=agent, expected_version=None, changes={"assignee": agent_l2})


def test_moving_to_another_group_releases_the_assignee(requester, agent, l2):
    ticket = make_ticket(requester)
    ticket = services.update_ticket(ticket, by=agent, expected_version=None, changes={"assignee": agent})
    ticket = services.update_ticket(ticket, by=agent, expected_version=None, changes={"group": l2})
    assert ticket.assignee is None
    assert ticket.status == S.NEW


def test_changing_type_renumbers(requester, agent):
    ticket = make_ticket(requester)
    request = make_ticket(requester, kind="request")
    ticket = services.update_ticket(ticket, by=agent, expected_version=None, changes={"kind": "request"})
    assert ticket.reference.startswith("REQ-") and ticket.number > request.number


def test_links_and_watchers_leave_history(requester, requester_b, agent):
    a = make_ticket(requester)
    b = make_ticket(requester)
    services.link_tickets(a, target=b, kind="duplicate", by=agent)
    services.add_watcher(a, user=requester_b, by=agent)
    assert a.events.filter(kind="linked").exists() and b.events.filter(kind="linked").exists()
    assert a.events.filter(kind="watched").exists()
    with pytest.raises(ValidationError):
        services.link_tickets(a, target=a, kind="related", by=agent)
