"""Services and selectors added for the agent workspace: bulk changes, saved filters, presence,
stale replies, several-group filters, capped counts and the requester's other tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from palier.lib.errors import NotFound, PermissionDenied, StaleVersion
from palier.people import selectors as people_selectors
from palier.people.models import SupportGroup, User
from palier.tickets import bulk, selectors, services
from palier.tickets.models import Comment, SavedFilter, TicketViewer
from palier.tickets.selectors import TicketFilters
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def test_bulk_applies_each_ticket_in_its_own_transaction(agent: User, requester: User, l2: SupportGroup) -> None:
    ok = make_ticket(requester, subject="ok")
    closed = make_ticket(requester, subject="closed")
    services.transition_ticket(closed, to="cancelled", by=agent)
    change = bulk.BulkChange(assignee=agent, status="in_progress", note="Taking these")
    outcomes = bulk.bulk_update_tickets([ok, closed], change=change, by=agent)
    assert [(o.ticket.pk, o.ok) for o in outcomes] == [(ok.pk, True), (closed.pk, False)]
    ok.refresh_from_db()
    closed.refresh_from_db()
    assert (ok.assignee, ok.status) == (agent, "in_progress")
    assert (closed.assignee, closed.status) == (None, "cancelled")
    assert Comment.objects.filter(ticket=ok, is_internal=True).count() == 1
    assert not Comment.objects.filter(ticket=closed).exists()  # the refused ticket got nothing


def test_bulk_rolls_back_a_ticket_when_a_later_step_fails(agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    with translation.override("en"):
        change = bulk.BulkChange(assignee=agent, status="closed")
        outcomes = bulk.bulk_update_tickets([ticket], change=change, by=agent)
    assert not outcomes[0].ok and "cannot go from “Assigned” to “Closed”" in outcomes[0].message
    ticket.refresh_from_db()
    assert ticket.assignee is None and ticket.version == 1


def test_bulk_needs_a_change(agent: User, requester: User) -> None:
    with pytest.raises(ValidationError):
        bulk.bulk_update_tickets([make_ticket(requester)], change=bulk.BulkChange(), by=agent)


def test_tickets_for_bulk_drops_what_the_agent_may_not_see(
    agent: User, agent_l2: User, requester: User, l2: SupportGroup
) -> None:
    mine = make_ticket(requester)
    hidden = make_ticket(requester, group=l2, by=agent_l2)
    assert selectors.tickets_for_bulk(agent, [hidden.pk, mine.pk, mine.pk]) == [mine]


def test_saved_filters_are_personal(agent: User, manager: User, requester: User) -> None:
    first = services.save_filter(user=agent, name="Urgent", query="?priority=1")
    second = services.save_filter(user=agent, name="Mine", query="assignee=me")
    again = services.save_filter(user=agent, name="Urgent", query="priority=2")
    assert again.pk == first.pk and again.query == "priority=2"
    assert [s.name for s in selectors.saved_filters_for(agent)] == ["Urgent", "Mine"]
    assert second.position > first.position
    assert selectors.saved_filters_for(manager) == []
    with pytest.raises(Exception, match="saved filter"):
        selectors.get_saved_filter_for(manager, first.pk)
    with pytest.raises(NotFound):
        services.delete_filter(first, by=manager)
    with pytest.raises(PermissionDenied):
        services.save_filter(user=requester, name="x", query="")
    with pytest.raises(ValidationError):
        services.save_filter(user=agent, name="  ", query="")
    services.delete_filter(first, by=agent)
    assert list(SavedFilter.objects.values_list("name", flat=True)) == ["Mine"]


def test_presence_upserts_and_expires(agent: User, manager: User, requester: User) -> None:
    ticket = make_ticket(requester)
    now = timezone.now()
    services.see_ticket(ticket, user=agent, now=now - timedelta(seconds=40))
    services.see_ticket(ticket, user=manager, now=now)
    assert selectors.other_viewers(ticket, agent, now=now) == [manager]
    assert selectors.other_viewers(ticket, manager, now=now) == []  # the agent was seen 40 s ago
    services.see_ticket(ticket, user=agent, now=now)
    assert TicketViewer.objects.count() == 2
    assert selectors.other_viewers(ticket, manager, now=now) == [agent]


def test_changed_by_since_names_the_others(agent: User, manager: User, requester: User) -> None:
    ticket = make_ticket(requester)
    since = timezone.now()
    services.comment_on_ticket(ticket, by=agent, body="me")
    assert selectors.changed_by_since(ticket, agent, since=since) == []
    services.comment_on_ticket(ticket, by=manager, body="someone else")
    assert selectors.changed_by_since(ticket, agent, since=since) == ["Nina Manager"]


def test_comment_with_a_stale_version_is_refused(agent: User, requester: User) -> None:
    ticket = make_ticket(requester)
    services.comment_on_ticket(ticket, by=agent, body="first", expected_version=1)
    with pytest.raises(StaleVersion):
        services.comment_on_ticket(ticket, by=agent, body="second", expected_version=1)
    services.comment_on_ticket(ticket, by=agent, body="second")  # None: no check, as before
    assert Comment.objects.count() == 2


def test_watchers_and_links_check_the_version(agent: User, requester: User, requester_b: User) -> None:
    ticket = make_ticket(requester)
    other = make_ticket(requester)
    with pytest.raises(StaleVersion):
        services.add_watcher(ticket, user=requester_b, by=agent, expected_version=7)
    with pytest.raises(StaleVersion):
        services.link_tickets(ticket, target=other, kind="related", by=agent, expected_version=7)
    services.add_watcher(ticket, user=requester_b, by=agent, expected_version=1)
    with pytest.raises(StaleVersion):
        services.remove_watcher(ticket, user=requester_b, by=agent, expected_version=1)
    assert not ticket.links_out.exists() and ticket.watchers.count() == 1


def test_filters_on_several_groups_and_capped_counts(
    agent: User, admin_user: User, agent_l2: User, requester: User, triage: SupportGroup, l2: SupportGroup
) -> None:
    for _ in range(3):
        make_ticket(requester)
    make_ticket(requester, group=l2, by=agent_l2)
    both = TicketFilters(groups=[triage.pk, l2.pk])
    assert len(selectors.ticket_page(admin_user, filters=both).items) == 4
    assert len(selectors.ticket_page(admin_user, filters=TicketFilters(groups=[l2.pk])).items) == 1
    assert selectors.ticket_page(admin_user, filters=TicketFilters(groups=[])).items == []
    assert selectors.ticket_count_capped(admin_user, filters=both, cap=2) == 2
    assert selectors.ticket_count_capped(agent, filters=both) == 3  # l2's ticket is not visible
    assert selectors.agent_group_ids(agent) == [triage.pk]


def test_requester_open_tickets_and_people(agent: User, requester: User, requester_b: User) -> None:
    ticket = make_ticket(requester)
    others = [make_ticket(requester) for _ in range(6)]
    make_ticket(requester_b)
    found = selectors.requester_open_tickets(agent, ticket)
    assert [t.pk for t in found] == [t.pk for t in reversed(others)][:5]
    assert [u.email for u in people_selectors.people_matching("martin alice")] == ["alice@acme.test"]
    assert people_selectors.people_matching("   ") == []
    assert selectors.person_by_email(" ALICE@acme.test ") == requester
