"""An escalation tells each person once in the application: routing notifies the new group's
manager, the consumer the group's members; a manager who is also a member gets one row."""

from __future__ import annotations

import pytest

from palier.notifications.consumer import handle_events
from palier.notifications.models import Notification
from palier.people import services as people
from palier.people.models import SupportGroup, User
from palier.routing.services import escalation
from palier.tickets import stream
from palier.tickets.models import Ticket, TicketEvent
from palier.tickets.tests.builders import make_ticket

pytestmark = pytest.mark.django_db


def pump() -> None:
    stream.pump("notifications")


def rows(user: User, ticket: Ticket) -> int:
    return Notification.objects.filter(recipient=user, ticket=ticket).count()


def _manager(email: str, group: SupportGroup, *, member: bool) -> User:
    user = people.create_user(email=email, role=User.Role.MANAGER, password="pw-mgr-123!")
    group.manager = user
    group.save(update_fields=["manager"])
    if member:
        people.add_group_member(group, user=user)
    return user


@pytest.fixture
def ticket(requester: User, agent: User) -> Ticket:
    ticket = make_ticket(requester)
    pump()
    return Ticket.objects.get(pk=ticket.pk)


def test_a_manager_who_is_a_member_gets_one_row_like_a_plain_member(
    ticket: Ticket, agent: User, agent_l2: User, l2: SupportGroup
) -> None:
    lead = _manager("lead@desk.test", l2, member=True)
    escalation.escalate(ticket, by=agent, reason="Network", to_group=l2)
    pump()
    assert rows(lead, ticket) == 1
    assert rows(agent_l2, ticket) == 1
    assert Notification.objects.get(recipient=lead).kind == Notification.Kind.ESCALATED
    # a crash replay of the stream adds nothing either
    handle_events(list(TicketEvent.objects.filter(ticket=ticket).order_by("pk")))
    assert rows(lead, ticket) == 1 and rows(agent_l2, ticket) == 1


def test_a_manager_who_is_not_a_member_gets_one_row(
    ticket: Ticket, agent: User, agent_l2: User, l2: SupportGroup
) -> None:
    boss = _manager("boss@desk.test", l2, member=False)
    escalation.escalate(ticket, by=agent, reason="Network", to_group=l2)
    pump()
    assert rows(boss, ticket) == 1
    assert rows(agent_l2, ticket) == 1
